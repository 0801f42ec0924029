"""Finds the historical answers closest to a customer's question, in any language.

The question is embedded on the encoder's query side, centred on its language (see
language_centroids.py) and searched among the stored historical questions (one vector
each); hits are resolved through the SQL metadata and merged per answer, keeping the
best-matching question. An answer's score blends that question's similarity with the
similarity of the answer text itself:

    score = (1 - answer_weight) * cos(message, question) + answer_weight * cos(message, answer)

where the answer is the answer's own version in the question's language when the source has
one (its per-language versions are embedded with it), else the answer as written. The answer
term helps most when the closest stored question was asked in another language or worded
differently (bench/kb.py measures both parts); matching a Korean question against the Korean
version of an answer does not ask the encoder to cross languages at all. With `classifier_weight` above 0,
the answer classifier's log-probability of the answer (answer_classifier.py, trained on the
store's own vectors when it is opened) is added:

    score += classifier_weight * max(log(P(answer | message) * answers), LOG_ODDS_FLOOR)

(log of how many times likelier than chance the classifier finds the answer: 0 for a
classifier with no opinion, so the score keeps its scale and the threshold its meaning).

It tells close neighbours apart where one question's similarity cannot (bench/answers.py).

The retriever follows the store: when `bridge kb add` or `bridge kb remove` commits a new
manifest, the next search reloads the index, so a running bot needs no restart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.knowledge.answer_classifier import MAX_VECTORS, AnswerClassifier
from bot.knowledge.language_centroids import LanguageCentroids
from bot.knowledge.store import KnowledgeBaseStore

logger = logging.getLogger(__name__)

# Question hits fetched per query before the answer term reorders them.
RERANK_CANDIDATES = 20
# An answer the classifier rules out costs this much at most: similarity still counts.
LOG_ODDS_FLOOR = -5.0


@dataclass(frozen=True)
class Hit:
    """One historical answer matching a query."""

    entry_id: str
    score: float  # the blended score the decision rules use
    answer: str
    language: str
    question: str
    tags: tuple[str, ...]
    updated_at: str
    question_score: float  # cosine similarity to the best-matching historical question
    versions: dict[str, str] = field(default_factory=dict)  # the answer in other languages
    answer_probability: float | None = None  # the answer classifier's, when it is on

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "score": round(self.score, 4),
            "question_score": round(self.question_score, 4),
            "answer": self.answer,
            "language": self.language,
            "question": self.question,
            "tags": list(self.tags),
            "updated_at": self.updated_at,
            "versions": dict(self.versions),
            "answer_probability": None if self.answer_probability is None else round(self.answer_probability, 4),
        }


class AnswerRetriever:
    """Searches one knowledge base store.

    Args:
        store: the store to search.
        encoder_dir: the encoder folder; must be the one the store was built with.
        threads: torch threads of the encoder.
        answer_weight: share of the answer text's similarity in a hit's score (0 = questions only).
        classifier_weight: weight of the answer classifier's log-probability (0 = off).

    Example:
        >>> store = KnowledgeBaseStore("var/knowledge_base")
        >>> retriever = AnswerRetriever(store, "build/encoders/multilingual-e5-small")
        >>> retriever.search(["¿Vendéis tarjetas regalo?"], k=1)[0][0].entry_id
        'gift-001'
    """

    def __init__(
        self,
        store: KnowledgeBaseStore,
        encoder_dir: str | os.PathLike,
        threads: int = 2,
        answer_weight: float = 0.35,
        classifier_weight: float = 0.0,
    ) -> None:
        if not 0.0 <= answer_weight <= 1.0:
            raise ValueError(f"answer_weight must be between 0 and 1, got {answer_weight!r}.")
        if not 0.0 <= classifier_weight <= 1.0:
            raise ValueError(f"classifier_weight must be between 0 and 1, got {classifier_weight!r}.")
        self.classifier_weight = classifier_weight
        self._classifier: AnswerClassifier | None = None
        self.store = store
        self.encoder_dir = str(encoder_dir)
        self.threads = threads
        self.answer_weight = answer_weight
        self._index = None
        self._centroids: LanguageCentroids | None = None
        self._identifier = None
        self._manifest: dict[str, Any] | None = None
        self._manifest_stamp: tuple[int, int] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.store.manifest_path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_ino

    def open(self) -> AnswerRetriever:
        """Loads the committed index (refusing one built by another encoder)."""
        stamp = self._stamp()
        manifest = self.store.require_manifest()
        self.store.check_encoder(self.encoder_dir, manifest)
        self._index = self.store.open_index(manifest)
        saved = manifest.get("language_centroids")
        self._centroids = LanguageCentroids.from_dict(saved) if saved else None
        self._classifier = self._train_classifier() if self.classifier_weight > 0 else None
        self._manifest, self._manifest_stamp = manifest, stamp
        logger.info(
            f"knowledge base: loaded {manifest['entries']} answers ({manifest['vectors']} questions, "
            f"{manifest['index_type']}) from {self.store.directory}"
        )
        return self

    def _train_classifier(self) -> AnswerClassifier | None:
        """The answer classifier over the store's question, answer and answer-version vectors
        (exact indexes only: an approximate one does not give its vectors back, and is far above
        the classifier's size)."""
        import faiss

        if not hasattr(self._index, "id_map") or not isinstance(
            faiss.downcast_index(self._index.index), faiss.IndexFlat
        ):
            return None
        ids = faiss.vector_to_array(self._index.id_map)
        if len(ids) > MAX_VECTORS:
            logger.info(
                f"knowledge base: {len(ids)} questions, more than {MAX_VECTORS}: answers are ranked by "
                f"similarity alone (no answer classifier)"
            )
            return None
        questions = self._index.index.reconstruct_n(0, self._index.ntotal)
        records = self.store.metadata.lookup([int(i) for i in ids])
        vectors, labels, answered = [], [], set()
        for vector_id, vector in zip(ids, questions):
            record = records.get(int(vector_id))
            if record is None:  # a tombstone of a removed question
                continue
            vectors.append(vector)
            labels.append(record.entry_id)
            if record.answer_vector is not None and record.entry_id not in answered:
                answered.add(record.entry_id)
                vectors.append(record.answer_vector)
                labels.append(record.entry_id)
                # The versions teach it the answer in each language a customer may ask in.
                vectors += list(record.version_vectors.values())
                labels += [record.entry_id] * len(record.version_vectors)
        return AnswerClassifier.fit(np.vstack(vectors), labels) if vectors else None

    def refresh(self) -> None:
        """Reloads the index if a newer manifest was committed since it was loaded."""
        if self._index is None or self._stamp() != self._manifest_stamp:
            self.open()

    @property
    def manifest(self) -> dict[str, Any]:
        self.refresh()
        return self._manifest

    def search(
        self, texts: Sequence[str], k: int = 5, languages: Sequence[str | None] | None = None
    ) -> list[list[Hit]]:
        """The `k` best answers for each text, best first (one hit per answer).

        `languages` are the texts' languages as the conversation knows them; where one is
        missing (None) it is identified from the text.
        """
        from bot.models.encoder import load_encoder

        self.refresh()
        if not texts:
            return []
        vectors = load_encoder(self.encoder_dir, self.threads).embed_queries(list(texts))
        if self._centroids is not None:
            known = list(languages) if languages is not None else [None] * len(texts)
            known = [code or self._identify(text) for code, text in zip(known, texts)]
            vectors = self._centroids.center(vectors, known)
            return self.search_vectors(vectors, k, known)
        return self.search_vectors(vectors, k, languages)

    def _identify(self, text: str) -> str | None:
        from bot.language.identifier import LanguageIdentifier

        if self._identifier is None:
            self._identifier = LanguageIdentifier(self._centroids.languages)
        return self._identifier.identify(text).language

    def search_vectors(
        self, vectors: np.ndarray, k: int = 5, languages: Sequence[str | None] | None = None
    ) -> list[list[Hit]]:
        """Like `search`, for query vectors already embedded (and centred); `languages` pick the
        answer versions the queries are matched against (None: the answers as written)."""
        self.refresh()
        # Several questions may point at one answer, removed vectors may linger as
        # tombstones, and the answer term reorders the candidates: fetch enough of them.
        fetch = min(self._index.ntotal, max(4 * k, RERANK_CANDIDATES) + self._manifest.get("tombstones", 0))
        if fetch == 0:
            return [[] for _ in range(len(vectors))]
        scores, ids = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), fetch)
        records = self.store.metadata.lookup(sorted({int(i) for i in ids.ravel() if i >= 0}))
        classifier = self._classifier
        log_probabilities = classifier.log_probabilities(vectors) if classifier is not None else None
        results: list[list[Hit]] = []
        languages = list(languages) if languages is not None else [None] * len(vectors)
        for row, (vector, row_scores, row_ids) in enumerate(zip(vectors, scores, ids)):
            best: dict[str, Hit] = {}
            for score, vector_id in zip(row_scores, row_ids):
                record = records.get(int(vector_id))
                if record is None or record.entry_id in best:
                    continue
                answer_vector = record.version_vectors.get(languages[row] or "", record.answer_vector)
                blended = self._blend(float(score), vector, answer_vector)
                probability = None
                if log_probabilities is not None:
                    column = classifier.column.get(record.entry_id)
                    probability = float(np.exp(log_probabilities[row, column])) if column is not None else 0.0
                    log_odds = np.log(max(probability, 1e-12) * len(classifier.entry_ids))
                    blended += self.classifier_weight * max(float(log_odds), LOG_ODDS_FLOOR)
                best[record.entry_id] = Hit(
                    record.entry_id,
                    blended,
                    record.answer,
                    record.language,
                    record.question,
                    record.tags,
                    record.updated_at,
                    float(score),
                    record.versions,
                    probability,
                )
            results.append(sorted(best.values(), key=lambda h: -h.score)[:k])
        return results

    def _blend(self, question_score: float, query: np.ndarray, answer_vector: np.ndarray | None) -> float:
        if answer_vector is None or self.answer_weight == 0.0:
            return question_score
        return (1.0 - self.answer_weight) * question_score + self.answer_weight * float(query @ answer_vector)
