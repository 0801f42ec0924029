"""Bridge's own rasa-sdk actions: the replies its NLU components decide on.

KnowledgeBaseRetriever sets `knowledge_base_question` and UnsupportedLanguageClassifier
sets `unsupported_language`; these actions send what those turns need. They are part of
the framework as those components are, so every project's action server registers them
by importing this package from its own `actions` package:

    from bot.actions import ActionAnswerFromKnowledgeBase, ActionReplyUnsupportedLanguage  # noqa: F401

(rasa-sdk registers every Action subclass imported by the package it serves.)
"""

from bot.actions.knowledge_base import ActionAnswerFromKnowledgeBase
from bot.actions.language import ActionReplyUnsupportedLanguage

__all__ = ["ActionAnswerFromKnowledgeBase", "ActionReplyUnsupportedLanguage"]
