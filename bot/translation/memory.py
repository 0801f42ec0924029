"""Translation memory and machine-translation cache in one SQL table.

Every entry maps a source text to its translation for one language pair. Texts are stored
masked (see protection.py): "Order ⟦1⟧ has shipped" -> "Pedido ⟦1⟧ enviado", so an entry
serves every order number. Two kinds of entries exist per key:

- `human`: written or corrected by an agent (origin "agent", or "import" for a bulk load);
  these are the translation memory proper and always win;
- `machine`: a backend's output (origin "mt:<backend>"), kept as a cache so a reply is
  translated once, whichever server process sees it first.

Any SQLAlchemy URL works (SQLite by default under var/, PostgreSQL in production); several
Rasa server processes share one database. The review console changes entries through
`TranslationMemory.add_translation` / `entries` / `delete_entry`.

Example:
    >>> memory = TranslationMemory("sqlite:///var/translation_memory.db", SpanProtector())
    >>> entry = memory.add_translation("Order 10045 has shipped.", "Pedido 10045 enviado.", "en", "pt")
    >>> memory.lookup(memory.key("Order 10046 has shipped."), "en", "pt").target_key
    'Pedido ⟦1⟧ enviado.'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.translation.protection import MEMORY_PATTERN, Masked, SpanProtector, token_numbers

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_URL = "sqlite:///var/translation_memory.db"
HUMAN, MACHINE = "human", "machine"
AGENT_ORIGIN = "agent"

_metadata = sa.MetaData()
TABLE = sa.Table(
    "bridge_translation_memory",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_language", sa.String(16), nullable=False),
    sa.Column("target_language", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("target_key", sa.Text, nullable=False),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("author", sa.String(128)),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("source_language", "target_language", "key_hash", "kind", name="uq_translation_entry"),
)

# Built once: building and compiling the statement per lookup costs more than running it.
_LOOKUP = sa.select(TABLE).where(
    TABLE.c.source_language == sa.bindparam("source"),
    TABLE.c.target_language == sa.bindparam("target"),
    TABLE.c.key_hash == sa.bindparam("key_hash"),
)


@dataclass(frozen=True)
class MemoryEntry:
    """One stored translation, masked; `restore` fills in a concrete text's spans."""

    id: int
    source_language: str
    target_language: str
    kind: str
    source_key: str
    target_key: str
    origin: str
    author: str | None
    updated_at: dt.datetime

    def restore(self, masked: Masked, protector: SpanProtector) -> str:
        return protector.unmask(self.target_key, masked)


def _entry(row: Any) -> MemoryEntry:
    values = dict(row._mapping)
    values.pop("key_hash")
    return MemoryEntry(**values)


def _mask_at(text: str, positions: Sequence[tuple[int, int]], pattern: str) -> Masked:
    """`text` masked at known (start, end) positions, in text order."""
    pieces, spans, position = [], [], 0
    for start, end in sorted(positions):
        pieces += [text[position:start], pattern.format(n=len(spans) + 1)]
        spans.append(text[start:end])
        position = end
    return Masked("".join(pieces) + text[position:], tuple(spans), pattern)


def _hash(source_key: str) -> str:
    return hashlib.sha256(source_key.encode("utf-8")).hexdigest()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # A pool keeps connections open: SQLAlchemy 1.4 reopens the file per query otherwise,
        # which alone costs about a millisecond.
        engine = sa.create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=sa.pool.QueuePool
        )

        @sa.event.listens_for(engine, "connect")
        def _write_ahead_log(connection: Any, _: Any) -> None:
            # WAL lets other server processes read while one writes.
            connection.execute("PRAGMA journal_mode=WAL")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class TranslationMemory:
    """The SQL-backed memory; safe to share between threads and processes."""

    def __init__(self, url: str, protector: SpanProtector) -> None:
        self.url = url
        self.protector = protector
        try:
            self.engine = _create_engine(url)
            _metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as error:
            from bot.translation.base import TranslationConfigError

            raise TranslationConfigError(
                f"translation.memory_url: cannot open the translation memory at '{sa.engine.make_url(url)!r}' "
                f"({error.__class__.__name__}: {error.orig if hasattr(error, 'orig') else error}). "
                f"Check the URL and that the database server is up."
            ) from error

    def key(self, text: str) -> Masked:
        """The masked form of `text` under which it is stored."""
        return self.protector.mask(text.strip(), MEMORY_PATTERN)

    def lookup(self, key: Masked, source_language: str, target_language: str) -> MemoryEntry | None:
        """The best entry for an exact key: a human entry if there is one, else the cached MT."""
        with self.engine.connect() as connection:
            result = connection.execute(
                _LOOKUP, {"source": source_language, "target": target_language, "key_hash": _hash(key.text)}
            )
            rows = [_entry(row) for row in result]
        rows = [row for row in rows if row.source_key == key.text]
        rows.sort(key=lambda row: row.kind != HUMAN)
        return rows[0] if rows else None

    def store_machine(
        self, key: Masked, target_key: str, source_language: str, target_language: str, backend: str
    ) -> None:
        """Caches a backend's masked output; a concurrent insert of the same key is fine."""
        self._upsert(
            key.text, target_key, source_language, target_language, MACHINE, f"mt:{backend}", None, replace=False
        )

    def add_translation(
        self,
        source_text: str,
        target_text: str,
        source_language: str,
        target_language: str,
        author: str | None = None,
        origin: str = AGENT_ORIGIN,
        span_positions: Sequence[tuple[int, int]] | None = None,
    ) -> MemoryEntry:
        """Adds or corrects a human translation (it then wins over any MT for that text).

        Both texts are given as a customer would read them; their protected spans (order
        numbers, links, product names ...) must match, so the entry can serve other numbers.
        `span_positions` gives the (start, end) of the spans in the stripped `target_text`
        when they are known (an exchange file marks them), instead of finding them again:
        the patterns miss a span written against a word, as Korean and Japanese particles are.

        Raises:
            ValueError: the translation lacks or adds a protected span, or a text is empty.
        """
        if not source_text.strip() or not target_text.strip():
            raise ValueError("Both the source text and the translation must be non-empty.")
        key = self.key(source_text)
        target_key = self._mask_like(target_text.strip(), key, span_positions)
        return self._upsert(key.text, target_key, source_language, target_language, HUMAN, origin, author, replace=True)

    def entries(
        self,
        source_language: str | None = None,
        target_language: str | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[MemoryEntry]:
        """The newest entries, optionally filtered by pair and kind."""
        query = sa.select(TABLE).order_by(TABLE.c.updated_at.desc(), TABLE.c.id.desc()).limit(limit)
        for column, value in (
            ("source_language", source_language),
            ("target_language", target_language),
            ("kind", kind),
        ):
            if value:
                query = query.where(TABLE.c[column] == value)
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def delete_entry(self, entry_id: int) -> bool:
        """Deletes one entry; True if it existed."""
        with self.engine.begin() as connection:
            return connection.execute(sa.delete(TABLE).where(TABLE.c.id == entry_id)).rowcount > 0

    def _mask_like(self, target_text: str, key: Masked, span_positions: Sequence[tuple[int, int]] | None = None) -> str:
        """Masks `target_text` with the same token numbers the source's spans got."""
        found = self.protector.mask(target_text, MEMORY_PATTERN) if span_positions is None else None
        found_spans = found.spans if found else tuple(target_text[start:end] for start, end in span_positions)
        if Counter(found_spans) != Counter(key.spans):
            missing = list((Counter(key.spans) - Counter(found_spans)).elements())
            extra = list((Counter(found_spans) - Counter(key.spans)).elements())
            raise ValueError(
                "The translation must keep the source's protected parts exactly "
                f"(missing: {missing or 'none'}; not in the source: {extra or 'none'}). "
                "Copy order numbers, links, emails, amounts and product names unchanged."
            )
        numbers: dict[str, list[int]] = {}
        for n, span in enumerate(key.spans, start=1):
            numbers.setdefault(span, []).append(n)
        if span_positions is None:
            renumbered = self.protector.mask(target_text, "\x00{n}\x00")
        else:
            renumbered = _mask_at(target_text, span_positions, "\x00{n}\x00")
        text = renumbered.text
        for n, span in enumerate(renumbered.spans, start=1):
            text = text.replace(f"\x00{n}\x00", MEMORY_PATTERN.format(n=numbers[span].pop(0)), 1)
        assert token_numbers(text, MEMORY_PATTERN) == list(range(1, len(key.spans) + 1))
        return text

    def _upsert(
        self,
        source_key: str,
        target_key: str,
        source_language: str,
        target_language: str,
        kind: str,
        origin: str,
        author: str | None,
        replace: bool,
    ) -> MemoryEntry | None:
        identity = dict(
            source_language=source_language, target_language=target_language, key_hash=_hash(source_key), kind=kind
        )
        values = dict(
            source_key=source_key, target_key=target_key, origin=origin, author=author, updated_at=dt.datetime.utcnow()
        )
        where = sa.and_(*(TABLE.c[column] == value for column, value in identity.items()))
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(TABLE).values(**identity, **values))
        except IntegrityError:
            # Another process stored the same key first: a human correction replaces it,
            # a machine result is identical in substance and is left as it is.
            if replace:
                with self.engine.begin() as connection:
                    connection.execute(sa.update(TABLE).where(where).values(**values))
        if not replace:
            return None
        with self.engine.connect() as connection:
            return _entry(connection.execute(sa.select(TABLE).where(where)).one())
