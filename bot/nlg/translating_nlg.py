"""Rasa custom NLG that answers in the customer's language.

Responses are written once per language as Rasa conditional variations on the `language`
slot. For every bot message this NLG resolves the conversation's language (the slot set by
LanguageDetector; before any turn decided one, the channel's language hint; otherwise the
default), then takes the first of:

1. authored: the response's variant conditioned on that language;
2. memory: the translation memory's entry for the text (an agent's correction wins);
3. mt:<backend>: a machine translation (direct, or through English);
4. fallback: the text in the pivot language followed by `utter_translation_notice` in the
   customer's language.

Paths 2-4 start from the response's source text: its variant in the source language or its
unconditioned variant, with placeholders filled. A text filled in by an action comes with
its language: the knowledge-base action sends

    dispatcher.utter_message(response="utter_knowledge_base_answer", answer=<text>,
                             answer_language="en", answer_id=<id>, score=<float>)

and the response's single variant `text: "{answer}"` is then translated from
`answer_language`; `answer_id` and `score` are copied into the message.

A response filled from a slot names the slot holding its text's language in its metadata, and
may name its own notice for the fallback path (the live hand-off's agent message does both):

    utter_agent_message:
    - text: "{handoff_agent_text}"
      metadata: {text_language_slot: handoff_agent_language,
                 untranslated_notice: utter_agent_untranslated_notice}

Each message records `language` (the customer's), `source_language`, `translation` (the
path) and, when translated, `original_text`; Rasa stores these in the bot event's metadata.

Configured in endpoints.yml:

    nlg:
      type: bot.nlg.translating_nlg.TranslatingNLG
      default_language: en   # optional
      source_language: en    # optional: the language every response is written in
      translation:           # optional: memory and MT backends (see bot/translation/pipeline.py),
        ...                  # inline or the path of a YAML file; without it: authored or fallback
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from rasa.core.nlg import interpolator
from rasa.core.nlg.generator import ResponseVariationFilter
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.message_keys import LANGUAGE, channel_language_hint
from bot.translation.pipeline import PATH_AUTHORED, PATH_FALLBACK, Translation, TranslationPipeline

logger = logging.getLogger(__name__)

TRANSLATION_NOTICE = "utter_translation_notice"
# Parts of a response whose {placeholders} are filled from slots and action arguments.
FILLED_KEYS = ("text", "image", "custom", "buttons", "attachment", "quick_replies")
# Arguments an action passes along with a filled text (the knowledge-base contract).
TEXT_LANGUAGE_ARGUMENT = "answer_language"
COPIED_ARGUMENTS = ("answer_id", "score")
SETTINGS_KEYS = {"default_language", "source_language", "translation"}
# Keys of a response's `metadata` read here (see the module docstring).
TEXT_LANGUAGE_SLOT = "text_language_slot"
UNTRANSLATED_NOTICE = "untranslated_notice"


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
    loads (`self.responses`), exactly as it does for its own templated NLG. The translation
    pipeline (memory, models) is built here, so a missing model folder stops the server at
    start-up rather than a conversation later.
    """

    def __init__(self, endpoint_config: EndpointConfig | None, domain: Domain, **kwargs: Any) -> None:
        """Reads the responses from the domain and the language settings from endpoints.yml."""
        settings = (endpoint_config.kwargs if endpoint_config else {}) or {}
        unknown = sorted(set(settings) - SETTINGS_KEYS)
        if unknown:
            logger.warning(
                f"TranslatingNLG: ignoring unknown nlg setting(s) {unknown}; known: {sorted(SETTINGS_KEYS)}."
            )
        self.default_language: str = settings.get("default_language", "en")
        self.source_language: str = settings.get("source_language", "en")
        translation = settings.get("translation")
        self.pipeline: TranslationPipeline | None = (
            TranslationPipeline.from_settings(translation) if translation is not None else None
        )
        super().__init__(domain.responses if domain else {})

    def _variant(
        self, utter_action: str, language: str, filled_slots: dict[str, Any], output_channel: str
    ) -> dict[str, Any] | None:
        """The authored variant of `utter_action` in `language`, if one exists.

        For the source language an unconditioned variant counts as authored in it.
        """
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
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Generates `utter_action` in the conversation's language (see module docstring)."""
        if utter_action not in self.responses:
            return None
        language = resolve_language(tracker, self.default_language)
        filled_slots = tracker.current_slot_values()
        values = {**filled_slots, **kwargs}
        response_metadata = self._response_metadata(utter_action)
        if TEXT_LANGUAGE_ARGUMENT not in kwargs and filled_slots.get(response_metadata.get(TEXT_LANGUAGE_SLOT)):
            kwargs = {**kwargs, TEXT_LANGUAGE_ARGUMENT: filled_slots[response_metadata[TEXT_LANGUAGE_SLOT]]}
        text_language = kwargs.get(TEXT_LANGUAGE_ARGUMENT) or self.source_language

        response = None
        if language != text_language or TEXT_LANGUAGE_ARGUMENT not in kwargs:
            response = self._variant(utter_action, language, filled_slots, output_channel)
            if response is not None and self._is_unconditioned(response) and language != text_language:
                response = None  # an unconditioned variant is in the text's language, not the customer's
        if response is not None:
            response = self._filled(response, values)
            translation = Translation(response.get("text", ""), PATH_AUTHORED, language, language)
        else:
            source = self._variant(utter_action, self.source_language, filled_slots, output_channel)
            if source is None:
                logger.error(
                    f"TranslatingNLG: response '{utter_action}' has no variant in '{language}' nor "
                    f"in the source language '{self.source_language}'. Add one to the domain."
                )
                return None
            response = self._filled(source, values)
            translation = await self._translate_response(response, text_language, language)
            if translation.path == PATH_FALLBACK:
                notice = response_metadata.get(UNTRANSLATED_NOTICE) or TRANSLATION_NOTICE
                self._add_notice(response, language, filled_slots, output_channel, notice)

        response["language"] = language
        response["source_language"] = translation.source_language
        response["translation"] = translation.path
        if translation.cached:
            response["translation_cached"] = True
        for key in COPIED_ARGUMENTS:
            if key in kwargs:
                response[key] = kwargs[key]
        return response

    def _response_metadata(self, utter_action: str) -> dict[str, Any]:
        """The `metadata` of the response's first variant that has one (Rasa passes it along)."""
        for variant in self.responses.get(utter_action) or []:
            if isinstance(variant.get("metadata"), dict):
                return variant["metadata"]
        return {}

    @staticmethod
    def _is_unconditioned(response: dict[str, Any]) -> bool:
        return not any(c.get("name") == LANGUAGE for c in response.get("condition") or [])

    @staticmethod
    def _filled(response: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        response.pop("condition", None)
        for key in FILLED_KEYS:
            if key in response:
                response[key] = interpolator.interpolate(response[key], values)
        return response

    async def _translate_response(self, response: dict[str, Any], source: str, target: str) -> Translation:
        """Translates the text and button titles in place; returns how the text was produced."""
        text = response.get("text") or ""
        if self.pipeline is None or source == target:
            path = PATH_AUTHORED if source == target else PATH_FALLBACK
            return Translation(text, path, source, source)
        titles = [b for b in response.get("buttons") or [] if isinstance(b, dict) and b.get("title")]
        texts = [text, *(b["title"] for b in titles)]
        remembered = [self.pipeline.remembered(t, source, target) for t in texts]
        if all(remembered):
            results: list[Translation] = remembered
        else:
            # Off the event loop: a model takes tens of milliseconds and the server keeps serving.
            loop = asyncio.get_running_loop()
            results = await loop.run_in_executor(
                None, lambda: [r or self.pipeline.translate(t, source, target) for t, r in zip(texts, remembered)]
            )
        if text and results[0].text != text:
            response["original_text"] = text
        response["text"] = results[0].text
        if not text:
            response.pop("text")
        for button, result in zip(titles, results[1:]):
            button["title"] = result.text
        return results[0]

    def _add_notice(
        self,
        response: dict[str, Any],
        language: str,
        filled_slots: dict[str, Any],
        output_channel: str,
        notice_response: str = TRANSLATION_NOTICE,
    ) -> None:
        """Appends the short notice, in the customer's language, that the text is not."""
        notice = self._variant(notice_response, language, filled_slots, output_channel)
        if notice and response.get("text"):
            response["text"] = f"{response['text']}\n{notice['text']}"
