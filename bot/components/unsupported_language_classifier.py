"""Rasa graph component: a turn in a language the bot does not speak gets its own intent.

The intent classifier has no idea a Polish or Swahili turn is unreadable to the bot and
returns some intent anyway; answering that would be a guess in the wrong language. This
component runs after the classifiers, like Rasa's FallbackClassifier, and replaces the
intent of every turn the LanguageDetector marked `language_supported: false` with
`unsupported_language`. A rule answers it with the languages the bot speaks, and since the
turn set no language, the answer comes in the conversation's language (else the default).

config.yml, after the intent classifier and FallbackClassifier:

    - name: bot.components.unsupported_language_classifier.UnsupportedLanguageClassifier
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.message_keys import LANGUAGE_SUPPORTED


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnsupportedLanguageClassifier(GraphComponent):
    """Sets the `unsupported_language` intent on turns in a language the bot does not speak."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # The intent given to such turns; it must be in the domain with a rule for it.
            "intent": "unsupported_language",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the configuration."""
        intent = config.get("intent")
        if not isinstance(intent, str) or not intent.strip():
            raise ValueError(
                f"UnsupportedLanguageClassifier: 'intent' must be an intent name, got {intent!r}. "
                f"Default: unsupported_language."
            )
        self.intent = intent

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnsupportedLanguageClassifier:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Replaces the intent of unsupported-language turns; other turns pass untouched."""
        for message in messages:
            if message.get(LANGUAGE_SUPPORTED) is not False:
                continue
            intent = {"name": self.intent, "confidence": 1.0}
            # The classifier's ranking stays below, for the transcript.
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *(message.get(INTENT_RANKING_KEY) or [])], add_to_output=True)
        return messages
