"""Natural language generation: bot responses in the customer's language."""
