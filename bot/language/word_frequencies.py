"""How often each language uses a word: the evidence that tells close languages apart on a word or two.

A character model (lingua) judges a word by its letter sequences, and "texto", "programas"
or "justice" look at home in several of the Latin-script languages. How often each language
actually uses the word settles most of these: wordfreq's frequency lists (built from
Wikipedia, subtitles, news, books and web text, and shipped inside the package, so nothing
is downloaded) give P(word | language). Multiplying lingua's confidence by these
likelihoods is Bayes' rule with lingua as the prior; a word no list knows (a name, a typo)
leaves lingua's judgement as it was.

Text often reaches us without its accents: customers leave them off ("informacion"), and
ASCII-only gateways and old exports drop the accented letters ("visin" for "visión"). An ASCII
word is therefore also looked up among the listed words spelt those two ways, and counts at
least a tenth of their frequency, also when a list holds the broken spelling as a rare token
of its own.

French and Italian join an elided article or pronoun to the next word ("l'adresse",
"j'attends", "un'altra"); wordfreq's tokenizer splits these, so its lists hold "l" and
"adresse" but not "l'adresse". A word a list lacks is therefore scored as its parts between
apostrophes, each as a word of its own: the clitic is strong evidence ("l" is 100 times more
common in French than in English), while words a list holds whole ("women's", "don't") keep
their own frequency.

The "large" lists (about 300,000 words per language, down to one use in 100 million) are
loaded once per process on first use; `preload` does it at start-up so no customer waits.
They are held as marisa tries, built once per machine and memory-mapped.

Example:
    >>> scores = word_log_likelihoods(["gracias"], ["es", "pt"])
    >>> scores["es"] > scores["pt"]
    True
"""

from __future__ import annotations

import logging
import math
import os
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path

import marisa_trie

logger = logging.getLogger(__name__)

# The frequency given to a word a language's list lacks: a tenth of the rarest listed word
# (the lists stop at 1e-8), i.e. "this language may use it, but rarely".
UNLISTED_FREQUENCY = 1e-9
WORDLIST = "large"
# The share of a word's frequency credited to its spellings without accents.
ACCENTLESS_SHARE = 0.1


@lru_cache(maxsize=1)
def languages_with_lists() -> frozenset[str]:
    """ISO 639-1 codes that have a large frequency list."""
    from wordfreq import available_languages

    return frozenset(available_languages(WORDLIST))


@cache
def _frequencies(code: str) -> tuple[marisa_trie.RecordTrie, marisa_trie.RecordTrie]:
    """`code`'s list as two tries: each listed word's frequency, and each ASCII spelling's
    summed frequency of the accented words it may be spelt from.

    The tries are built once per machine into a cache folder and memory-mapped from there,
    so every process shares the same few MB of pages; building them takes about 150 MB for
    a moment, which a server's peak memory would otherwise carry. Where the cache cannot be
    written, the process keeps the tries it built in its own memory.
    """
    folder = cache_dir()
    paths = (folder / f"{code}-listed.marisa", folder / f"{code}-accentless.marisa")
    if all(path.is_file() for path in paths):
        return tuple(marisa_trie.RecordTrie("<d").mmap(str(path)) for path in paths)
    tries = _build_tries(code)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for trie, path in zip(tries, paths):
            # A process building the same list at the same time writes its own file first.
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            trie.save(str(partial))
            os.replace(partial, path)
    except OSError as error:
        logger.warning("word frequencies for %s kept in memory: cannot write %s (%s)", code, folder, error)
    return tries


def cache_dir() -> Path:
    """Where the built tries are kept: per wordfreq release, under BRIDGE_HOME (by default
    ~/.cache/bridge, beside the developers' environment)."""
    from importlib.metadata import version

    home = Path(os.environ.get("BRIDGE_HOME") or Path.home() / ".cache" / "bridge")
    return home / "word-frequencies" / f"wordfreq-{version('wordfreq')}-{WORDLIST}"


def _build_tries(code: str) -> tuple[marisa_trie.RecordTrie, marisa_trie.RecordTrie]:
    """The two tries of `code`'s list, read from the file wordfreq ships."""
    from wordfreq import available_languages, cB_to_freq, read_cBpack

    # Read from the file rather than through get_frequency_list, which keeps every list it
    # has read for the life of the process.
    buckets = read_cBpack(available_languages(WORDLIST)[code])
    listed = marisa_trie.RecordTrie(
        "<d", ((word, (cB_to_freq(-index),)) for index, bucket in enumerate(buckets) for word in bucket)
    )
    accentless: dict[str, float] = {}
    for index, bucket in enumerate(buckets):
        for word in bucket:
            if not word.isascii():
                for spelling in _ascii_spellings(word):
                    accentless[spelling] = accentless.get(spelling, 0.0) + cB_to_freq(-index)
    return listed, marisa_trie.RecordTrie("<d", ((word, (frequency,)) for word, frequency in accentless.items()))


def _ascii_spellings(word: str) -> set[str]:
    """An accented word's ASCII spellings: accents left off ("visión" -> "vision") and
    accented letters dropped ("visión" -> "visin")."""
    unaccented = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    dropped = "".join(c for c in word if c.isascii())
    return {spelling for spelling in (unaccented, dropped) if spelling.isascii() and spelling}


def _as_listed(word: str) -> str:
    """`word` as the lists store it: case-folded ("ß" as "ss"), straight apostrophes."""
    return word.casefold().replace("\u2019", "'")


def _frequency(word: str, code: str) -> float:
    """How often `code` uses `word`: its listed frequency or, if larger, the accentless share
    of the accented words it may be spelt from; 0 when neither is listed.

    The accented spellings count even when the list also holds the word as written: web
    text with lost accents leaves rare tokens such as "poltico" and "ltimos" in the very list
    whose language writes "político" and "últimos" (Spanish, at 1e-8), and alone those made
    the language look unlikely. A real word ("como") keeps its own, larger frequency.
    """
    listed_word = _as_listed(word)
    listed, accentless = _frequencies(code)
    records = listed.get(listed_word)
    frequency = records[0][0] if records else 0.0
    spelt_from = accentless.get(listed_word)
    if spelt_from:
        frequency = max(frequency, ACCENTLESS_SHARE * spelt_from[0][0])
    return frequency


def _log_frequency(word: str, code: str) -> float:
    """log P(word | code): the listed frequency, else the sum over its apostrophe-separated
    parts (elisions), else the frequency of an unlisted word."""
    frequency = _frequency(word, code)
    if frequency:
        return math.log(frequency)
    parts = [part for part in word.replace("\u2019", "'").split("'") if part]
    if len(parts) > 1 or (parts and parts[0] != word):
        return sum(_log_frequency(part, code) for part in parts)
    return math.log(UNLISTED_FREQUENCY)


def preload(codes: Iterable[str]) -> None:
    """Loads the lists of `codes` now, so no customer waits for them."""
    for code in codes:
        if code in languages_with_lists():
            _frequencies(code)


def share_of_common_words(words: Sequence[str], code: str, min_frequency: float) -> float:
    """The share of `words` that `code`'s list holds at `min_frequency` or more (0 without a list)."""
    if not words or code not in languages_with_lists():
        return 0.0
    common = sum(_frequency(word, code) >= min_frequency for word in words)
    return common / len(words)


def word_log_likelihoods(words: Sequence[str], codes: Sequence[str]) -> dict[str, float]:
    """log P(words | language) for each of `codes` that has a list, words taken as independent."""
    scores: dict[str, float] = {}
    for code in codes:
        if code not in languages_with_lists():
            continue
        scores[code] = sum(_log_frequency(word, code) for word in words)
    return scores
