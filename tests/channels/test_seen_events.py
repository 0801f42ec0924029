"""Seen channel deliveries: a key is new exactly once, across store instances (as across processes)."""

from __future__ import annotations

import uuid

import pytest
import yaml

from bot.channels.seen_events import RedisSeenEvents, SqlSeenEvents, seen_events_from_endpoints


def test_a_key_seen_by_one_process_is_old_for_another_sharing_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first, second = SqlSeenEvents(url), SqlSeenEvents(url)
    assert first.first_time("slack:Ev1") is True
    assert second.first_time("slack:Ev1") is False
    assert first.first_time("slack:Ev1") is False
    assert second.first_time("slack:Ev2") is True


def test_a_forgotten_key_is_new_again(tmp_path):
    store = SqlSeenEvents(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert store.first_time("telegram:1:7") is True
    store.forget("telegram:1:7")
    assert store.first_time("telegram:1:7") is True
    assert store.first_time("telegram:1:7") is False


def test_the_tracker_stores_sql_database_is_chosen(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "tracker.db")}})
    )
    store = seen_events_from_endpoints(endpoints)
    assert isinstance(store, SqlSeenEvents)
    assert str(store.engine.url) == f"sqlite:///{tmp_path / 'tracker.db'}"


def test_a_redis_lock_store_is_preferred(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump(
            {
                "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "tracker.db")},
                "lock_store": {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 1},
            }
        )
    )
    store = seen_events_from_endpoints(endpoints)
    assert isinstance(store, RedisSeenEvents)
    assert store.redis.connection_pool.connection_kwargs["db"] == 1


@pytest.mark.integration
def test_redis_answers_once_per_key_across_clients():
    import redis

    try:
        redis.StrictRedis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not answering on 127.0.0.1:6379: start it with scripts/services.sh.")
    key = f"test:{uuid.uuid4().hex}"
    first = RedisSeenEvents(redis.StrictRedis(host="127.0.0.1", port=6379, db=15))
    second = RedisSeenEvents(redis.StrictRedis(host="127.0.0.1", port=6379, db=15))
    assert first.first_time(key) is True
    assert second.first_time(key) is False
    second.forget(key)
    assert first.first_time(key) is True
    first.forget(key)
