"""SQL metadata of the knowledge base: which answer and question each vector id stands for.

Two tables, SQLAlchemy Core, any database SQLAlchemy speaks (SQLite file by default,
PostgreSQL in production):

    kb_answers    answer_key (= vector id of its first question), entry_id, answer,
                  language, tags (JSON), updated_at, vector (the answer's embedding,
                  float32 bytes, used to rerank the questions' hits)
    kb_questions  vector_id (the FAISS id), answer_key, question
    kb_answer_versions  answer_key, language, text, vector: the answer written in other
                  languages, each with its embedding (the retriever matches a question against
                  the version in the question's language)

Rows are only ever inserted under fresh ids and deleted after the index that stops using
them is in place (see bot/knowledge/store.py), so a lookup by vector id is always consistent
with whichever index file a reader has loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import sqlalchemy as sa

from bot.knowledge.source import Entry

METADATA = sa.MetaData()
ANSWERS = sa.Table(
    "kb_answers",
    METADATA,
    sa.Column("answer_key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("entry_id", sa.String(128), nullable=False, index=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=True),
)
QUESTIONS = sa.Table(
    "kb_questions",
    METADATA,
    sa.Column("vector_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("answer_key", sa.BigInteger, nullable=False, index=True),
    sa.Column("question", sa.Text, nullable=False),
)
VERSIONS = sa.Table(
    "kb_answer_versions",
    METADATA,
    sa.Column("answer_key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=True),
)
# SQLite caps bound parameters per statement; stay well below it.
CHUNK = 500


@dataclass(frozen=True)
class AnswerRecord:
    """What a vector id resolves to."""

    vector_id: int
    entry_id: str
    question: str
    answer: str
    language: str
    tags: tuple[str, ...]
    updated_at: str
    answer_vector: np.ndarray | None = None
    versions: dict[str, str] = field(default_factory=dict)
    version_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # embeddings of `versions`


def _vector_bytes(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield [int(v) for v in values[start : start + CHUNK]]


class MetadataStore:
    """The knowledge base's SQL tables behind one engine.

    Args:
        url: SQLAlchemy database URL, e.g. sqlite:///var/knowledge_base/metadata.db or
            postgresql://user@host/db.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.engine.Engine | None = None

    @property
    def engine(self) -> sa.engine.Engine:
        if self._engine is None:
            self._engine = sa.create_engine(self.url, future=True)
            METADATA.create_all(self._engine)
        return self._engine

    def recreate(self) -> None:
        """Drops and recreates the tables (a rebuild from an older store format)."""
        METADATA.drop_all(self.engine)
        METADATA.create_all(self.engine)

    def insert(
        self,
        entries: Sequence[Entry],
        first_vector_id: int,
        answer_vectors: np.ndarray | None = None,
        version_vectors: Sequence[dict[str, np.ndarray]] | None = None,
    ) -> list[int]:
        """Inserts entries under consecutive vector ids (one per question), in one transaction.

        `answer_vectors` has one row per entry; `version_vectors` one {language: vector} per
        entry for its versions (a version without one is stored without a vector).

        Returns:
            The vector ids, in the order of the entries' questions.
        """
        answers, questions, versions, ids = [], [], [], []
        next_id = first_vector_id
        for position, entry in enumerate(entries):
            answer_key = next_id
            vector = None if answer_vectors is None else _vector_bytes(answer_vectors[position])
            version_vector = {} if version_vectors is None else version_vectors[position]
            answers.append(
                {
                    "answer_key": answer_key,
                    "entry_id": entry.id,
                    "answer": entry.answer,
                    "language": entry.language,
                    "tags": json.dumps(list(entry.tags), ensure_ascii=False),
                    "updated_at": entry.updated_at.isoformat(),
                    "vector": vector,
                }
            )
            versions += [
                {
                    "answer_key": answer_key,
                    "language": language,
                    "text": text,
                    "vector": _vector_bytes(version_vector.get(language)),
                }
                for language, text in sorted(entry.versions.items())
            ]
            for question in entry.questions:
                questions.append({"vector_id": next_id, "answer_key": answer_key, "question": question})
                ids.append(next_id)
                next_id += 1
        with self.engine.begin() as connection:
            for start in range(0, len(answers), CHUNK):
                connection.execute(ANSWERS.insert(), answers[start : start + CHUNK])
            for start in range(0, len(questions), CHUNK):
                connection.execute(QUESTIONS.insert(), questions[start : start + CHUNK])
            for start in range(0, len(versions), CHUNK):
                connection.execute(VERSIONS.insert(), versions[start : start + CHUNK])
        return ids

    def lookup(self, vector_ids: Sequence[int]) -> dict[int, AnswerRecord]:
        """The records of the given vector ids; ids without a row (removed) are absent."""
        found: dict[int, AnswerRecord] = {}
        record_keys: dict[int, int] = {}
        query = sa.select(QUESTIONS.c.vector_id, QUESTIONS.c.question, ANSWERS).join(
            ANSWERS, ANSWERS.c.answer_key == QUESTIONS.c.answer_key
        )
        with self.engine.connect() as connection:
            for chunk in _chunks(list(vector_ids)):
                for row in connection.execute(query.where(QUESTIONS.c.vector_id.in_(chunk))):
                    record_keys[row.vector_id] = int(row.answer_key)
                    found[row.vector_id] = AnswerRecord(
                        row.vector_id,
                        row.entry_id,
                        row.question,
                        row.answer,
                        row.language,
                        tuple(json.loads(row.tags)),
                        row.updated_at,
                        None if row.vector is None else np.frombuffer(row.vector, dtype=np.float32),
                    )
            versions = self._versions(connection, sorted(set(record_keys.values())))
        for vector_id, record in found.items():
            if record_keys[vector_id] in versions:
                texts, vectors = versions[record_keys[vector_id]]
                found[vector_id] = replace(record, versions=texts, version_vectors=vectors)
        return found

    @staticmethod
    def _versions(
        connection: sa.engine.Connection, answer_keys: Sequence[int]
    ) -> dict[int, tuple[dict[str, str], dict[str, np.ndarray]]]:
        """{answer_key: ({language: text}, {language: vector})} of the answers that have versions."""
        result: dict[int, tuple[dict[str, str], dict[str, np.ndarray]]] = {}
        for chunk in _chunks(answer_keys):
            for row in connection.execute(sa.select(VERSIONS).where(VERSIONS.c.answer_key.in_(chunk))):
                texts, vectors = result.setdefault(int(row.answer_key), ({}, {}))
                texts[row.language] = row.text
                if row.vector is not None:
                    vectors[row.language] = np.frombuffer(row.vector, dtype=np.float32)
        return result

    def vector_ids_of(self, entry_ids: Iterable[str]) -> dict[str, list[int]]:
        """Vector ids of each given entry id that has rows."""
        wanted = sorted(set(entry_ids))
        result: dict[str, list[int]] = {}
        query = sa.select(ANSWERS.c.entry_id, QUESTIONS.c.vector_id).join(
            QUESTIONS, QUESTIONS.c.answer_key == ANSWERS.c.answer_key
        )
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                for row in connection.execute(query.where(ANSWERS.c.entry_id.in_(wanted[start : start + CHUNK]))):
                    result.setdefault(row.entry_id, []).append(int(row.vector_id))
        return result

    def entry_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(ANSWERS)).scalar_one())

    def delete_vectors(
        self, vector_ids: Sequence[int] = (), below: int | None = None, from_id: int | None = None
    ) -> None:
        """Deletes question rows by id, below an id, or from an id on; then orphaned answers."""
        with self.engine.begin() as connection:
            for chunk in _chunks(list(vector_ids)):
                connection.execute(QUESTIONS.delete().where(QUESTIONS.c.vector_id.in_(chunk)))
            if below is not None:
                connection.execute(QUESTIONS.delete().where(QUESTIONS.c.vector_id < below))
            if from_id is not None:
                connection.execute(QUESTIONS.delete().where(QUESTIONS.c.vector_id >= from_id))
            used = sa.select(QUESTIONS.c.answer_key)
            connection.execute(ANSWERS.delete().where(ANSWERS.c.answer_key.not_in(used)))
            connection.execute(VERSIONS.delete().where(VERSIONS.c.answer_key.not_in(used)))

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def utc_now() -> str:
    return datetime.utcnow().replace(microsecond=0).isoformat() + "Z"
