"""Running the bot: the Rasa server, the action server and the chat page as processes."""
