"""Custom actions of the demo support bot (Cobalt Shop), served by the rasa-sdk action server.

The knowledge-base answer and the unsupported-language reply are Bridge's own actions;
importing them here registers them with this action server, as in every Bridge project.
"""

from bot.actions import ActionAnswerFromKnowledgeBase, ActionReplyUnsupportedLanguage  # noqa: F401
