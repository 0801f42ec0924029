"""Benchmark: language identification of single words, word pairs and sentences.

Bridge's LanguageIdentifier is compared, in the same run, with lingua alone (restricted to
the supported languages) and langdetect alone (all its languages), on lingua's test sets in
../shared/data/langid for the 12 demo languages. Our identifier is scored on its own
answer: an undecided turn counts as its best candidate (the undecided rate is reported), a
turn it calls unsupported counts as wrong. A second table reports the unsupported-language
screen: how many sentences in the other 63 test languages it flags, and how many
supported-language texts it flags by mistake.

`--data flores` runs the same on text cut from FLORES-200 devtest sentences instead: that
is the development set the identifier's thresholds were tuned on (never the test sets).

Usage:
    bridge bench langid                  # full run (about 34,000 texts, a few minutes)
    bridge bench langid --limit 200      # quick: 200 texts per language and category
    bridge bench langid --data flores    # the tuning (dev) set
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.report import format_table, write_results
from bot.language.codes import DEMO_LANGUAGES, FLORES_CODES
from bot.language.detectors import langdetect_ranking, lingua_languages, lingua_ranking
from bot.language.evidence import linguistic_words
from bot.language.identifier import LanguageIdentifier

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
CATEGORIES = ("single-words", "word-pairs", "sentences")
Sample = list[tuple[str, str]]  # (text, language)


def _lines(path: Path, limit: int | None) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def load_langid(data_dir: Path, languages: Sequence[str], limit: int | None) -> dict[str, Sample]:
    """lingua's test texts per category for `languages` (at most `limit` per file)."""
    folder = data_dir / "langid"
    missing = [c for c in CATEGORIES for code in languages if not (folder / c / f"{code}.txt").is_file()]
    if missing:
        raise SystemExit(f"bench langid: test files missing under {folder} ({missing[:3]}...). Check --data-dir.")
    return {c: [(t, code) for code in languages for t in _lines(folder / c / f"{code}.txt", limit)] for c in CATEGORIES}


def load_flores_dev(data_dir: Path, languages: Sequence[str], limit: int | None) -> dict[str, Sample]:
    """The tuning set: single words, word pairs and whole sentences cut from FLORES-200.

    Words are lower-cased like lingua's test words; Chinese and Japanese, written without
    spaces, are cut into runs of 1-2 (words) and 3-5 (pairs) characters.
    """
    rng = random.Random(7)
    samples: dict[str, Sample] = {c: [] for c in CATEGORIES}
    count = limit or 1000
    for code in languages:
        sentences = _lines(data_dir / "flores200" / f"{FLORES_CODES[code]}.devtest", None)
        words = [w.lower() for s in sentences for w in linguistic_words(s)]
        if code in ("zh", "ja"):
            text = "".join(words)
            cut = lambda low, high, text=text: text[(i := rng.randrange(len(text) - high)) : i + rng.randint(low, high)]  # noqa: E731
            singles = [cut(1, 2) for _ in range(count)]
            pairs = [cut(3, 5) for _ in range(count)]
        else:
            singles = [rng.choice(words) for _ in range(count)]
            starts = [rng.randrange(len(words) - 1) for _ in range(count)]
            pairs = [f"{words[i]} {words[i + 1]}" for i in starts]
        samples["single-words"] += [(t, code) for t in singles]
        samples["word-pairs"] += [(t, code) for t in pairs]
        samples["sentences"] += [(t, code) for t in sentences[:count]]
    return samples


def _timed(predict: Callable[[str], str | None], sample: Sample) -> tuple[list[str | None], float]:
    start = time.perf_counter()
    predictions = [predict(text) for text, _ in sample]
    return predictions, 1000 * (time.perf_counter() - start) / max(len(sample), 1)


def _top(ranking: list[tuple[str, float]]) -> str | None:
    return ranking[0][0] if ranking else None


def run(samples: dict[str, Sample], languages: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Accuracy (%) and ms per text for each system and category."""
    identifier = LanguageIdentifier(languages)
    identifier.preload()
    stats: dict[str, int] = {"undecided": 0, "unsupported": 0}

    def ours(text: str) -> str | None:
        guess = identifier.identify(text)
        stats["undecided"] += not guess.decided and guess.supported
        stats["unsupported"] += not guess.supported
        return guess.language or (guess.best_candidate if guess.supported else None)

    systems: dict[str, Callable[[str], str | None]] = {
        "bridge": ours,
        "lingua (restricted)": lambda text: _top(lingua_ranking(text, languages)),
        "langdetect": lambda text: _top(langdetect_ranking(text)),
    }
    for predict in systems.values():  # load every model before anything is timed
        predict("warm up")
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in systems}
    for category, sample in samples.items():
        for name, predict in systems.items():
            stats.update(undecided=0, unsupported=0)
            predictions, ms = _timed(predict, sample)
            correct = sum(p == language for p, (_, language) in zip(predictions, sample))
            results[name][category] = {"accuracy": 100 * correct / len(sample), "ms_per_text": ms, "texts": len(sample)}
            if name == "bridge":
                results[name][category]["undecided"] = 100 * stats["undecided"] / len(sample)
                results[name][category]["false_unsupported"] = 100 * stats["unsupported"] / len(sample)
    return results


def unsupported_screen(data_dir: Path, languages: Sequence[str], limit: int) -> dict[str, float]:
    """How often sentences in lingua's other test languages are flagged as unsupported."""
    identifier = LanguageIdentifier(languages)
    folder = data_dir / "langid" / "sentences"
    others = sorted(p.stem for p in folder.glob("*.txt") if p.stem not in languages and p.stem in lingua_languages())
    flagged = total = 0
    for code in others:
        for text in _lines(folder / f"{code}.txt", limit):
            flagged += not identifier.identify(text).supported
            total += 1
    return {"languages": len(others), "sentences": total, "flagged_percent": 100 * flagged / max(total, 1)}


def mean_ms_per_text(result: dict[str, dict[str, float]]) -> float:
    """Milliseconds a text over all categories, each weighted by its number of texts."""
    total_ms = sum(result[c]["ms_per_text"] * result[c]["texts"] for c in CATEGORIES)
    return total_ms / sum(result[c]["texts"] for c in CATEGORIES)


def main(argv: list[str]) -> None:
    """Runs the benchmark, prints the tables and writes results/bench/langid.json."""
    parser = argparse.ArgumentParser(prog="bridge bench langid", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("langid", "flores"), default="langid", help="test sets or the dev set")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="the shared data folder")
    parser.add_argument("--limit", type=int, default=None, help="at most this many texts per language and category")
    parser.add_argument("--unsupported-limit", type=int, default=100, help="sentences per unsupported language")
    args = parser.parse_args(argv)
    languages = list(DEMO_LANGUAGES)
    loader = load_langid if args.data == "langid" else load_flores_dev
    results = run(loader(args.data_dir, languages, args.limit), languages)
    rows = [
        [
            name,
            *(f"{r[c]['accuracy']:.1f}" for c in CATEGORIES),
            f"{mean_ms_per_text(r):.3f}",
        ]
        for name, r in results.items()
    ]
    print(f"Language identification, 12 languages, data: {args.data} (accuracy %, ms per text)")
    print(format_table(["system", *CATEGORIES, "ms/text"], rows))
    ours = results["bridge"]
    print(
        "bridge undecided %: "
        + ", ".join(f"{c} {ours[c]['undecided']:.1f}" for c in CATEGORIES)
        + " | called unsupported by mistake %: "
        + ", ".join(f"{c} {ours[c]['false_unsupported']:.2f}" for c in CATEGORIES)
    )
    screen = unsupported_screen(args.data_dir, languages, args.unsupported_limit) if args.data == "langid" else {}
    if screen:
        print(
            format_table(
                ["unsupported languages", "sentences", "flagged as unsupported %"],
                [[screen["languages"], screen["sentences"], f"{screen['flagged_percent']:.1f}"]],
            )
        )
    path = write_results(
        f"langid-{args.data}" if args.data != "langid" else "langid",
        {
            "data": args.data,
            "limit": args.limit,
            "languages": languages,
            "results": results,
            "unsupported_screen": screen,
        },
    )
    print(f"written to {path}")
