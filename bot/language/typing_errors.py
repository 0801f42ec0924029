"""Synthetic typing errors: noisy copies of training examples, so a classifier learns typos.

Customers type fast on small keyboards: "teack my order", "wanna edit the addrtess",
"acncel pro account". A classifier trained only on clean examples meets these spellings
for the first time in production. A noisy copy of an example keeps its words but one of
them carries one of the four errors people make at a keyboard: two neighbouring letters
swapped ("acncel"), one letter left out ("edt"), a neighbouring key hit as well
("addrtess") or instead ("srnd" for "send").

Only words written in a cased script (Latin, Cyrillic, Greek...) are changed, and only
those of at least `MIN_WORD_LETTERS` letters: these scripts are typed letter by letter, so a
slip changes one letter. Chinese, Japanese, Korean, Arabic and Devanagari are typed through
input methods or composed syllables, where errors look different; their examples get no
copy. Neighbouring keys follow the QWERTY layout for ASCII letters; other letters are only
swapped, dropped or doubled.

Example:
    >>> import random
    >>> with_typing_error("where is my order", random.Random(3))
    'wher is my order'
"""

from __future__ import annotations

import random
import re

MIN_WORD_LETTERS = 3
_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# How far each row is shifted right, in keys: the rows of a keyboard are staggered.
_ROW_OFFSETS = (0.0, 0.25, 0.75)
_WORD = re.compile(r"\w+")


def _qwerty_neighbours() -> dict[str, str]:
    """The keys touching each letter on a QWERTY keyboard ("a": "qwsz")."""
    position = {
        key: (row, column + _ROW_OFFSETS[row])
        for row, keys in enumerate(_QWERTY_ROWS)
        for column, key in enumerate(keys)
    }
    return {
        key: "".join(
            other for other, (r, x) in position.items() if other != key and abs(r - row) <= 1 and abs(x - column) <= 1
        )
        for key, (row, column) in position.items()
    }


_NEIGHBOURS = _qwerty_neighbours()


def _is_typed_letter_by_letter(word: str) -> bool:
    """Whether `word` is long enough and written only in letters that have upper and lower case."""
    return len(word) >= MIN_WORD_LETTERS and all(ch.isalpha() and ch.lower() != ch.upper() for ch in word)


def _misspell(word: str, rng: random.Random) -> str:
    """`word` with one keyboard slip: a swap, an omission, an extra key or a wrong key."""
    position = rng.randrange(len(word))
    letter = word[position]
    near = _NEIGHBOURS.get(letter.lower(), "")
    kinds = ["swap", "omit"] + (["insert", "replace"] if near else ["double"])
    kind = rng.choice(kinds)
    if kind == "swap":
        position = min(position, len(word) - 2)
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == "omit":
        return word[:position] + word[position + 1 :]
    if kind == "double":
        return word[:position] + letter + word[position:]
    key = rng.choice(near)
    key = key.upper() if letter.isupper() else key
    if kind == "insert":
        return word[: position + 1] + key + word[position + 1 :]
    return word[:position] + key + word[position + 1 :]


def with_typing_error(text: str, rng: random.Random) -> str | None:
    """`text` with one typing error in one of its words; None when no word can carry one.

    Args:
        text: a training example.
        rng: the random generator (seeded by the caller, so training is repeatable).

    Returns:
        The noisy copy, different from `text`, or None for text in uncased scripts.
    """
    words = [match for match in _WORD.finditer(text) if _is_typed_letter_by_letter(match.group())]
    if not words:
        return None
    match = rng.choice(words)
    noisy = _misspell(match.group(), rng)
    if noisy == match.group():  # swapping a doubled letter ("ll") changes nothing
        noisy = match.group()[:-1]
    return text[: match.start()] + noisy + text[match.end() :]
