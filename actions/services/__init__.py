"""Clients of the shop's back-office data that the actions use; no Rasa code here."""
