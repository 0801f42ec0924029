"""The reconnecting SQL tracker store: built for `type: SQL`, waits for its database."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.serving.sql_tracker_store import ReconnectingSQLTrackerStore, reconnect_sql_tracker_stores


def test_type_sql_builds_the_reconnecting_store(tmp_path):
    reconnect_sql_tracker_stores()
    config = EndpointConfig(type="SQL", dialect="sqlite", db=str(tmp_path / "tracker.db"))
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(getattr(store, "_tracker_store", store), ReconnectingSQLTrackerStore)


@pytest.mark.parametrize("seconds", [-1, "soon", None])
def test_a_bad_wait_is_refused_with_the_key(tmp_path, seconds):
    with pytest.raises(ValueError, match="reconnect_seconds must be a number of seconds, 0 or more"):
        ReconnectingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "t.db"), reconnect_seconds=seconds)


def test_a_save_waits_for_the_database_and_stores_the_turn_once(tmp_path):
    domain = Domain.empty()
    store = ReconnectingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"), reconnect_seconds=10
    )
    tracker = DialogueStateTracker.from_events("customer", [UserUttered("where is my order")])
    store.SQLEvent.__table__.drop(store.engine)  # the database cannot take the turn

    async def save_while_the_table_comes_back() -> None:
        saving = asyncio.ensure_future(store.save(tracker))
        await asyncio.sleep(0.5)
        assert not saving.done(), "the save gave up instead of waiting"
        store.SQLEvent.__table__.create(store.engine)
        await saving
        await store.save(tracker)  # saving again adds nothing

    asyncio.run(save_while_the_table_comes_back())
    stored = asyncio.run(store.retrieve("customer"))
    assert [event.text for event in stored.events if isinstance(event, UserUttered)] == ["where is my order"]


def test_a_sqlite_store_logs_ahead_and_its_turns_outlive_it(tmp_path):
    path = tmp_path / "tracker.db"
    store = ReconnectingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events("customer", [UserUttered("where is my order")])
    asyncio.run(store.save(tracker))
    with sqlite3.connect(path) as other:  # as the review console opens it
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert other.execute("SELECT count(*) FROM events").fetchone() == (len(tracker.events),)
    fresh = ReconnectingSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(path))
    assert len(asyncio.run(fresh.retrieve("customer")).events) == len(tracker.events)
