"""Rasa graph component that decides each turn's language and stores it on the message.

Every downstream part (classifier, knowledge base, NLG, review console) reads the language
from the message or from the `language` slot; nobody detects it again. A turn that is clear
enough emits a `language` entity, which fills the slot through its `from_entity` mapping; a
turn with too little evidence ("ok", "10045", "👍") emits none, so the slot keeps the
conversation's language.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.codes import DEMO_LANGUAGES
from bot.language.identifier import LanguageGuess, LanguageIdentifier

logger = logging.getLogger(__name__)

LANGUAGE = "language"
LANGUAGE_CONFIDENCE = "language_confidence"
LANGUAGE_METHOD = "language_method"
METADATA = "metadata"


def channel_language_hint(metadata: Optional[Dict[Text, Any]]) -> Optional[str]:
    """The language a channel reports for the customer (`metadata.language`), if any.

    Telegram-style regional codes such as "pt-BR" are reduced to ISO 639-1 ("pt").
    """
    if not isinstance(metadata, dict):
        return None
    hint = metadata.get(LANGUAGE)
    if not isinstance(hint, str) or not hint.strip():
        return None
    return hint.strip().replace("_", "-").split("-")[0].lower()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Puts the turn's language, confidence and decision method on each message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # ISO 639-1 codes the bot speaks; detection only chooses among these.
            "supported_languages": list(DEMO_LANGUAGES),
            # Language of a conversation before any turn or channel hint decides one.
            "default_language": "en",
            # A statistical guess at or above this confidence decides the turn.
            "min_confidence": 0.5,
            # ...and so does a guess this far ahead of the runner-up.
            "min_margin": 0.15,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Checks the configuration and prepares the identifier (models load lazily)."""
        self._validate(config)
        self.supported_languages: List[str] = list(config["supported_languages"])
        self.default_language: str = config["default_language"]
        self.identifier = LanguageIdentifier(
            self.supported_languages, config["min_confidence"], config["min_margin"]
        )

    @staticmethod
    def _validate(config: Dict[Text, Any]) -> None:
        supported = config.get("supported_languages")
        if not isinstance(supported, list) or not supported:
            raise ValueError(
                f"LanguageDetector: 'supported_languages' must be a non-empty list of "
                f"ISO 639-1 codes, got {supported!r}. Example: [en, de, ko]."
            )
        bad = [code for code in supported if not (isinstance(code, str) and len(code) == 2)]
        if bad:
            raise ValueError(
                f"LanguageDetector: 'supported_languages' has entries that are not ISO 639-1 "
                f"two-letter codes: {bad!r}."
            )
        if config.get("default_language") not in supported:
            raise ValueError(
                f"LanguageDetector: 'default_language' is {config.get('default_language')!r}, "
                f"which is not one of 'supported_languages' {supported}."
            )
        for key in ("min_confidence", "min_margin"):
            value = config.get(key)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"LanguageDetector: '{key}' must be a number in [0, 1], got {value!r}.")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples carry their language already; nothing to detect."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Decides the language of each message and records how it was decided."""
        for message in messages:
            hint = channel_language_hint(message.get(METADATA))
            if hint is not None and hint not in self.supported_languages:
                hint = None
            guess = self.identifier.identify(message.get(TEXT) or "", hint)
            self._annotate(message, guess)
        return messages

    def _annotate(self, message: Message, guess: LanguageGuess) -> None:
        message.set(LANGUAGE, guess.language, add_to_output=True)
        message.set(LANGUAGE_CONFIDENCE, round(guess.confidence, 4), add_to_output=True)
        message.set(LANGUAGE_METHOD, guess.method, add_to_output=True)
        logger.debug(f"LanguageDetector: {guess}")
        if guess.decided:
            entity = {
                "entity": LANGUAGE,
                "value": guess.language,
                "start": 0,
                "end": len(message.get(TEXT) or ""),
                "confidence_entity": round(guess.confidence, 4),
            }
            entities = self.add_extractor_name([entity])
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
