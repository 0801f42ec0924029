"""Bridge's Rasa graph components: one module per component, named after its job."""
