"""FAISS index construction and crash-safe files: which index fits a knowledge base's size.

The knowledge base stores one unit-length vector per historical question; inner product is
cosine similarity. Small bases use exact search (IndexFlatIP); large ones an approximate
index whose parameters `bench/kb.py` measured (recall@10 against exact search, latency and
RAM at 1M vectors). Every index carries our own int64 ids (`add_with_ids`), so answers are
added without rebuilding and a hit maps straight to its SQL row.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

INDEX_TYPES = ("auto", "flat", "hnsw", "ivfpq")


@dataclass
class IndexParams:
    """How the index is built and searched (recorded in the knowledge base's manifest).

    Attributes:
        index_type: "flat" (exact), "hnsw", "ivfpq", or "auto" (flat below `exact_below`
            vectors, else ivfpq: the only one that met the 1M RAM goal in bench/kb.py).
        exact_below: size under which "auto" keeps exact search.
        hnsw_m: HNSW graph degree (memory vs recall).
        hnsw_ef_construction: HNSW build-time beam width.
        hnsw_ef_search: HNSW query-time beam width (latency vs recall).
        ivf_nlist: IVF cells; 0 picks sqrt(n) rounded to a power of two (1024 at 1M: ~1000
            vectors a cell keeps k-means training short on 2 cores).
        ivf_nprobe: IVF cells visited per query (latency vs recall).
        pq_m: product-quantizer sub-vectors (bytes per vector); must divide the dimension.
        refine_k_factor: IVF-PQ candidates re-ranked with 8-bit scalar codes, as a multiple of k.
    """

    index_type: str = "auto"
    exact_below: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 64
    ivf_nlist: int = 0
    ivf_nprobe: int = 32
    pq_m: int = 48
    refine_k_factor: int = 8

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(
                f"index_type '{self.index_type}' is not supported; choose one of {', '.join(INDEX_TYPES)}."
            )
        for key in (
            "exact_below",
            "hnsw_m",
            "hnsw_ef_construction",
            "hnsw_ef_search",
            "ivf_nprobe",
            "pq_m",
            "refine_k_factor",
        ):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"index parameter '{key}' must be an integer >= 1, got {value!r}.")
        if not isinstance(self.ivf_nlist, int) or self.ivf_nlist < 0:
            raise ValueError(f"index parameter 'ivf_nlist' must be an integer >= 0, got {self.ivf_nlist!r}.")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> IndexParams:
        """Params from a config dict; unknown keys are an error naming the known ones."""
        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown index parameter(s) {sorted(unknown)}; known: {sorted(known)}.")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resolved_type(self, size: int) -> str:
        """The concrete index type for `size` vectors."""
        if self.index_type != "auto":
            return self.index_type
        return "flat" if size < self.exact_below else "ivfpq"

    def nlist_for(self, size: int) -> int:
        if self.ivf_nlist:
            return self.ivf_nlist
        return max(16, 2 ** round(math.log2(math.sqrt(max(size, 1)))))


def build_index(
    vectors: np.ndarray, ids: np.ndarray, params: IndexParams, index_type: str | None = None, progress=None
):
    """A trained index holding `vectors` under `ids` (int64), of the type `params` picks.

    Args:
        vectors: float32 (n, d), L2-normalised.
        ids: int64 (n,) unique ids.
        params: construction and search parameters.
        index_type: force a concrete type instead of `params.resolved_type(n)`.
        progress: a tqdm bar advanced as vectors are added.
    """
    import faiss

    dimension = vectors.shape[1]
    kind = index_type or params.resolved_type(len(vectors))
    if kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    elif kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dimension, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = params.hnsw_ef_construction
        index = faiss.IndexIDMap2(graph)
    elif kind == "ivfpq":
        if dimension % params.pq_m:
            raise ValueError(f"pq_m={params.pq_m} must divide the encoder dimension {dimension}.")
        nlist = params.nlist_for(len(vectors))
        if len(vectors) < 39 * nlist:
            raise ValueError(
                f"IVF-PQ with {nlist} cells needs at least {39 * nlist} vectors to train, got "
                f"{len(vectors)}. Use index_type 'flat' (exact) for a knowledge base this small."
            )
        inner = faiss.index_factory(dimension, f"IVF{nlist},PQ{params.pq_m},Refine(SQ8)", faiss.METRIC_INNER_PRODUCT)
        # Polysemous training (on by default) only serves Hamming-filtered search, which
        # we don't use, and it was most of the time an IVF-PQ build took.
        faiss.downcast_index(faiss.extract_index_ivf(inner)).do_polysemous_training = False
        # k-means on a sample: 64 points a cell is plenty and keeps 1M builds short.
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: 64 * nlist]]
        inner.train(sample)
        index = faiss.IndexIDMap2(inner)
    else:
        raise ValueError(f"index_type '{kind}' is not supported; choose one of {', '.join(INDEX_TYPES[1:])}.")
    apply_search_params(index, params)
    add_vectors(index, vectors, ids, progress=progress)
    return index


def add_vectors(index, vectors: np.ndarray, ids: np.ndarray, batch: int = 20_000, progress=None) -> None:
    """Adds vectors in batches (so a progress bar can follow a long build)."""
    for start in range(0, len(vectors), batch):
        chunk = slice(start, start + batch)
        index.add_with_ids(
            np.ascontiguousarray(vectors[chunk], dtype=np.float32), np.ascontiguousarray(ids[chunk], dtype=np.int64)
        )
        if progress is not None:
            progress.update(len(vectors[chunk]))


def apply_search_params(index, params: IndexParams) -> None:
    """Sets the query-time knobs (they are not stored in FAISS files)."""
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else index
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = params.hnsw_ef_search
    if isinstance(inner, faiss.IndexRefine):
        inner.k_factor = float(params.refine_k_factor)
        faiss.extract_index_ivf(faiss.downcast_index(inner.base_index)).nprobe = params.ivf_nprobe
    elif isinstance(inner, faiss.IndexIVF):
        inner.nprobe = params.ivf_nprobe


def index_kind(index) -> str:
    """ "flat", "hnsw" or "ivfpq" for an index built by `build_index`."""
    import faiss

    inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, (faiss.IndexRefine, faiss.IndexIVF)):
        return "ivfpq"
    return "flat"


def remove_ids(index, ids: np.ndarray) -> bool:
    """Removes ids from the index; False if this index type cannot (HNSW, refined IVF-PQ).

    Those types keep the vector as a tombstone: its metadata row is gone, so the retriever
    skips it, and the next `bridge kb build` compacts it away.
    """
    import faiss

    if index_kind(index) != "flat":
        return False
    index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64)))
    return True


def write_index_atomically(index, path: Path) -> None:
    """Writes the index to a temporary file in the same folder, fsyncs, then renames it."""
    import faiss

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        faiss.write_index(index, temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_text_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` in one rename: readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def read_index(path: Path, params: IndexParams):
    """Loads an index file and applies the search parameters."""
    import faiss

    index = faiss.read_index(str(path))
    apply_search_params(index, params)
    return index
