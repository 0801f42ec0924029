"""The texts a bot sends that translators work on, and how each reaches a customer today.

Two kinds of texts: the domain's responses (each variant written in the source language,
id `response:<name>:<variant index>`) and the knowledge base's answers (id `kb:<entry id>`).
For a customer language, a text reaches the customer by the first of the NLG's routes
(docs/translation.md): `authored` (a variant or version written in that language),
`memory` (the translation memory has it, human or cached MT), `mt` (a configured backend
takes the pair) or `fallback` (the source text and a notice).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.source import Entry
from bot.message_keys import LANGUAGE
from bot.translation.memory import HUMAN, MemoryEntry, TranslationMemory

RESPONSE, ANSWER = "response", "answer"
ROUTES = ("authored", "memory", "mt", "fallback")
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[^{}]*\}")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class CatalogText:
    """One text of the bot in the language it is written in.

    Attributes:
        id: stable id (`response:utter_greet:0`, `kb:gift-002`).
        kind: RESPONSE or ANSWER.
        text: the text as written, placeholders such as `{order_id}` included.
        language: the language of `text`.
        authored: the languages it is also written in (response variants, answer versions).
        note: where the text is used, for the translator.
    """

    id: str
    kind: str
    text: str
    language: str
    authored: frozenset[str]
    note: str


def _language_of(variant: Mapping[str, Any]) -> str | None:
    for condition in variant.get("condition") or []:
        if condition.get("name") == LANGUAGE:
            return condition.get("value")
    return None


def domain_responses(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The responses of the domain file or folder at `path`, as Rasa reads them."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(path)).responses


def response_texts(responses: Mapping[str, Sequence[Mapping[str, Any]]], source_language: str) -> list[CatalogText]:
    """The text variants of every response written in `source_language` (or with no language).

    Variants with no words to translate (`"{answer}"`, an image only) are left out.
    """
    texts = []
    for name, variants in sorted(responses.items()):
        authored = frozenset(filter(None, (_language_of(v) for v in variants))) - {source_language}
        for index, variant in enumerate(variants):
            text = variant.get("text") or ""
            if _language_of(variant) not in (None, source_language) or not _has_words(text):
                continue
            texts.append(
                CatalogText(f"response:{name}:{index}", RESPONSE, text, source_language, authored, f"response {name}")
            )
    return texts


def answer_texts(entries: Iterable[Entry]) -> list[CatalogText]:
    """The knowledge base's answers, with the languages they have versions in."""
    return [
        CatalogText(
            f"kb:{entry.id}",
            ANSWER,
            entry.answer,
            entry.language,
            frozenset(entry.versions),
            f"knowledge-base answer {entry.id} ({', '.join(entry.tags) or 'no tags'})",
        )
        for entry in entries
    ]


def _has_words(text: str) -> bool:
    """True when a text has something to translate besides `{placeholders}`."""
    return bool(_LETTER.search(_PLACEHOLDER.sub("", text)))


def human_translation(memory: TranslationMemory | None, text: CatalogText, language: str) -> MemoryEntry | None:
    """The memory's human translation of `text` into `language`, if any."""
    if memory is None:
        return None
    entry = memory.lookup(memory.key(text.text), text.language, language)
    return entry if entry is not None and entry.kind == HUMAN else None


def route_for(
    text: CatalogText,
    language: str,
    memory: TranslationMemory | None,
    has_mt: Callable[[str, str], bool],
) -> str:
    """How `text` reaches a customer in `language`: one of ROUTES."""
    if language == text.language or language in text.authored:
        return "authored"
    if memory is not None and memory.lookup(memory.key(text.text), text.language, language) is not None:
        return "memory"
    if has_mt(text.language, language):
        return "mt"
    return "fallback"


def coverage(
    texts: Sequence[CatalogText],
    languages: Sequence[str],
    memory: TranslationMemory | None,
    has_mt: Callable[[str, str], bool],
) -> dict[tuple[str, str], dict[str, int]]:
    """{(language, kind): {route: count}} over every text and language."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for language in languages:
        for text in texts:
            counts = table.setdefault((language, text.kind), dict.fromkeys(ROUTES, 0))
            counts[route_for(text, language, memory, has_mt)] += 1
    return table
