"""Protected spans: the parts of a message that must come back from translation exactly.

Placeholders ({order_id}, {{Order Number}}), URLs, emails, markdown links and inline code,
order and tracking numbers, amounts with a currency, phone numbers and glossary terms
("Cobalt Shop", product names) are replaced by short tokens before a text is translated,
and put back afterwards. `unmask` checks that every token came back exactly once; when a
model dropped or duplicated one it raises `SpansLostError`, and the pipeline translates the
text between the spans piece by piece instead, so the spans survive whatever the model does.

The same masking gives the translation memory its keys: "Order 10045 has shipped" and
"Order 10046 has shipped" share the key "Order ⟦1⟧ has shipped".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY_PATTERN = "⟦{n}⟧"
# Token shapes tried in order; a text that already contains the first shape gets the next.
BACKEND_PATTERNS = ("X{n}", "XQ{n}", "ZXQ{n}")

_CURRENCY_SYMBOL = r"(?:R\$|US\$|[$€£¥₩₹])"
_CURRENCY_CODE = r"(?:USD|EUR|GBP|BRL|JPY|KRW|INR|CNY|RUB|CHF|CAD|AUD|MXN)"
_NUMBER = r"\d(?:[\d.,]*\d)?"
# A word character that glues to a span ("Shop" in "Cobalt Shopping", "5" in "100455"). Chinese,
# Japanese and Korean write particles and counters right after a name or a number
# ("Cobalt Club은", "2019年"), so their characters end a span instead of extending it.
_GLUING = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"

# Order matters only for ties: overlapping matches keep the earliest, then the longest.
SPAN_PATTERNS: Sequence[tuple[str, str]] = (
    ("placeholder", r"\{\{[^{}\n]+\}\}|\{[A-Za-z_][\w.]*\}"),
    ("markdown_link", r"\[[^\]\n]+\]\([^)\s]+\)"),
    ("inline_code", r"`[^`\n]+`"),
    ("html_tag", r"</?[A-Za-z][^<>\n]*>"),
    ("url", r"(?:https?://|www\.)[^\s<>\"'`]+"),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    (
        "amount",
        rf"{_CURRENCY_SYMBOL}\s?{_NUMBER}|{_NUMBER}\s?(?:{_CURRENCY_SYMBOL}|{_CURRENCY_CODE}(?![A-Za-z]))"
        rf"|{_CURRENCY_CODE}\s?{_NUMBER}",
    ),
    ("phone", r"\+\d[\d \-()]{6,}\d"),
    # Order, ticket and tracking numbers, dates: 4+ digits, optionally with a short prefix.
    ("number", rf"(?<!{_GLUING})(?<!#)#?(?:[A-Z]{{1,5}}-?)?\d{{4,}}(?:[-/]\d+)*(?!{_GLUING})"),
    ("code", rf"(?<!{_GLUING})(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{{4,}}(?!{_GLUING})"),
)

_TRAILING_URL_PUNCTUATION = ".,;:!?)]}"


class SpansLostError(ValueError):
    """A translation dropped, duplicated or invented a protected-span token."""


@dataclass(frozen=True)
class Masked:
    """A text with its protected spans replaced by numbered tokens (1-based)."""

    text: str
    spans: tuple[str, ...]
    pattern: str

    def token(self, n: int) -> str:
        return self.pattern.format(n=n)


def token_regex(pattern: str) -> re.Pattern:
    """Finds the tokens of `pattern` ("X{n}" -> X1, X12) with their number as group 1."""
    prefix, suffix = pattern.split("{n}")
    # Not after a capital or digit ("MAX1" is no token); after a lowercase letter it is, since
    # a span can sit right after a word ("app</b>" -> "appX3").
    before = r"(?<![A-Z0-9])" if prefix[-1:].isalnum() else ""
    return re.compile(f"{before}{re.escape(prefix)}(\\d+){re.escape(suffix)}(?!\\d)")


def load_glossary(path: str | None) -> list[str]:
    """Terms from a glossary file: one per line; blank lines and '#' comments ignored."""
    if not path:
        return []
    file = Path(path)
    if not file.is_file():
        from bot.translation.base import TranslationConfigError

        raise TranslationConfigError(
            f"translation.glossary: the file '{path}' does not exist. Create it (one term per line) or remove the key."
        )
    terms = (line.split("#", 1)[0].strip() for line in file.read_text(encoding="utf-8").splitlines())
    return [term for term in terms if term]


class SpanProtector:
    """Finds protected spans and swaps them for tokens and back.

    Example:
        >>> protector = SpanProtector(glossary=["Cobalt Shop"])
        >>> masked = protector.mask("Cobalt Shop ships order 10045 today.")
        >>> masked.text
        'X1 ships order X2 today.'
        >>> protector.unmask("X1 envia o pedido X2 hoje.", masked)
        'Cobalt Shop envia o pedido 10045 hoje.'
    """

    def __init__(self, glossary: Iterable[str] = ()) -> None:
        patterns = [f"(?P<{name}>{regex})" for name, regex in SPAN_PATTERNS]
        terms = sorted({t for t in glossary if t}, key=len, reverse=True)
        if terms:
            alternatives = "|".join(re.escape(t) for t in terms)
            patterns.append(f"(?P<glossary>(?<!{_GLUING})(?:{alternatives})(?!{_GLUING}))")
        self._regexes = [re.compile(p) for p in patterns]
        self.glossary = terms

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) of every protected span, in text order."""
        found: list[tuple[int, int]] = []
        for regex in self._regexes:
            for match in regex.finditer(text):
                start, end = match.span()
                if match.lastgroup == "url":
                    while end > start and text[end - 1] in _TRAILING_URL_PUNCTUATION:
                        end -= 1
                if end > start:
                    found.append((start, end))
        found.sort(key=lambda span: (span[0], -(span[1] - span[0])))
        chosen: list[tuple[int, int]] = []
        for start, end in found:
            if not chosen or start >= chosen[-1][1]:
                chosen.append((start, end))
        return chosen

    def mask(self, text: str, pattern: str | None = None) -> Masked:
        """Replaces each span by a token of `pattern` (default: a shape absent from `text`)."""
        pattern = pattern or free_pattern(text)
        pieces, spans, position = [], [], 0
        for start, end in self.spans(text):
            pieces.append(text[position:start])
            spans.append(text[start:end])
            pieces.append(pattern.format(n=len(spans)))
            position = end
        pieces.append(text[position:])
        return Masked("".join(pieces), tuple(spans), pattern)

    def unmask(self, translated: str, masked: Masked) -> str:
        """Puts the spans back into a translation of `masked.text`.

        Raises:
            SpansLostError: a token is missing, repeated or unknown.
        """
        regex = token_regex(masked.pattern)
        numbers = [int(n) for n in regex.findall(translated)]
        if sorted(numbers) != list(range(1, len(masked.spans) + 1)):
            raise SpansLostError(f"expected tokens 1..{len(masked.spans)} once each, got {sorted(numbers)}")
        return regex.sub(lambda m: masked.spans[int(m.group(1)) - 1], translated)


def token_numbers(text: str, pattern: str) -> list[int]:
    """The numbers of the `pattern` tokens in `text`, sorted (repeats kept)."""
    return sorted(int(n) for n in token_regex(pattern).findall(text))


def split_on_tokens(text: str, pattern: str) -> list[str]:
    """`text` as alternating text pieces and tokens: tokens sit at the odd indexes."""
    pieces, position = [], 0
    for match in token_regex(pattern).finditer(text):
        pieces += [text[position : match.start()], match.group(0)]
        position = match.end()
    return pieces + [text[position:]]


def free_pattern(text: str, preferred: Sequence[str] = BACKEND_PATTERNS) -> str:
    """The first token shape of `preferred` that does not already occur in `text`."""
    return next((p for p in preferred if not token_regex(p).search(text)), preferred[-1])


def retoken(text: str, source_pattern: str, target_pattern: str) -> str:
    """`text` with its `source_pattern` tokens rewritten in `target_pattern`, same numbers."""
    return token_regex(source_pattern).sub(lambda m: target_pattern.format(n=m.group(1)), text)
