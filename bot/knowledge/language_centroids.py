"""Per-language centroids of the encoder's vectors, removed before cross-lingual retrieval.

A multilingual encoder places a sentence partly by what it says and partly by the language
it is written in: a Korean question lies closer to unrelated Korean questions than to the
English question that means the same. Subtracting the mean vector of the text's language
(its centroid) and normalising again removes most of that language component, so a
question finds the historical question that means the same in whatever language it was
asked. `bridge bench kb` measures what it buys (docs/benchmarks.md).

The centroids are computed from calibration texts in every language: by default the bot's
own NLU examples (training_data/nlu), whose intents carry `metadata.language`. A text in a
language without a centroid is centred on the mean of all centroids.

Example:
    >>> centroids = LanguageCentroids.compute(encoder, calibration_texts("training_data/nlu"))
    >>> centred = centroids.center(encoder.embed_queries(["Wo ist meine Bestellung?"]), ["de"])
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.training_data import load_nlu_examples

DEFAULT_CALIBRATION = "training_data/nlu"
# Fewer texts than this give a centroid that says more about the texts than the language.
MIN_TEXTS_PER_LANGUAGE = 20


class CalibrationError(ValueError):
    """The calibration data is missing or too thin to give a language's centroid."""


def require_calibration(path: str | os.PathLike) -> Path:
    """`path` as a Path, or a CalibrationError that names it and says what it is for."""
    if not Path(path).exists():
        raise CalibrationError(
            f"Calibration data '{path}' not found: it gives the per-language centroids that make retrieval work "
            f"across languages. Point `calibration` at a Rasa NLU file or folder whose intents have "
            f"metadata.language, or set it to null to store uncentred vectors."
        )
    return Path(path)


def calibration_texts(path: str | os.PathLike) -> dict[str, list[str]]:
    """Texts per language from a Rasa NLU file or folder (intent `metadata.language`)."""
    texts: dict[str, list[str]] = {}
    for example in load_nlu_examples(require_calibration(path)):
        if example.language:
            texts.setdefault(example.language, []).append(example.text)
    return texts


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class LanguageCentroids:
    """The mean query-side vector of each calibrated language.

    Args:
        centroids: language code -> mean vector (all of one dimension).
    """

    def __init__(self, centroids: Mapping[str, np.ndarray]) -> None:
        if not centroids:
            raise ValueError("LanguageCentroids needs at least one language.")
        self.centroids = {code: np.asarray(vector, dtype=np.float32) for code, vector in centroids.items()}
        self.neutral = np.mean(list(self.centroids.values()), axis=0).astype(np.float32)

    @classmethod
    def compute(cls, encoder, texts_by_language: Mapping[str, Sequence[str]]) -> LanguageCentroids:
        """Embeds the calibration texts (query side) and averages them per language."""
        too_few = {code: len(texts) for code, texts in texts_by_language.items() if len(texts) < MIN_TEXTS_PER_LANGUAGE}
        if too_few or not texts_by_language:
            raise CalibrationError(
                f"Calibration needs at least {MIN_TEXTS_PER_LANGUAGE} texts per language; got {too_few or 'none'}. "
                f"Add examples for those languages or leave them out of the calibration data."
            )
        return cls({code: encoder.embed_queries(list(texts)).mean(axis=0) for code, texts in texts_by_language.items()})

    @property
    def languages(self) -> list[str]:
        return sorted(self.centroids)

    def center(self, vectors: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        """Each vector minus its language's centroid (the neutral one if unknown), normalised."""
        if len(vectors) != len(languages):
            raise ValueError(f"center: {len(vectors)} vectors but {len(languages)} languages.")
        if not len(vectors):
            return np.asarray(vectors, dtype=np.float32)
        offsets = np.stack([self.centroids.get(code or "", self.neutral) for code in languages])
        return normalise(np.asarray(vectors, dtype=np.float32) - offsets)

    def to_dict(self) -> dict[str, list[float]]:
        return {code: [round(float(x), 6) for x in vector] for code, vector in sorted(self.centroids.items())}

    @classmethod
    def from_dict(cls, values: Mapping[str, Sequence[float]]) -> LanguageCentroids:
        return cls({code: np.asarray(vector, dtype=np.float32) for code, vector in values.items()})


def _calibration_stamp(path: Path) -> tuple:
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@functools.lru_cache(maxsize=8)
def _centroids_of(encoder_dir: str, calibration: str, threads: int, stamp: tuple) -> LanguageCentroids:
    from bot.models.encoder import load_encoder

    return LanguageCentroids.compute(load_encoder(encoder_dir, threads), calibration_texts(calibration))


def centroids_for(
    encoder_dir: str | os.PathLike, calibration: str | os.PathLike, threads: int = 2
) -> LanguageCentroids:
    """The centroids of the calibration data under an encoder, computed once per process
    while the data's files are unchanged (embedding a bot's NLU data takes tens of seconds)."""
    path = require_calibration(calibration)
    return _centroids_of(str(Path(encoder_dir).resolve()), str(path.resolve()), threads, _calibration_stamp(path))
