"""Splits a message into the lines a model translates and puts its layout back around them.

Models translate sentences, not documents: given a list or a multi-line answer they merge
lines, drop bullets and renumber steps. So each line is translated on its own, and what
frames it — indentation, list markers ("- ", "1. ", "- [ ] "), headings ("## "), quotes
("> ") and trailing spaces — is kept aside and put back unchanged. Lines with no letters
(blank lines, "---", a lone order number) are not translated at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(
    r"^(?P<prefix>\s*(?:(?:#{1,6}|>|[-*+•]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?)*)(?P<content>.*?)(?P<suffix>\s*)$",
    re.DOTALL,
)
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Line:
    """One line: the frame (`prefix`, `suffix`) stays, the `content` is translated."""

    prefix: str
    content: str
    suffix: str

    @property
    def translatable(self) -> bool:
        return bool(_LETTER.search(self.content))


def split_lines(text: str) -> list[Line]:
    """The text's lines with their frames; `join_lines(split_lines(t)) == t`."""
    lines = []
    for raw in text.split("\n"):
        match = _LINE.match(raw)
        lines.append(Line(match.group("prefix"), match.group("content"), match.group("suffix")))
    return lines


def join_lines(lines: list[Line], contents: list[str]) -> str:
    """Rebuilds the text with each line's frame around the corresponding new content."""
    return "\n".join(f"{line.prefix}{content}{line.suffix}" for line, content in zip(lines, contents))
