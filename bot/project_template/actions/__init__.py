"""Custom actions of this bot, served by the rasa-sdk action server (`bridge run` starts it).

Bridge's own actions (the knowledge-base answer, the reply to an unsupported language) are
registered by importing them here. Add your actions as modules of this package: rasa-sdk
registers every `Action` subclass they define.
"""

from bot.actions import ActionAnswerFromKnowledgeBase, ActionReplyUnsupportedLanguage  # noqa: F401
