"""Input channels: where customers' messages enter the Rasa server."""
