"""Machine translation ahead of time: known texts go into the memory before any customer asks.

A text the bot already knows (a knowledge-base answer) is translated for every language
the bot speaks that a configured backend reaches from the text's language, and the result
is cached in the translation memory, as the pipeline caches any machine translation. A
customer's turn then finds it there (a lookup, no model run). Texts with an authored
version in a language, or already in the memory, are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from bot.translation.catalog import CatalogText
from bot.translation.pipeline import PATH_FALLBACK, TranslationPipeline


@dataclass(frozen=True)
class AheadReport:
    """How many (text, language) pairs were translated now, found in memory, or unreachable."""

    translated: int
    remembered: int
    failed: int


def translate_ahead(
    texts: Sequence[CatalogText], languages: Sequence[str], pipeline: TranslationPipeline, show_progress: bool = True
) -> AheadReport:
    """Puts the machine translation of each text into every reachable language in the memory."""
    work = [
        (text, language)
        for text in texts
        for language in languages
        if language != text.language
        and language not in text.authored
        and pipeline.route(text.language, language) is not None
    ]
    translated = remembered = failed = 0
    for text, language in tqdm(work, desc="translating ahead", unit="text", disable=not show_progress or not work):
        if pipeline.remembered(text.text, text.language, language) is not None:
            remembered += 1
        elif pipeline.translate(text.text, text.language, language).path == PATH_FALLBACK:
            failed += 1
        else:
            translated += 1
    return AheadReport(translated, remembered, failed)
