"""Rasa's SQL tracker store, made to ride out a database restart instead of losing turns.

Rasa's SQLTrackerStore keeps pooled connections that a PostgreSQL restart silently kills,
and Rasa wraps it in a FailSafeTrackerStore: a turn whose save fails is kept in the
process's memory, the customer gets their answer, and the turn is gone from the database for
good (the next turn reads the database again). ReconnectingSQLTrackerStore checks each
pooled connection before use (SQLAlchemy's `pool_pre_ping`) and, while the database cannot be
reached, retries a read or a save for up to `reconnect_seconds` before giving up to Rasa's
fallback. A retried save writes only what the database does not hold yet (Rasa counts the
stored events), so nothing is stored twice; its events may reach the event broker twice when
the save broke after they were published. On SQLite (the demo's store) it keeps its
connection and writes ahead to a log, so a turn's save does not wait for the disk.

Installed for `type: SQL` by Bridge's Rasa server (bot/serving/rasa_server.py), so the
review console keeps reading the same endpoint config.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

logger = logging.getLogger(__name__)

# Long enough for a PostgreSQL restart or fail-over; the conversation's lock is held meanwhile.
DEFAULT_RECONNECT_SECONDS = 30.0
FIRST_PAUSE = 0.2  # seconds before the first retry; doubled after each, at most MAX_PAUSE
MAX_PAUSE = 2.0

Result = TypeVar("Result")


class ReconnectingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that survives a restart of its database.

    Args (besides SQLTrackerStore's):
        reconnect_seconds: how long a read or save waits for an unreachable database
            (endpoints key `reconnect_seconds`) before failing as Rasa's store would.
    """

    def __init__(self, *args: Any, reconnect_seconds: float = DEFAULT_RECONNECT_SECONDS, **kwargs: Any) -> None:
        self.reconnect_seconds = _seconds(reconnect_seconds)
        super().__init__(*args, **kwargs)
        # Rasa builds its engine without a way to pass pool options: rebuild it on the same URL.
        url = self.engine.url
        self.engine.dispose()
        if sa.engine.make_url(url).get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        return await self._retrying(
            lambda: super(ReconnectingSQLTrackerStore, self)._retrieve(sender_id, fetch_events_from_all_sessions),
            f"reading conversation {sender_id}",
        )

    async def save(self, tracker: Any) -> None:
        await self._retrying(
            lambda: super(ReconnectingSQLTrackerStore, self).save(tracker), f"saving conversation {tracker.sender_id}"
        )

    async def _retrying(self, operation: Callable[[], Awaitable[Result]], what: str) -> Result:
        """Runs `operation`, again after a pause while the database is unreachable."""
        deadline = time.monotonic() + self.reconnect_seconds
        pause = FIRST_PAUSE
        while True:
            try:
                return await operation()
            except sa.exc.OperationalError as error:
                if time.monotonic() + pause > deadline:
                    logger.error(f"The tracker store's database stayed unreachable while {what}: {error.orig}")
                    raise
                logger.warning(f"The tracker store's database is unreachable while {what} ({error.orig}); retrying.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)


def _sqlite_engine(url: Any) -> sa.engine.Engine:
    """An engine on a SQLite tracker file that keeps its connections and commits without
    waiting for the disk on every turn.

    SQLAlchemy 1.4 opens the file anew for every session of a SQLite engine; a pool keeps the
    connection. In write-ahead-log mode a commit appends to the log, readers (the review
    console, the other tools) read while the server writes, and with `synchronous=NORMAL` the
    disk is flushed at checkpoints instead of at each commit: a committed turn survives the
    server being killed, and only a power cut or an operating system crash can lose the last
    turns. PostgreSQL is the store for production (endpoints.production.yml).
    """
    engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _write_ahead_log(connection: Any, _: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def _seconds(value: Any) -> float:
    """`reconnect_seconds` as a number (endpoints values may arrive as strings), checked."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:
        raise ValueError(f"tracker_store: reconnect_seconds must be a number of seconds, 0 or more, not {value!r}")
    return seconds


def reconnect_sql_tracker_stores() -> None:
    """Makes Rasa build a ReconnectingSQLTrackerStore for every `type: SQL` tracker store.

    Rasa has no option for its engine's pool, so its factory's name is pointed here; idempotent.
    """
    import rasa.core.tracker_store as tracker_store

    tracker_store.SQLTrackerStore = ReconnectingSQLTrackerStore
