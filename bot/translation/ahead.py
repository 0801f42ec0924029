"""Machine translation ahead of time: known texts go into the memory before any customer asks.

A text the bot already knows (a knowledge-base answer at `bridge kb build/add`, a response
at `bridge train`) is translated for every language the bot speaks that a configured
backend reaches from the text's language, and the result is cached in the translation
memory, as the pipeline caches any machine translation. A
customer's turn then finds it there (a lookup, no model run). Texts with an authored
version in a language, or already in the memory, are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from bot.translation.catalog import CatalogText
from bot.translation.pipeline import PATH_FALLBACK, TranslationPipeline
from bot.translation.project_settings import ProjectLanguages


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


def translate_project_texts_ahead(texts: Sequence[CatalogText], settings: ProjectLanguages, command: str) -> None:
    """translate_ahead with the project's translation settings, reporting as `command`.

    Nothing happens without a backend; without a memory there is nowhere to keep the
    results, which is said, since then every customer's turn waits for the engine.
    """
    if not settings.translation.get("backends") or not texts:
        return
    pipeline = TranslationPipeline.from_settings(settings.translation)
    if pipeline.memory is None:
        print(f"{command}: not translating ahead: the translation settings have no memory_url to keep the results.")
        return
    report = translate_ahead(texts, settings.languages, pipeline)
    print(
        f"{command}: translated ahead into the memory: {report.translated} new, {report.remembered} already there"
        + (f", {report.failed} failed (see the log)" if report.failed else "")
    )
