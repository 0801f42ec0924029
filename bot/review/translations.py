"""Translation in the console: customers' texts in the agent's language, and agents' corrections
of the translated replies customers got.

Both go through the bot's own translation settings (endpoints.yml `nlg` -> `translation`):

- a customer's text is translated for the agent by the bot's TranslationPipeline (translation
  memory first, then a backend for the pair, directly or through the pivot language). Results
  are kept in this process's memory, so opening a conversation again costs no engine call.
  Without a backend for the pair the agent reads "no translation backend for ko->en";
- a corrected reply goes into the bot's translation memory as an agent's entry for the
  reply's source text (its protected spans checked), which wins over machine translation:
  the next customer who gets that reply gets the corrected text.

The pipeline loads its models on first use, not when the console starts, so a console whose
agents all read the customers' languages never loads one. The models are loaded and run on one
long-lived thread of the console's own: the web server's worker threads come and go, and the
native engines crashed when they were called from a new thread after an earlier one had ended.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.review.database import events
from bot.review.transcript import BotTurn, reply_route
from bot.translation.base import TranslationConfigError
from bot.translation.memory import HUMAN, MemoryEntry, TranslationMemory
from bot.translation.pipeline import (
    MT_PREFIX,
    PATH_FALLBACK,
    PATH_MEMORY,
    TranslationPipeline,
    memory_from_settings,
    protector_from_settings,
)

logger = logging.getLogger(__name__)

# Distinct customer texts whose translation the console keeps; a few megabytes at most.
CACHE_SIZE = 20_000
MAX_CORRECTION_CHARS = 5_000


class TranslationCorrectionError(ValueError):
    """A translation correction that cannot be stored; the message says what to change."""


@dataclass(frozen=True)
class AgentText:
    """A customer's text as the agent reads it.

    `text` is None when there is no translation; `note` then says why.
    """

    source_language: str
    target_language: str
    text: str | None
    route: str | None
    note: str | None = None


@dataclass(frozen=True)
class ReplyCorrection:
    """An agent's translation of a reply's source text, from the translation memory."""

    entry_id: int
    text: str
    author: str | None


def is_correctable(turn: BotTurn) -> bool:
    """Whether a reply was translated, so a better translation can replace it for the next customer.

    Authored replies are corrected in the domain's responses; a fallback reached the customer
    untranslated.
    """
    return (turn.route == PATH_MEMORY or turn.route.startswith(MT_PREFIX)) and bool(turn.source_language)


class ConsoleTranslations:
    """The console's access to the bot's translation memory and models.

    :param settings: the bot's translation settings (endpoints.yml `nlg` -> `translation`), or
        None when the bot translates nothing.
    :param cache_size: how many translated customer texts are kept in memory.
    """

    def __init__(self, settings: Mapping[str, Any] | None, cache_size: int = CACHE_SIZE) -> None:
        self.settings = dict(settings) if settings is not None else None
        self._lock = threading.Lock()
        self._pipeline: TranslationPipeline | None = None
        self._memory: TranslationMemory | None = None
        self._error: str | None = None
        self._engine_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-translation")
        self._translate = functools.lru_cache(maxsize=cache_size)(self._translate_uncached)

    def cache_info(self):
        """Hits and misses of the customer-text cache (functools' CacheInfo)."""
        return self._translate.cache_info()

    @property
    def memory(self) -> TranslationMemory | None:
        """The bot's translation memory, or None when the bot has none."""
        if self.settings is None:
            return None
        with self._lock:
            if self._memory is None:
                self._memory = memory_from_settings(self.settings, protector_from_settings(self.settings))
        return self._memory

    def _loaded_pipeline(self) -> TranslationPipeline | None:
        with self._lock:
            if self._pipeline is None and self._error is None and self.settings is not None:
                try:
                    self._pipeline = TranslationPipeline.from_settings(self.settings)
                except TranslationConfigError as error:
                    # The bot itself would not start with these settings; the console still serves.
                    logger.error(f"The console cannot load the bot's translation settings: {error}")
                    self._error = str(error)
        return self._pipeline

    def for_agent(self, text: str, source: str | None, target: str) -> AgentText | None:
        """`text` (in `source`) in the agent's language `target`; None when nothing needs translating."""
        if not text.strip() or source == target:
            return None
        if not source:
            return AgentText("", target, None, None, "the customer's language is unknown")
        return self._translate(text, source, target)

    def _translate_uncached(self, text: str, source: str, target: str) -> AgentText:
        return self._engine_thread.submit(self._translate_on_engine_thread, text, source, target).result()

    def _translate_on_engine_thread(self, text: str, source: str, target: str) -> AgentText:
        pipeline = self._loaded_pipeline()
        if pipeline is None:
            reason = f"translation settings unusable: {self._error}" if self._error else None
            return AgentText(source, target, None, None, reason or f"no translation backend for {source}->{target}")
        translation = pipeline.translate(text, source, target)
        if translation.path == PATH_FALLBACK:
            return AgentText(source, target, None, None, f"no translation backend for {source}->{target}")
        return AgentText(source, target, translation.text, translation.path)

    def correction_of(self, turn: BotTurn) -> ReplyCorrection | None:
        """The agents' translation of `turn`'s source text that the next customer gets, if any."""
        memory = self.memory
        if memory is None or not is_correctable(turn):
            return None
        key = memory.key(turn.source_text or "")
        try:
            entry = memory.lookup(key, turn.source_language, turn.language or "")
        except sa.exc.SQLAlchemyError as error:
            logger.warning(f"Translation memory unavailable ({error.__class__.__name__}).")
            return None
        if entry is None or entry.kind != HUMAN:
            return None
        return ReplyCorrection(entry.id, entry.restore(key, memory.protector), entry.author)

    def correct_reply(self, tracker: Engine, sender_id: str, event_id: int, corrected: str, author: str) -> MemoryEntry:
        """Stores `corrected` as the agents' translation of bot reply `event_id`'s source text.

        Raises:
            TranslationCorrectionError: not a translated bot reply of this conversation, an
                empty or very long text, protected spans (order numbers, links ...) changed, or
                a bot without translation memory.
        """
        corrected = corrected.strip()
        if not corrected:
            raise TranslationCorrectionError("Write the corrected translation the customer should read.")
        if len(corrected) > MAX_CORRECTION_CHARS:
            raise TranslationCorrectionError(f"A translation may have at most {MAX_CORRECTION_CHARS} characters.")
        memory = self.memory
        if memory is None:
            raise TranslationCorrectionError(
                "The bot has no translation memory: set `memory_url` under nlg -> translation in endpoints.yml."
            )
        with tracker.connect() as connection:
            row = connection.execute(
                sa.select(events.c.type_name, events.c.data).where(
                    events.c.id == event_id, events.c.sender_id == sender_id
                )
            ).first()
        if row is None or row.type_name != "bot":
            raise TranslationCorrectionError(f"Event {event_id} is not a bot reply of conversation {sender_id}.")
        data = json.loads(row.data or "{}")
        metadata = data.get("metadata") or {}
        route = reply_route(metadata)
        source_text = metadata.get("original_text") or data.get("text") or ""
        source, target = metadata.get("source_language"), metadata.get("language")
        if not (route == PATH_MEMORY or route.startswith(MT_PREFIX)) or not source or not target:
            raise TranslationCorrectionError(
                f"This reply was not translated (route {route}): only translated replies (memory, mt) "
                "can be corrected here. Correct an authored reply in the domain's responses."
            )
        try:
            return memory.add_translation(source_text, corrected, source, target, author=author)
        except ValueError as error:
            raise TranslationCorrectionError(str(error)) from None

    def withdraw(self, entry_id: int) -> bool:
        """Deletes a translation memory entry (an agent's correction); True if it existed."""
        memory = self.memory
        return memory.delete_entry(entry_id) if memory is not None else False
