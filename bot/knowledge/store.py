"""The knowledge base on disk: embeds entries, keeps the FAISS index and its SQL metadata.

Layout of a store folder (default var/knowledge_base):

    manifest.json            the commit point: current index file, encoder, sizes, the
                             language centroids the vectors were centred with
    index-<token>.faiss      the FAISS index the manifest names
    metadata.db              SQLite metadata (unless a database URL is configured)

Every write (build, add, remove) is crash-safe without a transaction spanning the file and
the database:
  1. leftovers of an earlier crashed write are deleted (rows with ids >= manifest.next_id);
  2. new SQL rows are inserted under fresh vector ids, never reused;
  3. the new index is written to a new file (temporary name + fsync + os.replace);
  4. manifest.json is replaced in one os.replace: this is the commit;
  5. rows and files the new manifest no longer uses are deleted.
A crash before 4 leaves the previous manifest, index and rows untouched and usable; a crash
after 4 only leaves garbage that step 1 or 5 of the next write removes. Writers take a file
lock, so two `bridge kb` commands never interleave.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.faiss_index import (
    IndexParams,
    add_vectors,
    build_index,
    read_index,
    remove_ids,
    write_index_atomically,
    write_text_atomically,
)
from bot.knowledge.language_centroids import DEFAULT_CALIBRATION, LanguageCentroids, centroids_for
from bot.knowledge.metadata import MetadataStore, utc_now
from bot.knowledge.source import Entry, source_fingerprint
from bot.models.encoder import EncoderMismatchError  # check_encoder raises it; callers may import it from here

logger = logging.getLogger(__name__)

DEFAULT_STORE_DIR = Path("var") / "knowledge_base"
DB_URL_ENV = "BRIDGE_KB_DB_URL"
MANIFEST = "manifest.json"
# 2: vectors centred per language, answers embedded for reranking (1 had neither);
# 3: the answers' per-language versions embedded too.
FORMAT_VERSION = 3
# e5 was trained with "query: " on both sides of symmetric pairs (question vs question);
# bench/kb.py measured this side against "passage: " on the bitext split.
QUESTION_SIDES = ("query", "passage")


class KnowledgeBaseNotBuiltError(FileNotFoundError):
    """The store folder has no committed index yet."""


class StoreFormatError(ValueError):
    """The store was written by an older Bridge in a format this one cannot search."""


def is_outdated(manifest: dict[str, Any] | None) -> bool:
    """Whether a committed manifest was written in an older store format (needs a rebuild)."""
    return manifest is not None and manifest.get("format") != FORMAT_VERSION


def default_db_url(directory: Path) -> str:
    """The metadata database: $BRIDGE_KB_DB_URL, else a SQLite file in the store folder."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{Path(directory).resolve() / 'metadata.db'}"


class KnowledgeBaseStore:
    """Builds, extends and opens one knowledge base.

    Args:
        directory: the store folder (created on first write).
        db_url: SQLAlchemy URL of the metadata; default `default_db_url(directory)`.
        params: index construction/search parameters used by `build`.
        question_side: embed stored questions with the encoder's "query" or "passage" prompt.
        calibration: Rasa NLU file or folder whose per-language examples give the language
            centroids (see language_centroids.py); None stores uncentred vectors.

    Example:
        >>> store = KnowledgeBaseStore("var/knowledge_base")
        >>> store.build(load_entries("knowledge_base/demo"), "build/encoders/multilingual-e5-small")
    """

    def __init__(
        self,
        directory: str | os.PathLike = DEFAULT_STORE_DIR,
        db_url: str | None = None,
        params: IndexParams | None = None,
        question_side: str = "query",
        calibration: str | os.PathLike | None = DEFAULT_CALIBRATION,
    ) -> None:
        if question_side not in QUESTION_SIDES:
            raise ValueError(f"question_side must be one of {QUESTION_SIDES}, got {question_side!r}.")
        self.directory = Path(directory)
        self.metadata = MetadataStore(db_url or default_db_url(self.directory))
        self.params = params or IndexParams()
        self.question_side = question_side
        self.calibration = calibration

    # ----- reading -------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def manifest(self) -> dict[str, Any] | None:
        """The committed manifest, or None if nothing was ever built here."""
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def require_manifest(self) -> dict[str, Any]:
        manifest = self.manifest()
        if manifest is None:
            raise KnowledgeBaseNotBuiltError(
                f"No knowledge base in '{self.directory}'. Build it with `bridge kb build "
                f"[SOURCE]` (default: the `source` of the KnowledgeBaseRetriever in config.yml)."
            )
        if is_outdated(manifest):
            raise StoreFormatError(
                f"The knowledge base in '{self.directory}' has format {manifest.get('format')}; this Bridge "
                f"reads format {FORMAT_VERSION}. Rebuild it with `bridge kb build` (re-embeds every answer)."
            )
        return manifest

    def check_encoder(self, encoder_dir: str | os.PathLike, manifest: dict[str, Any] | None = None) -> str:
        """The encoder's fingerprint; raises if the index was built with another encoder."""
        from bot.models.encoder import encoder_fingerprint

        manifest = manifest or self.require_manifest()
        current = encoder_fingerprint(encoder_dir)
        if manifest["encoder"] != current:
            raise EncoderMismatchError(
                f"The knowledge base in '{self.directory}' was built with encoder {manifest['encoder']!r}, "
                f"but '{encoder_dir}' holds encoder {current!r}; their vectors are not comparable. "
                f"Rebuild it with `bridge kb build` (re-embeds every answer), or configure the "
                f"encoder it was built with."
            )
        return current

    def open_index(self, manifest: dict[str, Any] | None = None):
        """The committed FAISS index, with the manifest's search parameters applied."""
        manifest = manifest or self.require_manifest()
        return read_index(self.directory / manifest["index_file"], IndexParams.from_dict(manifest["params"]))

    # ----- writing -------------------------------------------------------------------
    @contextmanager
    def _write_lock(self) -> Iterator[dict[str, Any] | None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                manifest = self.manifest()
                self._collect_garbage(manifest)
                yield manifest
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _collect_garbage(self, manifest: dict[str, Any] | None) -> None:
        """Removes rows and files the committed manifest does not use (see module docstring)."""
        garbage = (manifest or {}).get("garbage") or {}
        self.metadata.delete_vectors(
            garbage.get("ids", []), below=garbage.get("below"), from_id=(manifest or {}).get("next_id", 0)
        )
        current = (manifest or {}).get("index_file")
        for path in self.directory.glob("index-*.faiss"):
            if path.name != current:
                path.unlink(missing_ok=True)
        for path in self.directory.glob(".*.tmp"):  # a dead writer's temporary index or manifest
            path.unlink(missing_ok=True)

    def _centroids(
        self, encoder_dir: str | os.PathLike, threads: int, manifest: dict[str, Any] | None
    ) -> LanguageCentroids | None:
        """The committed store's centroids, or new ones from the calibration data (build)."""
        if manifest is not None:
            saved = manifest.get("language_centroids")
            return LanguageCentroids.from_dict(saved) if saved else None
        if self.calibration is None:
            return None
        return centroids_for(encoder_dir, self.calibration, threads)

    def _embed(self, encoder, entries: Sequence[Entry], centroids: LanguageCentroids | None, show_progress: bool):
        """(question vectors, answer vectors, version vectors) of `entries`, centred on their
        languages; the version vectors are one {language: vector} per entry."""
        from bot.language.identifier import LanguageIdentifier

        questions = [q for e in entries for q in e.questions]
        embed = encoder.embed_queries if self.question_side == "query" else encoder.embed_passages
        vectors = self._embed_in_steps(embed, questions, "embedding questions", show_progress, encoder.dimension)
        # Answers and their versions are passages, as e5 was trained to match questions to.
        texts = [(e.language, e.answer) for e in entries]
        texts += [(language, text) for e in entries for language, text in sorted(e.versions.items())]
        passages = self._embed_in_steps(
            encoder.embed_passages, [t for _, t in texts], "embedding answers", show_progress, encoder.dimension
        )
        if centroids is not None:
            identifier = LanguageIdentifier(centroids.languages)
            languages = [identifier.identify(q).language or e.language for e in entries for q in e.questions]
            vectors = centroids.center(vectors, languages)
            passages = centroids.center(passages, [language for language, _ in texts])
        answers, rest = passages[: len(entries)], iter(passages[len(entries) :])
        versions = [{language: next(rest) for language in sorted(e.versions)} for e in entries]
        return vectors, answers, versions

    @staticmethod
    def _embed_in_steps(embed, texts: list[str], description: str, show_progress: bool, dimension: int) -> np.ndarray:
        from tqdm import tqdm

        chunks = []
        step = 256
        with tqdm(total=len(texts), desc=description, unit="text", disable=not show_progress) as bar:
            for start in range(0, len(texts), step):
                chunks.append(embed(texts[start : start + step]))
                bar.update(len(texts[start : start + step]))
        return np.vstack(chunks) if chunks else np.zeros((0, dimension), dtype=np.float32)

    def _commit(self, manifest: dict[str, Any], index=None) -> dict[str, Any]:
        if index is not None:
            manifest["index_file"] = f"index-{uuid.uuid4().hex[:12]}.faiss"
            write_index_atomically(index, self.directory / manifest["index_file"])
        manifest["committed_at"] = utc_now()
        write_text_atomically(self.manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2))
        self._collect_garbage(manifest)
        return manifest

    def build(
        self,
        entries: Sequence[Entry],
        encoder_dir: str | os.PathLike,
        threads: int = 2,
        show_progress: bool = False,
    ) -> dict[str, Any]:
        """Replaces the whole knowledge base with `entries` (re-embedding everything).

        Returns:
            The committed manifest.
        """
        from tqdm import tqdm

        from bot.models.encoder import encoder_fingerprint, load_encoder

        if not entries:
            raise ValueError("Nothing to build: the source has no entries.")
        fingerprint = encoder_fingerprint(encoder_dir)
        encoder = load_encoder(str(encoder_dir), threads)
        started = time.perf_counter()
        with self._write_lock() as previous:
            if is_outdated(previous):
                self.metadata.recreate()  # an older format's tables; everything is re-embedded anyway
                previous = None
            first = (previous or {}).get("next_id", 0)
            centroids = self._centroids(encoder_dir, threads, None)
            vectors, answer_vectors, version_vectors = self._embed(encoder, entries, centroids, show_progress)
            ids = np.array(self.metadata.insert(entries, first, answer_vectors, version_vectors), dtype=np.int64)
            kind = self.params.resolved_type(len(ids))
            with tqdm(total=len(ids), desc=f"indexing ({kind})", unit="vec", disable=not show_progress) as bar:
                index = build_index(vectors, ids, self.params, kind, progress=bar)
            manifest = {
                "format": FORMAT_VERSION,
                "encoder": fingerprint,
                "encoder_dir": str(encoder_dir),
                "dimension": int(vectors.shape[1]),
                "question_side": self.question_side,
                "language_centroids": centroids.to_dict() if centroids else None,
                "index_type": kind,
                "params": self.params.to_dict(),
                "entries": len(entries),
                "vectors": int(len(ids)),
                "tombstones": 0,
                "next_id": int(first + len(ids)),
                "source": source_fingerprint(entries),
                "garbage": {"below": int(first), "ids": []},
                "built_at": utc_now(),
            }
            manifest = self._commit(manifest, index)
        logger.info(f"knowledge base: built {len(entries)} entries in {time.perf_counter() - started:.1f}s")
        return manifest

    def add(
        self,
        entries: Sequence[Entry],
        encoder_dir: str | os.PathLike,
        threads: int = 2,
        show_progress: bool = False,
    ) -> dict[str, Any]:
        """Adds entries to the existing index; an entry whose id exists replaces the old one.

        Only the new questions are embedded; nothing else is rebuilt.
        """
        from bot.models.encoder import load_encoder

        if not self.manifest():
            return self.build(entries, encoder_dir, threads, show_progress)
        with self._write_lock() as manifest:
            self.require_manifest()  # refuses an older format
            self.check_encoder(encoder_dir, manifest)
            encoder = load_encoder(str(encoder_dir), threads)
            if manifest["question_side"] != self.question_side:
                self.question_side = manifest["question_side"]
            index = self.open_index(manifest)
            existing = self.metadata.vector_ids_of(e.id for e in entries)
            replaced = [v for ids in existing.values() for v in ids]
            vectors, answer_vectors, version_vectors = self._embed(
                encoder, entries, self._centroids(encoder_dir, threads, manifest), show_progress
            )
            first = manifest["next_id"]
            ids = np.array(self.metadata.insert(entries, first, answer_vectors, version_vectors), dtype=np.int64)
            add_vectors(index, vectors, ids)
            self._drop(index, manifest, replaced)
            manifest.update(
                entries=manifest["entries"] + len({e.id for e in entries} - set(existing)),
                vectors=manifest["vectors"] + len(ids),
                next_id=int(first + len(ids)),
                garbage={"below": None, "ids": replaced},
            )
            return self._commit(manifest, index)

    def _drop(self, index, manifest: dict[str, Any], vector_ids: list[int]) -> None:
        """Removes vectors from the index, or counts them as tombstones if it cannot."""
        if not vector_ids:
            return
        if remove_ids(index, np.array(vector_ids, dtype=np.int64)):
            manifest["vectors"] -= len(vector_ids)
        else:
            manifest["tombstones"] = manifest.get("tombstones", 0) + len(vector_ids)

    def remove(self, entry_ids: Sequence[str]) -> dict[str, Any]:
        """Removes entries by id; unknown ids are an error naming them."""
        with self._write_lock() as manifest:
            self.require_manifest()  # refuses a missing store or an older format
            found = self.metadata.vector_ids_of(entry_ids)
            unknown = sorted(set(entry_ids) - set(found))
            if unknown:
                raise KeyError(
                    f"No entry with id {', '.join(map(repr, unknown))} in the knowledge base "
                    f"'{self.directory}'. Nothing was removed."
                )
            vector_ids = [v for ids in found.values() for v in ids]
            index = self.open_index(manifest)
            tombstones_before = manifest.get("tombstones", 0)
            self._drop(index, manifest, vector_ids)
            manifest.update(entries=manifest["entries"] - len(found), garbage={"below": None, "ids": vector_ids})
            rewritten = manifest.get("tombstones", 0) == tombstones_before
            return self._commit(manifest, index if rewritten else None)
