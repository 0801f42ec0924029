"""Identifies the language of one customer turn, restricted to the languages a bot speaks.

Short chat turns carry little evidence, so the identifier first removes what carries no
language (links, emails, @mentions, order numbers, emoji), lets the writing system decide
where one script belongs to one supported language (Hangul, kana, Devanagari...), and asks a
statistical detector (lingua, restricted to the supported languages) only for the rest.
It says how sure it is: a turn with too little evidence is reported as undecided, so the
caller can keep the conversation's language instead of guessing.

Example:
    >>> identifier = LanguageIdentifier(["en", "de", "ko"])
    >>> identifier.identify("Wo ist meine Bestellung?").language
    'de'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# Methods a decision can come from; stored with the turn so transcripts explain it.
METHOD_SCRIPT = "script"
METHOD_MODEL = "model"
METHOD_HINT = "hint"
METHOD_NO_EVIDENCE = "no_evidence"
METHOD_WEAK_EVIDENCE = "weak_evidence"

_NON_LINGUISTIC = re.compile(
    r"https?://\S+|www\.\S+"  # links
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # email addresses
    r"|@\w+"  # mentions
    r"|#?\d[\d\-/.,:]*"  # order numbers, amounts, dates, times
)

# Writing systems that identify one language among the ones Bridge knows. Han characters
# are shared by Chinese and Japanese, and Cyrillic/Arabic by several languages, so those
# scripts only decide when exactly one supported language uses them.
_SCRIPT_RANGES: Dict[str, Tuple[Tuple[int, int], ...]] = {
    "hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF)),
    "kana": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)),
    "devanagari": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "arabic": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "cyrillic": ((0x0400, 0x04FF), (0x0500, 0x052F)),
}
_SCRIPT_LANGUAGES: Dict[str, Tuple[str, ...]] = {
    "hangul": ("ko",),
    "kana": ("ja",),
    "han": ("zh", "ja"),
    "devanagari": ("hi",),
    "arabic": ("ar",),
    "cyrillic": ("ru",),
    "latin": ("en", "es", "pt", "fr", "de", "it"),
}


@dataclass(frozen=True)
class LanguageGuess:
    """What the identifier concluded about one turn.

    Attributes:
        language: ISO 639-1 code, or None when the turn carries too little evidence.
        confidence: 0..1, how strongly the evidence supports `language`.
        method: how it was decided (script, model, hint, no_evidence, weak_evidence).
        best_candidate: the most likely supported language even when undecided.
    """

    language: Optional[str]
    confidence: float
    method: str
    best_candidate: Optional[str] = None

    @property
    def decided(self) -> bool:
        """True when the turn is clear enough to set (or switch) the conversation language."""
        return self.language is not None


def strip_non_linguistic(text: str) -> str:
    """Removes links, emails, mentions, numbers, emoji and punctuation; keeps letters."""
    text = _NON_LINGUISTIC.sub(" ", text)
    kept = [ch if unicodedata.category(ch)[0] in "LM" else " " for ch in text]
    return " ".join("".join(kept).split())


def _script_of(ch: str) -> str:
    code = ord(ch)
    for script, ranges in _SCRIPT_RANGES.items():
        if any(low <= code <= high for low, high in ranges):
            return script
    return "latin" if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") else "other"


def dominant_script(letters: str) -> Tuple[str, Dict[str, int]]:
    """The script most letters are written in, with the count per script."""
    counts: Dict[str, int] = {}
    for ch in letters:
        if not ch.isspace():
            script = _script_of(ch)
            counts[script] = counts.get(script, 0) + 1
    # Japanese mixes kana with Han: any kana at all makes the text Japanese-script.
    if counts.get("kana") and counts.get("han"):
        counts["kana"] += counts.pop("han")
    return max(counts, key=counts.get), counts


class LanguageIdentifier:
    """Identifies the language of short customer turns among a fixed set of languages.

    Args:
        supported_languages: ISO 639-1 codes the bot speaks.
        min_confidence: a statistical guess at or above this decides the turn.
        min_margin: a guess this far ahead of the runner-up decides the turn too.
    """

    def __init__(
        self,
        supported_languages: Sequence[str],
        min_confidence: float = 0.5,
        min_margin: float = 0.15,
    ) -> None:
        self.supported_languages = list(supported_languages)
        self.min_confidence = min_confidence
        self.min_margin = min_margin
        self._detectors: Dict[Tuple[str, ...], object] = {}

    def identify(self, text: str, hint: Optional[str] = None) -> LanguageGuess:
        """Decides the language of `text`; `hint` (a channel's language) breaks near-ties."""
        letters = strip_non_linguistic(text)
        if not letters:
            return LanguageGuess(None, 0.0, METHOD_NO_EVIDENCE)
        script, _ = dominant_script(letters)
        candidates = [
            code for code in _SCRIPT_LANGUAGES.get(script, ()) if code in self.supported_languages
        ]
        if len(candidates) == 1 and script != "latin":
            return LanguageGuess(candidates[0], 1.0, METHOD_SCRIPT, candidates[0])
        if not candidates:
            candidates = self.supported_languages
        return self._identify_statistically(letters, candidates, hint)

    def _identify_statistically(
        self, letters: str, candidates: List[str], hint: Optional[str]
    ) -> LanguageGuess:
        ranking = self._rank(letters, candidates)
        (best, best_score), runner_up_score = ranking[0], (ranking[1][1] if len(ranking) > 1 else 0.0)
        if best_score >= self.min_confidence or best_score - runner_up_score >= self.min_margin:
            return LanguageGuess(best, best_score, METHOD_MODEL, best)
        close = {code for code, score in ranking if best_score - score < self.min_margin}
        if hint in close:
            return LanguageGuess(hint, dict(ranking)[hint], METHOD_HINT, best)
        return LanguageGuess(None, best_score, METHOD_WEAK_EVIDENCE, best)

    def _rank(self, letters: str, candidates: Iterable[str]) -> List[Tuple[str, float]]:
        key = tuple(sorted(candidates))
        if len(key) == 1:
            return [(key[0], 1.0)]
        detector = self._detectors.get(key) or self._build_detector(key)
        values = detector.compute_language_confidence_values(letters)
        ranking = [(value.language.iso_code_639_1.name.lower(), value.value) for value in values]
        return sorted(ranking, key=lambda item: item[1], reverse=True)

    def _build_detector(self, codes: Tuple[str, ...]) -> object:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
        detector = LanguageDetectorBuilder.from_languages(*languages).build()
        self._detectors[codes] = detector
        return detector
