"""What in a customer's text carries language: its words, and the writing system they use.

Chat turns are full of things that belong to no language: order numbers, links, email
addresses, @mentions, emoji, amounts. They are removed first, so "10045 👍" has no evidence
at all and "Bestellung 10045?" is judged on "Bestellung" alone. What remains is classified
by writing system, because a script often settles the question without any model: Hangul
is Korean, kana is Japanese. Scripts shared by several languages (Latin, Cyrillic, Arabic,
Devanagari, Han) only narrow the candidates, and a few letters prove a language outside the
supported ones (Ukrainian "ї", Persian "پ").

Example:
    >>> words = linguistic_words("Order #A-10045 (see https://shop.example.com) ok?")
    >>> words
    ['Order', 'see', 'ok']
    >>> dominant_script(" ".join(words)).script
    'latin'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_LINGUISTIC = re.compile(
    r"https?://\S+|www\.\S+"  # links
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # email addresses
    r"|[@#]\w+"  # mentions, hashtags, "#10045"
    # Anything with a digit: order numbers, codes, amounts, dates. Only ASCII letters join a
    # code, so "注文番号10045の" keeps its Japanese words.
    r"|[A-Za-z\-]*\d[A-Za-z0-9\-/.,:]*"
)

# Unicode blocks of the scripts that matter for telling languages apart. Latin is
# recognised by character name below; everything else is "other".
_SCRIPT_RANGES: tuple[tuple[str, int, int], ...] = (
    ("hangul", 0x1100, 0x11FF),
    ("hangul", 0x3130, 0x318F),
    ("hangul", 0xA960, 0xA97F),
    ("hangul", 0xAC00, 0xD7AF),
    ("kana", 0x3040, 0x30FF),
    ("kana", 0x31F0, 0x31FF),
    ("kana", 0xFF66, 0xFF9F),
    ("han", 0x3400, 0x4DBF),
    ("han", 0x4E00, 0x9FFF),
    ("han", 0xF900, 0xFAFF),
    ("devanagari", 0x0900, 0x097F),
    ("devanagari", 0xA8E0, 0xA8FF),
    ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F),
    ("arabic", 0x08A0, 0x08FF),
    ("arabic", 0xFB50, 0xFDFF),
    ("arabic", 0xFE70, 0xFEFF),
    ("cyrillic", 0x0400, 0x052F),
    ("greek", 0x0370, 0x03FF),
    ("greek", 0x1F00, 0x1FFF),
    ("hebrew", 0x0590, 0x05FF),
    ("armenian", 0x0530, 0x058F),
    ("georgian", 0x10A0, 0x10FF),
    ("bengali", 0x0980, 0x09FF),
    ("gurmukhi", 0x0A00, 0x0A7F),
    ("gujarati", 0x0A80, 0x0AFF),
    ("tamil", 0x0B80, 0x0BFF),
    ("telugu", 0x0C00, 0x0C7F),
    ("thai", 0x0E00, 0x0E7F),
)

# Languages (ISO 639-1) written in each script. A script whose list holds one supported
# language decides on its own; one whose list holds none proves an unsupported language.
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "hangul": ("ko",),
    "kana": ("ja",),
    "han": ("zh", "ja"),
    "devanagari": ("hi", "mr", "ne"),
    "arabic": ("ar", "fa", "ur"),
    "cyrillic": ("ru", "uk", "be", "bg", "mk", "sr", "kk", "mn"),
    "greek": ("el",),
    "hebrew": ("he",),
    "armenian": ("hy",),
    "georgian": ("ka",),
    "bengali": ("bn",),
    "gurmukhi": ("pa",),
    "gujarati": ("gu",),
    "tamil": ("ta",),
    "telugu": ("te",),
    "thai": ("th",),
}

# Letters that some languages of a shared script use and Russian / Arabic / Hindi never do:
# one of them rules Russian, Arabic or Hindi out. Only letters no Russian or Arabic keyboard
# produces are listed: Arabic text is often typed with Persian "ی"/"ک" and Urdu "ھ", so
# those prove nothing. Marathi's "ळ" appears in a third of Marathi sentences and in no
# Hindi one (lingua's test sentences, FLORES-200). (Latin needs no list: lingua's own rules
# already use letters such as "ł".)
MARKER_LETTERS: dict[str, frozenset[str]] = {
    "uk": frozenset("іїєґІЇЄҐ"),
    "be": frozenset("ўЎ"),
    "kk": frozenset("әғқңұһӘҒҚҢҰҺ"),
    "mn": frozenset("өүӨҮ"),
    "sr": frozenset("ђјљњћџЂЈЉЊЋЏ"),
    "mk": frozenset("ѓќѕЃЌЅ"),
    "fa": frozenset("پچژگ"),
    "ur": frozenset("ٹڈڑںےۓ"),
    "mr": frozenset("ळ"),
}
# Scripts where only such letters may prove an unsupported language: statistical detectors
# mistake short Russian for Ukrainian, Serbian or Macedonian, and Hindi for Marathi, far too
# often.
MARKER_ONLY_SCRIPTS: frozenset[str] = frozenset({"cyrillic", "devanagari"})

# Customers who write in another script mix in Latin product and brand names ("제 iPhone
# 주문이 안 왔어요"); a script other than Latin with at least this share of the letters is
# the text's script even when Latin letters are more.
NON_LATIN_MIN_SHARE = 0.2


@dataclass(frozen=True)
class ScriptCount:
    """The script most letters of a text are written in, and how many letters each has."""

    script: str
    counts: dict[str, int]

    @property
    def letters(self) -> int:
        """Number of letters counted."""
        return sum(self.counts.values())


def linguistic_words(text: str) -> list[str]:
    """The words of `text` that can carry language; links, codes, emoji and punctuation go."""
    text = _NON_LINGUISTIC.sub(" ", text).replace("\u2019", "'")
    # Keep letters and combining marks (Devanagari vowel signs are marks), and apostrophes
    # inside a word ("c'est", "don't"); drop the rest.
    is_letter = [unicodedata.category(ch)[0] in "LM" for ch in text]
    kept = [
        ch if is_letter[i] or (ch == "'" and 0 < i < len(text) - 1 and is_letter[i - 1] and is_letter[i + 1]) else " "
        for i, ch in enumerate(text)
    ]
    return "".join(kept).split()


def strip_non_linguistic(text: str) -> str:
    """`text` reduced to its words that can carry language, joined by single spaces."""
    return " ".join(linguistic_words(text))


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str:
    """The script of one character (see SCRIPT_LANGUAGES), "latin", or "other"."""
    code = ord(ch)
    if code < 0x80:
        return "latin" if ch.isalpha() else "other"
    for script, low, high in _SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return "latin" if unicodedata.name(ch, "").startswith("LATIN") else "other"


def dominant_script(letters: str) -> ScriptCount:
    """Which script `letters` are mostly written in.

    Japanese mixes kana with Han characters, so any kana at all counts the Han characters
    as Japanese script too. Latin words inside text of another script are borrowings (see
    NON_LATIN_MIN_SHARE). Vowel signs count as letters of their script (Devanagari).
    """
    counts: dict[str, int] = {}
    for ch in letters:
        script = script_of(ch)
        if ch.isalpha() or (script != "other" and unicodedata.category(ch)[0] == "M"):
            counts[script] = counts.get(script, 0) + 1
    if counts.get("kana") and counts.get("han"):
        counts["kana"] += counts.pop("han")
    if not counts:
        return ScriptCount("other", {})
    non_latin = {script: count for script, count in counts.items() if script not in ("latin", "other")}
    if non_latin and max(non_latin.values()) >= NON_LATIN_MIN_SHARE * sum(counts.values()):
        return ScriptCount(max(non_latin, key=non_latin.get), counts)
    return ScriptCount(max(counts, key=counts.get), counts)


def marker_languages(letters: str) -> list[str]:
    """Languages proven by letters that Russian and Arabic never use, most letters first."""
    found = {code: sum(ch in markers for ch in letters) for code, markers in MARKER_LETTERS.items()}
    return [code for code, count in sorted(found.items(), key=lambda item: -item[1]) if count]
