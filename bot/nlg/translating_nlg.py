"""Rasa custom NLG that answers in the customer's language.

Responses are written once per language as Rasa conditional variations on the `language`
slot. For every bot message this NLG resolves the conversation's language (the slot set by
LanguageDetector; before any turn decided one, the channel's language hint; otherwise the
default), picks the authored variant in that language, and otherwise falls back to the
source-language text followed by a short authored notice in the customer's language.
Each message records which language it was sent in and which path produced it.

Configured in endpoints.yml:

    nlg:
      type: bot.nlg.translating_nlg.TranslatingNLG
      default_language: en   # optional
      source_language: en    # optional: the language every response is written in
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.core.nlg import interpolator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.components.language_detector import LANGUAGE, channel_language_hint

logger = logging.getLogger(__name__)

TRANSLATION_NOTICE = "utter_translation_notice"
PATH_AUTHORED = "authored"
PATH_FALLBACK = "fallback"
# Parts of a response whose {placeholders} are filled from slots and action arguments.
FILLED_KEYS = ("text", "image", "custom", "buttons", "attachment", "quick_replies")


def resolve_language(tracker: DialogueStateTracker, default_language: str) -> str:
    """The conversation's language: the slot, else the latest channel hint, else the default."""
    language = tracker.get_slot(LANGUAGE)
    if language:
        return language
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            hint = channel_language_hint(event.metadata)
            if hint:
                return hint
    return default_language


class TranslatingNLG(TemplatedNaturalLanguageGenerator):
    """Generates each bot message in the conversation's language.

    It is a response-based NLG, so Rasa's agent hands it the responses of every model it
    loads (`self.responses`), exactly as it does for its own templated NLG.
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig], domain: Domain, **kwargs: Any) -> None:
        """Reads the responses from the domain and the language settings from endpoints.yml."""
        settings = (endpoint_config.kwargs if endpoint_config else {}) or {}
        self.default_language: str = settings.get("default_language", "en")
        self.source_language: str = settings.get("source_language", "en")
        super().__init__(domain.responses if domain else {})

    def _variant(
        self, utter_action: Text, language: str, filled_slots: Dict[Text, Any], output_channel: Text
    ) -> Optional[Dict[Text, Any]]:
        """The authored variant of `utter_action` in `language`, if one exists."""
        slots = {**filled_slots, LANGUAGE: language}
        candidates = ResponseVariationFilter(self.responses).responses_for_utter_action(
            utter_action, output_channel, slots
        )
        in_language = [
            response
            for response in candidates
            if any(c.get("name") == LANGUAGE and c.get("value") == language for c in response.get("condition") or [])
        ]
        chosen = in_language or (candidates if language == self.source_language else [])
        return copy.deepcopy(chosen[0]) if chosen else None

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        """Generates `utter_action` in the conversation's language (see module docstring)."""
        if utter_action not in self.responses:
            return None
        language = resolve_language(tracker, self.default_language)
        filled_slots = tracker.current_slot_values()
        response = self._variant(utter_action, language, filled_slots, output_channel)
        path = PATH_AUTHORED
        if response is None:
            response = self._fallback(utter_action, language, filled_slots, output_channel)
            path = PATH_FALLBACK
        if response is None:
            logger.error(
                f"TranslatingNLG: response '{utter_action}' has no variant in '{language}' nor "
                f"in the source language '{self.source_language}'. Add one to the domain."
            )
            return None
        response.pop("condition", None)
        values = {**filled_slots, **kwargs}
        for key in FILLED_KEYS:
            if key in response:
                response[key] = interpolator.interpolate(response[key], values)
        response["language"] = language
        response["translation"] = path
        return response

    def _fallback(
        self, utter_action: Text, language: str, filled_slots: Dict[Text, Any], output_channel: Text
    ) -> Optional[Dict[Text, Any]]:
        """The source-language variant, followed by the notice in the customer's language."""
        response = self._variant(utter_action, self.source_language, filled_slots, output_channel)
        if response is None:
            return None
        notice = self._variant(TRANSLATION_NOTICE, language, filled_slots, output_channel)
        if notice and response.get("text"):
            response["text"] = f"{response['text']}\n{notice['text']}"
        return response
