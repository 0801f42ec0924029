"""Language identification: deciding which language a customer's turn is written in."""
