"""Labelled intent examples read from a bot's Rasa NLU files, each with its language.

The knowledge base (language centroids) and the evaluation both need "which texts, of
which intent, in which language"; this module is the one place that reads them, so
neither has to import the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.message import Message


@dataclass(frozen=True)
class Example:
    """One labelled utterance; `language` is an ISO 639-1 code ("" when unknown)."""

    text: str
    intent: str
    language: str = ""


def example_language(message: Message) -> str:
    """The language a training example was written in: its intent's or its own
    `metadata.language` ("" when neither says)."""
    metadata = message.get("metadata") or {}
    return str((metadata.get("intent") or {}).get("language") or (metadata.get("example") or {}).get("language") or "")


def load_nlu_examples(path: str | Path) -> list[Example]:
    """Intent examples of a Rasa NLU file or folder, with the intent's `metadata.language`.

    Raises:
        ValueError: when the file or folder holds no intent examples.
    """
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        examples.append(Example(message.get("text"), message.get("intent"), example_language(message)))
    if not examples:
        raise ValueError(
            f"No intent examples in '{path}'. Point to a Rasa NLU file or folder (e.g. training_data/nlu)."
        )
    return examples
