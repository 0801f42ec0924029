"""The embeddings of the last few single texts, so that a turn is embedded once per encoder.

Within one turn the intent classifier, the knowledge-base retriever and the language step
each ask an encoder for the same message's embedding; the first pays for it, the others get
a copy. Only single texts are remembered: batches are training and indexing, which never
repeat a turn.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np

# Enough for every component of a few concurrent turns; a turn's text is looked up again within
# milliseconds of its first embedding.
RECENT_TEXTS = 64


class RecentEmbeddings:
    """A thread-safe least-recently-used map from (side, text) to an embedding row."""

    def __init__(self, size: int = RECENT_TEXTS) -> None:
        self._size = size
        self._rows: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The remembered embedding of `key`, or `compute()`'s, remembered; always a fresh copy."""
        with self._lock:
            if key in self._rows:
                self._rows.move_to_end(key)
                return self._rows[key].copy()
        embedding = compute()
        with self._lock:
            self._rows[key] = embedding
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)
        return embedding.copy()
