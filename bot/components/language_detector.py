"""Rasa graph component that decides each turn's language and stores it on the message.

Every downstream part (classifier, knowledge base, NLG, review console) reads the language
from the message or from the `language` slot; nobody detects it again. A turn that is clear
enough emits a `language` entity, which fills the slot through its `from_entity` mapping; a
turn with too little evidence ("ok", "10045", "👍") emits none, so the slot keeps the
conversation's language. A turn clearly written in a language the bot does not speak
emits none either and is marked `language_supported: false`, so the dialogue can say which
languages the bot speaks (see UnsupportedLanguageClassifier) without losing the
conversation's language.

The message properties it writes, and the channel hint it reads, are in bot/message_keys.py.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.codes import DEMO_LANGUAGES
from bot.language.detectors import lingua_languages
from bot.language.identifier import KNOWN_DETECTORS, IdentifierSettings, LanguageGuess, LanguageIdentifier
from bot.message_keys import (
    LANGUAGE,
    LANGUAGE_CONFIDENCE,
    LANGUAGE_DETECTED,
    LANGUAGE_METHOD,
    LANGUAGE_SUPPORTED,
    METADATA,
    SUPPORTED_LANGUAGES,
    channel_language_hint,
)

logger = logging.getLogger(__name__)

_DEFAULTS = IdentifierSettings()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Puts the turn's language, confidence and decision method on each message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # ISO 639-1 codes the bot speaks; detection only chooses among these.
            "supported_languages": list(DEMO_LANGUAGES),
            # Language of a conversation before any turn or channel hint decides one.
            "default_language": "en",
            # Evidence sources, any of: lexicon (common chat words), script (writing
            # systems), lingua (statistical model), langdetect (second opinion before a
            # turn is called unsupported), word_frequency (how often each language uses
            # the words; wordfreq's lists).
            "detectors": list(_DEFAULTS.detectors),
            # The model's confidence a turn needs to set or switch the language...
            "min_confidence": _DEFAULTS.min_confidence,
            # ...and its lead over the runner-up; closer candidates are a tie a hint breaks.
            "min_margin": _DEFAULTS.min_margin,
            # lingua's trigram-only mode: faster and smaller, worse on a word or two.
            "lingua_low_accuracy": _DEFAULTS.lingua_low_accuracy,
            # Turns of at most this many words, all common chat words, use the lexicon alone.
            "lexicon_max_words": _DEFAULTS.lexicon_max_words,
            # How much each common chat word counts for its languages in longer turns.
            "lexicon_weight": _DEFAULTS.lexicon_weight,
            # Exponent of the word-frequency evidence in Latin-script turns (0 = unused).
            "word_frequency_weight": _DEFAULTS.word_frequency_weight,
            # ...and in a turn of a single word, where the letters say the least.
            "single_word_frequency_weight": _DEFAULTS.single_word_frequency_weight,
            # Recognise turns written in a language the bot does not speak.
            "detect_unsupported": _DEFAULTS.detect_unsupported,
            # Only turns with this many words...
            "unsupported_min_words": _DEFAULTS.unsupported_min_words,
            # ...and letters can be called unsupported...
            "unsupported_min_letters": _DEFAULTS.unsupported_min_letters,
            # ...when lingua over all languages is at least this sure (and langdetect agrees).
            "unsupported_min_confidence": _DEFAULTS.unsupported_min_confidence,
            # Load the models when the bot starts rather than on the first turn.
            "preload": True,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the configuration and prepares the identifier."""
        self._validate(config)
        self.supported_languages: list[str] = list(config["supported_languages"])
        self.default_language: str = config["default_language"]
        settings = IdentifierSettings(
            detectors=tuple(config["detectors"]),
            min_confidence=float(config["min_confidence"]),
            min_margin=float(config["min_margin"]),
            lingua_low_accuracy=bool(config["lingua_low_accuracy"]),
            lexicon_max_words=int(config["lexicon_max_words"]),
            lexicon_weight=float(config["lexicon_weight"]),
            word_frequency_weight=float(config["word_frequency_weight"]),
            single_word_frequency_weight=float(config["single_word_frequency_weight"]),
            detect_unsupported=bool(config["detect_unsupported"]),
            unsupported_min_words=int(config["unsupported_min_words"]),
            unsupported_min_letters=int(config["unsupported_min_letters"]),
            unsupported_min_confidence=float(config["unsupported_min_confidence"]),
        )
        self.identifier = LanguageIdentifier(self.supported_languages, settings)
        if config["preload"]:
            self.identifier.preload()

    @staticmethod
    def _validate(config: dict[str, Any]) -> None:
        supported = config.get("supported_languages")
        if not isinstance(supported, list) or not supported:
            raise ValueError(
                f"LanguageDetector: 'supported_languages' must be a non-empty list of "
                f"ISO 639-1 codes, got {supported!r}. Example: [en, de, ko]."
            )
        bad = [code for code in supported if not (isinstance(code, str) and len(code) == 2)]
        if bad:
            raise ValueError(
                f"LanguageDetector: 'supported_languages' has entries that are not ISO 639-1 two-letter codes: {bad!r}."
            )
        unknown = sorted(set(supported) - set(lingua_languages()))
        if unknown:
            raise ValueError(
                f"LanguageDetector: 'supported_languages' has {unknown}, which the language "
                f"models do not know. Known codes: {', '.join(lingua_languages())}."
            )
        if config.get("default_language") not in supported:
            raise ValueError(
                f"LanguageDetector: 'default_language' is {config.get('default_language')!r}, "
                f"which is not one of 'supported_languages' {supported}."
            )
        detectors = config.get("detectors")
        if not isinstance(detectors, list) or not detectors or set(detectors) - set(KNOWN_DETECTORS):
            raise ValueError(
                f"LanguageDetector: 'detectors' is {detectors!r}; use a non-empty list of {list(KNOWN_DETECTORS)}."
            )
        if "lingua" not in detectors and "langdetect" not in detectors:
            raise ValueError(
                f"LanguageDetector: 'detectors' {detectors} has no statistical model; add "
                f"'lingua' (recommended) or 'langdetect'."
            )
        for key in ("min_confidence", "min_margin", "unsupported_min_confidence"):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"LanguageDetector: '{key}' must be a number in [0, 1], got {value!r}.")
        for key in ("lexicon_max_words", "unsupported_min_words", "unsupported_min_letters"):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"LanguageDetector: '{key}' must be a whole number >= 0, got {value!r}.")
        for key in ("lexicon_weight", "word_frequency_weight", "single_word_frequency_weight"):
            value = config.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"LanguageDetector: '{key}' must be a number >= 0, got {value!r}.")
        for key in ("lingua_low_accuracy", "detect_unsupported", "preload"):
            if not isinstance(config.get(key), bool):
                raise ValueError(f"LanguageDetector: '{key}' must be true or false, got {config.get(key)!r}.")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples carry their language already; nothing to detect."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
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
        message.set(LANGUAGE_SUPPORTED, guess.supported, add_to_output=True)
        message.set(LANGUAGE_DETECTED, guess.detected, add_to_output=True)
        logger.debug(f"LanguageDetector: {guess}")
        if not guess.supported:
            # What the reply to an unsupported turn lists as the languages to write in.
            message.set(SUPPORTED_LANGUAGES, list(self.supported_languages), add_to_output=True)
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
