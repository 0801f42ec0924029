"""Finds the historical answers closest to a customer's question, in any language.

The question is embedded on the encoder's query side and searched among the stored
historical questions (one vector each); hits are resolved through the SQL metadata and
merged per answer, keeping the best-matching question's score (cosine similarity).
The retriever follows the store: when `bridge kb add` or `bridge kb remove` commits a new
manifest, the next search reloads the index, so a running bot needs no restart.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.knowledge.store import KnowledgeBaseStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    """One historical answer matching a query."""

    entry_id: str
    score: float
    answer: str
    language: str
    question: str
    tags: Tuple[str, ...]
    updated_at: str

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.entry_id, "score": round(self.score, 4), "answer": self.answer, "language": self.language,
            "question": self.question, "tags": list(self.tags), "updated_at": self.updated_at,
        }


class AnswerRetriever:
    """Searches one knowledge base store.

    Args:
        store: the store to search.
        encoder_dir: the encoder folder; must be the one the store was built with.
        threads: torch threads of the encoder.

    Example:
        >>> retriever = AnswerRetriever(KnowledgeBaseStore("var/knowledge_base"), "build/encoders/multilingual-e5-small")
        >>> retriever.search(["¿Vendéis tarjetas regalo?"], k=1)[0][0].entry_id
        'gift-001'
    """

    def __init__(self, store: KnowledgeBaseStore, encoder_dir: str | os.PathLike, threads: int = 2) -> None:
        self.store = store
        self.encoder_dir = str(encoder_dir)
        self.threads = threads
        self._index = None
        self._manifest: Optional[Dict[str, Any]] = None
        self._manifest_stamp: Optional[Tuple[int, int]] = None

    def _stamp(self) -> Optional[Tuple[int, int]]:
        try:
            stat = self.store.manifest_path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_ino

    def open(self) -> "AnswerRetriever":
        """Loads the committed index (refusing one built by another encoder)."""
        stamp = self._stamp()
        manifest = self.store.require_manifest()
        self.store.check_encoder(self.encoder_dir, manifest)
        self._index = self.store.open_index(manifest)
        self._manifest, self._manifest_stamp = manifest, stamp
        logger.info(
            f"knowledge base: loaded {manifest['entries']} answers ({manifest['vectors']} questions, "
            f"{manifest['index_type']}) from {self.store.directory}"
        )
        return self

    def refresh(self) -> None:
        """Reloads the index if a newer manifest was committed since it was loaded."""
        if self._index is None or self._stamp() != self._manifest_stamp:
            self.open()

    @property
    def manifest(self) -> Dict[str, Any]:
        self.refresh()
        return self._manifest

    def search(self, texts: Sequence[str], k: int = 5) -> List[List[Hit]]:
        """The `k` best answers for each text, best first (one hit per answer)."""
        from bot.models.encoder import load_encoder

        self.refresh()
        if not texts:
            return []
        vectors = load_encoder(self.encoder_dir, self.threads).embed_queries(list(texts))
        return self.search_vectors(vectors, k)

    def search_vectors(self, vectors: np.ndarray, k: int = 5) -> List[List[Hit]]:
        """Like `search`, for query vectors already embedded."""
        self.refresh()
        # Several questions may point at one answer, and removed vectors may linger as
        # tombstones: fetch enough candidates to still return k distinct live answers.
        fetch = min(self._index.ntotal, k * 4 + self._manifest.get("tombstones", 0))
        if fetch == 0:
            return [[] for _ in range(len(vectors))]
        scores, ids = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), fetch)
        records = self.store.metadata.lookup(sorted({int(i) for i in ids.ravel() if i >= 0}))
        results: List[List[Hit]] = []
        for row_scores, row_ids in zip(scores, ids):
            best: Dict[str, Hit] = {}
            for score, vector_id in zip(row_scores, row_ids):
                record = records.get(int(vector_id))
                if record is None or record.entry_id in best:
                    continue
                best[record.entry_id] = Hit(
                    record.entry_id, float(score), record.answer, record.language, record.question,
                    record.tags, record.updated_at,
                )
                if len(best) == k:
                    break
            results.append(sorted(best.values(), key=lambda h: -h.score))
        return results
