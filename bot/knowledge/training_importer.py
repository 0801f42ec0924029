"""Rasa training-data importer: what the knowledge base answers, as examples of one intent.

The intent classifier routes a turn; if it has never seen what the knowledge base covers, it
takes a knowledge-base question ("do you ship to Norway?") for the nearest intent it knows
(delivery_time) with high confidence, and the knowledge base never gets the turn. Rasa's way
for FAQs is a retrieval intent learned by the classifier next to the others; this importer
makes the knowledge base's stored questions (and, when asked, the answers and their
per-language versions) training examples of the intent `knowledge_base_question`, which the
KnowledgeBaseRetriever then resolves to one answer.

It is an importer, not a copy of the questions in training_data/nlu, so the examples follow
knowledge_base/ by themselves: Rasa's fingerprint of the NLU data changes when a source file
changes, and `rasa train` retrains the classifier like after any data change.

It is Rasa's own file importer plus these examples, so it replaces the default importer (one
importer keeps Rasa's auto-configuration, which refuses several). config.yml:

    importers:
      - name: bot.knowledge.training_importer.KnowledgeBaseImporter
        source: knowledge_base/demo
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.source import Entry, load_entries

logger = logging.getLogger(__name__)

DEFAULT_INTENT = "knowledge_base_question"


def knowledge_base_texts(entries: Sequence[Entry], include_answers: bool = False) -> list[str]:
    """The texts the classifier learns as the knowledge-base intent, each once, in source order.

    Args:
        entries: the knowledge base's entries.
        include_answers: also the answer texts and their per-language versions (they name the
            topic in languages no stored question is written in).
    """
    texts: dict[str, None] = {}
    for entry in entries:
        for text in entry.questions:
            texts.setdefault(text.strip(), None)
        if include_answers:
            for text in (entry.answer, *entry.versions.values()):
                texts.setdefault(text.strip(), None)
    return [t for t in texts if t]


class KnowledgeBaseImporter(RasaFileImporter):
    """Rasa's file importer, whose NLU data also holds the knowledge base's questions as
    examples of one intent.

    Args:
        config_file, domain_path, training_data_paths: as for RasaFileImporter (what Rasa
            passes every importer).
        source: knowledge-base source file or folder (JSONL / CSV, knowledge_base/README.md),
            relative to the project folder `rasa train` runs in.
        intent: the intent the examples get; the domain must list it, and a rule maps it to
            action_answer_from_knowledge_base.
        include_answers: also learn the answer texts and their per-language versions.

    Raises:
        ValueError: on a bad option, naming the option and what is allowed.
        bot.knowledge.source.SourceError: when the source has invalid entries (every problem
            with its file and line), so a broken source stops training instead of training
            a classifier that forgot the knowledge base.
    """

    def __init__(
        self,
        config_file: str | None = None,
        domain_path: str | None = None,
        training_data_paths: str | list[str] | None = None,
        source: str = "knowledge_base",
        intent: str = DEFAULT_INTENT,
        include_answers: bool = False,
    ) -> None:
        name = type(self).__name__
        if not isinstance(source, str) or not source:
            raise ValueError(f"{name}: 'source' must be a knowledge-base file or folder, got {source!r}.")
        if not isinstance(intent, str) or not intent:
            raise ValueError(f"{name}: 'intent' must be an intent name, got {intent!r}.")
        if not isinstance(include_answers, bool):
            raise ValueError(f"{name}: 'include_answers' must be true or false, got {include_answers!r}.")
        super().__init__(config_file, domain_path, training_data_paths)
        self.source = Path(source)
        self.intent = intent
        self.include_answers = include_answers

    def get_nlu_data(self, language: str | None = "en") -> TrainingData:
        """The project's NLU data plus the knowledge base's texts as examples of `intent`."""
        texts = knowledge_base_texts(load_entries(self.source), self.include_answers)
        logger.info(f"{type(self).__name__}: {len(texts)} examples of '{self.intent}' from {self.source}")
        added = TrainingData([Message(data={"text": text, "intent": self.intent}) for text in texts])
        return super().get_nlu_data(language).merge(added)
