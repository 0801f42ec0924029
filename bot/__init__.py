"""Bridge: a multilingual customer-service chatbot framework built on Rasa."""

__version__ = "0.1.0"
