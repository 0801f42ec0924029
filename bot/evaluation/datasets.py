"""Labelled intent examples for evaluation: the bot's NLU files (read by bot.training_data),
the Bitext set, the xSID cross-lingual set, and deterministic splits.

Every split is deterministic (fixed seed) so that all systems compared in one benchmark,
and every run of `bridge eval nlu`, see exactly the same training and test examples.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.training_data import Example, load_nlu_examples

__all__ = [
    "DEFAULT_SEED",
    "Example",
    "cross_validation_folds",
    "held_out_split",
    "load_bitext",
    "load_nlu_examples",
    "load_xsid",
    "per_intent_sample",
    "subsample",
    "to_training_data",
]

DEFAULT_SEED = 42


def load_bitext(path: str | Path) -> list[Example]:
    """The Bitext customer-support requests (column `instruction`) and their intents (English)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [Example(row["instruction"].strip(), row["intent"].strip(), "en") for row in csv.DictReader(handle)]


def load_xsid(path: str | Path, language: str) -> list[Example]:
    """The requests of one xSID .conll file (`# text:` and `# intent:` lines), in `language`.

    xSID names intents like `alarm/set_alarm`; Rasa reads a `/` in an intent as a retrieval
    intent and would learn only `alarm`, so the `/` becomes `_` (`alarm_set_alarm`).
    """
    examples, text = [], None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("# text:"):
            text = line[len("# text:") :].strip()
        elif line.startswith("# intent:") and text:
            examples.append(Example(text, line[len("# intent:") :].strip().replace("/", "_"), language))
            text = None
    return examples


def _shuffled_groups(examples: Iterable[Example], by_language: bool, seed: int) -> list[list[Example]]:
    """The examples of each intent (x language) group, in a fixed group order, each group
    shuffled by one generator seeded with `seed`: every split and sample below draws from it."""
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in examples:
        groups.setdefault((example.intent, example.language if by_language else ""), []).append(example)
    rng = random.Random(seed)
    shuffled = []
    for key in sorted(groups):
        group = groups[key][:]
        rng.shuffle(group)
        shuffled.append(group)
    return shuffled


def held_out_split(
    examples: Sequence[Example],
    test_per_group: int | None = None,
    test_fraction: float | None = None,
    seed: int = DEFAULT_SEED,
    by_language: bool = True,
) -> tuple[list[Example], list[Example]]:
    """(train, test): from every intent (x language) group, `test_per_group` examples or
    `test_fraction` of them go to the test side, chosen with a fixed seed."""
    if (test_per_group is None) == (test_fraction is None):
        raise ValueError("held_out_split: give exactly one of test_per_group or test_fraction.")
    train: list[Example] = []
    test: list[Example] = []
    for group in _shuffled_groups(examples, by_language, seed):
        count = test_per_group if test_per_group is not None else int(round(len(group) * test_fraction))
        count = min(count, len(group) - 1)
        test.extend(group[:count])
        train.extend(group[count:])
    return train, test


def cross_validation_folds(
    examples: Sequence[Example], folds: int, seed: int = DEFAULT_SEED, by_language: bool = True
) -> list[tuple[list[Example], list[Example]]]:
    """`folds` (train, test) pairs in which every example is tested exactly once: the i-th
    example of each shuffled intent (x language) group is tested in fold i mod `folds`."""
    if folds < 2:
        raise ValueError(f"cross_validation_folds: folds must be at least 2, got {folds}.")
    groups = _shuffled_groups(examples, by_language, seed)
    return [
        (
            [e for group in groups for i, e in enumerate(group) if i % folds != fold],
            [e for group in groups for i, e in enumerate(group) if i % folds == fold],
        )
        for fold in range(folds)
    ]


def per_intent_sample(examples: Sequence[Example], per_intent: int, seed: int = DEFAULT_SEED) -> list[Example]:
    """At most `per_intent` examples of each intent (the few-shot training sets)."""
    return [e for group in _shuffled_groups(examples, False, seed) for e in group[:per_intent]]


def subsample(examples: Sequence[Example], limit: int | None, seed: int = DEFAULT_SEED) -> list[Example]:
    """A stratified subsample of about `limit` examples (all of them when limit is None)."""
    if limit is None or limit >= len(examples):
        return list(examples)
    fraction = limit / len(examples)
    return [
        e
        for group in _shuffled_groups(examples, True, seed)
        for e in group[: max(1, int(round(len(group) * fraction)))]
    ]


def to_training_data(examples: Sequence[Example]) -> TrainingData:
    """Rasa TrainingData of the examples, each example's language kept as its own metadata.

    Per example, not per intent: Rasa's YAML writer keeps one intent-level metadata per
    intent (its first example's), so an intent with examples in 12 languages would be
    written back as all in one language."""
    messages = [
        Message(
            data={
                "text": e.text,
                "intent": e.intent,
                **({"metadata": {"example": {"language": e.language}}} if e.language else {}),
            }
        )
        for e in examples
    ]
    return TrainingData(training_examples=messages)
