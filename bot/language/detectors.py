"""The statistical language detectors Bridge consults, built lazily and shared per process.

- lingua, restricted to a set of languages: the main judge of short Latin-script text and
  of Chinese vs Japanese Han characters.
- lingua over all of its 75 languages in low-accuracy mode: screens longer turns for a
  language the bot does not speak. Low-accuracy mode uses trigram models only: it needs a
  fraction of the memory and time of high-accuracy mode over 75 languages, and on a
  sentence, the only text the screen judges, it is almost as good.
- langdetect (its 55 profiles, seeded so the answer is repeatable): a second opinion
  before a turn is declared unsupported. It is poor on a word or two, fine on sentences.

Detectors are built on first use and cached for the process: Rasa creates a component per
model load and tests create many; all of them share one set of loaded models.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache, lru_cache

Ranking = list[tuple[str, float]]

_LANGDETECT_LOCK = threading.Lock()


def lingua_languages() -> list[str]:
    """ISO 639-1 codes of every language lingua has a model for."""
    from lingua import Language

    return sorted(language.iso_code_639_1.name.lower() for language in Language.all())


@cache
def _lingua(codes: tuple[str, ...], low_accuracy: bool) -> object:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    if codes:
        languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
        builder = LanguageDetectorBuilder.from_languages(*languages)
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def lingua_ranking(text: str, codes: Sequence[str] = (), low_accuracy: bool = False) -> Ranking:
    """lingua's confidence per language, best first; `codes` empty means all languages.

    With one candidate there is nothing to compare, and that candidate gets 1.0.
    """
    key = tuple(sorted(codes))
    if len(key) == 1:
        return [(key[0], 1.0)]
    values = _lingua(key, low_accuracy).compute_language_confidence_values(text)
    return [(value.language.iso_code_639_1.name.lower(), value.value) for value in values]


def preload_lingua(codes: Sequence[str], low_accuracy: bool = False) -> None:
    """Builds a lingua detector now and loads its models, so no customer waits for it."""
    key = tuple(sorted(codes))
    if len(key) != 1:
        _lingua(key, low_accuracy).compute_language_confidence_values("preload")


@lru_cache(maxsize=1)
def _langdetect_factory() -> object:
    from pathlib import Path

    import langdetect
    from langdetect.detector_factory import DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(str(Path(langdetect.__file__).parent / "profiles"))
    # langdetect samples n-grams at random; a fixed seed makes every answer repeatable.
    factory.seed = 0
    return factory


def langdetect_ranking(text: str) -> Ranking:
    """langdetect's probabilities (55 languages), best first; empty when it finds nothing.

    Chinese comes back as "zh" (langdetect says zh-cn / zh-tw).
    """
    from langdetect.lang_detect_exception import LangDetectException

    factory = _langdetect_factory()
    # The factory's random generator is shared state; one detection at a time.
    with _LANGDETECT_LOCK:
        detector = factory.create()
        detector.append(text)
        try:
            found = detector.get_probabilities()
        except LangDetectException:
            return []
    merged: dict[str, float] = {}
    for item in found:
        code = item.lang.split("-")[0]
        merged[code] = merged.get(code, 0.0) + item.prob
    return sorted(merged.items(), key=lambda item: item[1], reverse=True)
