"""Translates one text into a language: translation memory -> machine translation -> fallback.

For a text in `source` that a customer must read in `target`:

1. translation memory: an exact (masked) match; an agent's entry wins, else a cached
   machine translation from any server process;
2. machine translation: a backend configured for the pair, or two hops through the pivot
   language (English) when no direct pair exists; protected spans are masked, each line is
   translated inside its markdown frame, and the result is cached in the memory;
3. fallback: the text in the pivot language (translated there if a route exists, else as
   written); the caller adds the customer-language notice.

Settings (endpoints.yml `nlg` -> `translation`, inline or the path of a YAML file):

    translation:
      pivot_language: en                                # the hop when no direct pair exists
      memory_url: sqlite:///var/translation_memory.db   # any SQLAlchemy URL; null turns memory off
      glossary: knowledge_base/glossary.txt             # terms never translated
      glossary_terms: []                                # more terms, inline
      backends:                                         # tried in this order for each pair
        bergamot: {type: bergamot}                      # bundled en-pt, pt-en
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bot.translation.base import (
    BackendError,
    Step,
    TranslationBackend,
    TranslationConfigError,
    create_backend,
)
from bot.translation.layout import join_lines, split_lines
from bot.translation.memory import DEFAULT_MEMORY_URL, HUMAN, TranslationMemory
from bot.translation.protection import (
    MEMORY_PATTERN,
    Masked,
    SpanProtector,
    SpansLostError,
    free_pattern,
    load_glossary,
    retoken,
    split_on_tokens,
    token_numbers,
    token_regex,
)

logger = logging.getLogger(__name__)

PATH_AUTHORED = "authored"
PATH_MEMORY = "memory"
PATH_FALLBACK = "fallback"
MT_PREFIX = "mt:"
SETTINGS_KEYS = {"pivot_language", "memory_url", "glossary", "glossary_terms", "backends"}


@dataclass(frozen=True)
class Translation:
    """What the customer gets for one text, and how it was produced."""

    text: str
    path: str  # "authored" | "memory" | "mt:<backend>" | "fallback"
    source_language: str
    text_language: str  # the language `text` is in (the pivot or source language on fallback)
    cached: bool = False


class TranslationPipeline:
    """Memory, backends and span protection for every language pair.

    Example:
        >>> pipeline = TranslationPipeline.from_settings({"backends": {"bergamot": {"type": "bergamot"}}})
        >>> pipeline.translate("Your order 10045 has shipped.", "en", "pt").text
        'Seu pedido 10045 foi enviado.'
    """

    def __init__(
        self,
        backends: Sequence[TranslationBackend],
        protector: SpanProtector,
        memory: TranslationMemory | None = None,
        pivot_language: str = "en",
    ) -> None:
        self.backends = list(backends)
        self.protector = protector
        self.memory = memory
        self.pivot_language = pivot_language

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | str | Path | None) -> TranslationPipeline:
        """Builds the pipeline and loads every model now, so a bad folder fails at start-up."""
        settings = read_settings(settings)
        protector = protector_from_settings(settings)
        backends_settings = settings.get("backends") or {}
        if not isinstance(backends_settings, Mapping):
            raise TranslationConfigError(
                f"translation.backends: expected a mapping of name -> settings, got {backends_settings!r}."
            )
        backends = [create_backend(name, dict(value or {})) for name, value in backends_settings.items()]
        return cls(backends, protector, memory_from_settings(settings, protector), settings.get("pivot_language", "en"))

    def route(self, source: str, target: str) -> list[Step] | None:
        """The backends that take `source` to `target`: direct, else through the pivot."""
        direct = self._backend_for(source, target)
        if direct:
            return [Step(direct, source, target)]
        pivot = self.pivot_language
        if pivot in (source, target):
            return None
        first, second = self._backend_for(source, pivot), self._backend_for(pivot, target)
        if first and second:
            return [Step(first, source, pivot), Step(second, pivot, target)]
        return None

    def _backend_for(self, source: str, target: str) -> TranslationBackend | None:
        return next((b for b in self.backends if b.supports(source, target)), None)

    def translate(self, text: str, source: str, target: str) -> Translation:
        """`text` (in `source`) for a reader of `target`, through memory -> MT -> fallback."""
        if source == target or not text.strip():
            return Translation(text, PATH_AUTHORED, source, source)
        lead, body, trail = _split_outer_whitespace(text)
        key = self.protector.mask(body, MEMORY_PATTERN)
        found = self._from_memory(key, source, target)
        if found is None:
            found = self._from_machine(key, source, target)
        if found is not None:
            translated, path, cached = found
            return Translation(f"{lead}{translated}{trail}", path, source, target, cached)
        if source != self.pivot_language and target != self.pivot_language:
            in_pivot = self.translate(text, source, self.pivot_language)
            if in_pivot.path != PATH_FALLBACK:
                return Translation(in_pivot.text, PATH_FALLBACK, source, self.pivot_language)
        return Translation(text, PATH_FALLBACK, source, source)

    def remembered(self, text: str, source: str, target: str) -> Translation | None:
        """The memory's translation of `text` if it has one (no model runs: under a millisecond)."""
        if source == target or not text.strip():
            return Translation(text, PATH_AUTHORED, source, source)
        lead, body, trail = _split_outer_whitespace(text)
        found = self._from_memory(self.protector.mask(body, MEMORY_PATTERN), source, target)
        if found is None:
            return None
        translated, path, cached = found
        return Translation(f"{lead}{translated}{trail}", path, source, target, cached)

    def _from_memory(self, key: Masked, source: str, target: str) -> tuple | None:
        if self.memory is None:
            return None
        try:
            entry = self.memory.lookup(key, source, target)
        except sa.exc.SQLAlchemyError as error:
            logger.warning(f"Translation memory unavailable ({error.__class__.__name__}); translating without it.")
            return None
        if entry is None:
            return None
        try:
            text = self.protector.unmask(entry.target_key, key)
        except SpansLostError:
            logger.warning(f"Translation memory entry {entry.id} does not match its key's spans; ignoring it.")
            return None
        path = PATH_MEMORY if entry.kind == HUMAN else entry.origin
        return text, path, entry.kind != HUMAN

    def _from_machine(self, key: Masked, source: str, target: str) -> tuple | None:
        route = self.route(source, target)
        if route is None:
            return None
        names = "+".join(dict.fromkeys(step.backend.name for step in route))
        try:
            target_key = self.machine_translate(key.text, route)
            text = self.protector.unmask(target_key, key)
        except (BackendError, SpansLostError) as error:
            logger.error(f"Machine translation {source}->{target} via {names} failed ({error}); using the fallback.")
            return None
        if self.memory is not None:
            try:
                self.memory.store_machine(key, target_key, source, target, names)
            except sa.exc.SQLAlchemyError as error:
                logger.warning(f"Could not cache a translation ({error.__class__.__name__}).")
        return text, f"{MT_PREFIX}{names}", False

    def machine_translate(self, masked_text: str, route: Sequence[Step]) -> str:
        """Translates a memory-masked text line by line along `route`; tokens are kept."""
        pattern = free_pattern(masked_text)
        lines = split_lines(retoken(masked_text, MEMORY_PATTERN, pattern))
        todo = [i for i, line in enumerate(lines) if line.translatable]
        contents = [line.content for line in lines]
        translated = self._translate_segments([contents[i] for i in todo], route, pattern)
        for i, text in zip(todo, translated):
            contents[i] = text
        return retoken(join_lines(lines, contents), pattern, MEMORY_PATTERN)

    def _translate_segments(self, segments: list[str], route: Sequence[Step], pattern: str) -> list[str]:
        """Each segment translated with its tokens intact; a segment whose tokens the model
        lost is translated again piece by piece between its tokens."""
        outputs = _along(segments, route)
        broken = [
            i
            for i, (s, o) in enumerate(zip(segments, outputs))
            if token_numbers(o, pattern) != token_numbers(s, pattern)
        ]
        if not broken:
            return outputs
        pieces = {i: split_on_tokens(segments[i], pattern) for i in broken}
        texts = [(i, j) for i in broken for j in range(0, len(pieces[i]), 2) if _has_letters(pieces[i][j])]
        translated = _along([pieces[i][j].strip() for i, j in texts], route)
        tokens = token_regex(pattern)
        for (i, j), text in zip(texts, translated):
            # A piece holds no span, so any token in its output was invented by the model.
            text = re.sub(r"\s{2,}", " ", tokens.sub("", text)).strip()
            lead, _, trail = _split_outer_whitespace(pieces[i][j])
            pieces[i][j] = f"{lead}{text}{trail}"
        for i in broken:
            outputs[i] = "".join(pieces[i])
        return outputs


def _along(texts: list[str], route: Sequence[Step]) -> list[str]:
    for step in route:
        if texts:
            texts = step.backend.translate_batch(texts, step.source, step.target)
    return list(texts)


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _split_outer_whitespace(text: str) -> tuple:
    body = text.strip()
    if not body:
        return text, "", ""
    start = text.index(body)
    return text[:start], body, text[start + len(body) :]


def protector_from_settings(settings: Mapping[str, Any]) -> SpanProtector:
    """The span protector of read settings: the glossary file's terms and the inline ones."""
    return SpanProtector([*load_glossary(settings.get("glossary")), *(settings.get("glossary_terms") or [])])


def memory_from_settings(settings: Mapping[str, Any], protector: SpanProtector) -> TranslationMemory | None:
    """The translation memory of read settings; None when `memory_url` is null."""
    memory_url = settings.get("memory_url", DEFAULT_MEMORY_URL)
    return TranslationMemory(memory_url, protector) if memory_url else None


def read_settings(settings: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    """The translation settings from a mapping or a YAML file path; unknown keys are errors."""
    if settings is None:
        return {}
    if isinstance(settings, (str, Path)):
        path = Path(settings)
        if not path.is_file():
            raise TranslationConfigError(
                f"translation: the settings file '{settings}' does not exist. Give a YAML file or the settings inline."
            )
        settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(settings, Mapping):
        raise TranslationConfigError(f"translation: expected a mapping of settings, got {settings!r}.")
    unknown = sorted(set(settings) - SETTINGS_KEYS)
    if unknown:
        raise TranslationConfigError(f"translation: unknown key(s) {unknown}. Allowed: {sorted(SETTINGS_KEYS)}.")
    return dict(settings)
