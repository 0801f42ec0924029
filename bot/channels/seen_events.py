"""Remembers which platform deliveries were processed, so a retried webhook causes no second turn.

Slack re-sends an event (same `event_id`, header `X-Slack-Retry-Num`) when it did not get a
quick answer, and Telegram re-sends an update (same `update_id`) after an error. Several Rasa
replicas may receive the copies, so the memory lives where the replicas already meet:

1. Redis, when endpoints.yml configures a Redis lock store or tracker store (production:
   `SET key NX EX` is atomic across replicas);
2. otherwise the SQL database of the tracker store (a table `bridge_seen_channel_events` with
   the key as primary key: the second insert of a key fails, in every process);
3. otherwise (in-memory tracker store) a local SQLite file, var/seen_channel_events.db, so a
   restart or a second process on the same machine still sees earlier deliveries.

Usage:
    >>> seen = seen_events_from_endpoints(Path("endpoints.yml"))
    >>> seen.first_time("slack:Ev0123")   # True: process it
    >>> seen.first_time("slack:Ev0123")   # False: a retry, drop it
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from bot.serving.redis_client import redis_from_endpoint
from bot.serving.tracker_database import sql_tracker_store_url

logger = logging.getLogger(__name__)

# Slack retries for about an hour and Telegram for up to a day; a day covers both.
KEEP_SECONDS = 24 * 60 * 60
TABLE_NAME = "bridge_seen_channel_events"
LOCAL_DB = Path("var") / "seen_channel_events.db"
MAX_KEY_CHARS = 255


class SeenEvents(Protocol):
    """A store that answers, atomically across processes, whether a delivery is new."""

    def first_time(self, key: str) -> bool:
        """True the first time `key` is offered, False for every later copy."""

    def forget(self, key: str) -> None:
        """Makes `key` new again (its processing failed, so the platform's retry must get through)."""


class SqlSeenEvents:
    """Seen keys as rows of one table in any SQLAlchemy database."""

    def __init__(self, url: Any) -> None:
        """:param url: a SQLAlchemy URL (string or `sqlalchemy.engine.URL`)."""
        self.engine = sa.create_engine(url)
        metadata = sa.MetaData()
        self.table = sa.Table(
            TABLE_NAME,
            metadata,
            sa.Column("key", sa.String(MAX_KEY_CHARS), primary_key=True),
            sa.Column("seen_at", sa.Float, nullable=False, index=True),
        )
        metadata.create_all(self.engine)

    def first_time(self, key: str) -> bool:
        now = time.time()
        with self.engine.begin() as connection:
            connection.execute(self.table.delete().where(self.table.c.seen_at < now - KEEP_SECONDS))
        try:
            with self.engine.begin() as connection:
                connection.execute(self.table.insert().values(key=key[:MAX_KEY_CHARS], seen_at=now))
        except sa.exc.IntegrityError:
            return False
        return True

    def forget(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(self.table.delete().where(self.table.c.key == key[:MAX_KEY_CHARS]))


class RedisSeenEvents:
    """Seen keys as Redis keys that expire after KEEP_SECONDS."""

    PREFIX = "bridge:seen_channel_event:"

    def __init__(self, client: Any) -> None:
        """`client`: a redis.StrictRedis (bot/serving/redis_client.py makes one from endpoints)."""
        self.redis = client

    def first_time(self, key: str) -> bool:
        return bool(self.redis.set(self.PREFIX + key, 1, nx=True, ex=KEEP_SECONDS))

    def forget(self, key: str) -> None:
        self.redis.delete(self.PREFIX + key)


def seen_events_from_endpoints(endpoints: Path | None) -> SeenEvents:
    """The store for this server, chosen from `endpoints` as the module docstring says."""
    from rasa.core.utils import read_endpoints_from_path

    available = read_endpoints_from_path(endpoints) if endpoints and endpoints.is_file() else None
    lock_store = available.lock_store if available else None
    tracker_store = available.tracker_store if available else None
    for config in (lock_store, tracker_store):
        if config is not None and config.type == "redis":
            return RedisSeenEvents(redis_from_endpoint(config))
    if tracker_store is not None and (tracker_store.type or "").lower() == "sql":
        return SqlSeenEvents(sql_tracker_store_url(tracker_store))
    logger.info(f"Seen channel deliveries are kept in {LOCAL_DB}: the tracker store is neither SQL nor Redis.")
    LOCAL_DB.parent.mkdir(parents=True, exist_ok=True)
    return SqlSeenEvents(f"sqlite:///{LOCAL_DB}")
