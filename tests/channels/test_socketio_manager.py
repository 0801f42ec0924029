"""The socket.io channel's `client_manager` setting: python-socketio's Redis manager on the
lock store's Redis (or a URL), this process only without one, and a clear error for anything else.
Delivery across two real Rasa replicas is tested in tests/handoff/test_handoff_replicas.py."""

from __future__ import annotations

import pytest
import socketio
import yaml

from bot.channels.socketio import MANAGER_CHANNEL, BridgeSocketIOInput, client_manager_from_credentials


def endpoints_with(tmp_path, lock_store: dict | None):
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump({"lock_store": lock_store} if lock_store else {"action_endpoint": None}))
    return path


def test_the_lock_store_redis_carries_the_emits_of_every_process(tmp_path, monkeypatch):
    lock_store = {"type": "redis", "url": "redis.internal", "port": 6380, "db": 3, "password": "s3cret"}
    monkeypatch.setenv("BRIDGE_ENDPOINTS", str(endpoints_with(tmp_path, lock_store)))
    manager = client_manager_from_credentials({"client_manager": "lock_store"})
    assert isinstance(manager, socketio.AsyncRedisManager)
    assert (manager.redis_url, manager.channel) == ("redis://redis.internal:6380/3", MANAGER_CHANNEL)
    assert manager.redis_options == {"password": "s3cret"}  # kept out of the URL, and so of logs


def test_without_a_redis_lock_store_the_sockets_are_this_process_only(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIDGE_ENDPOINTS", str(endpoints_with(tmp_path, None)))
    assert client_manager_from_credentials({"client_manager": "lock_store"}) is None
    assert client_manager_from_credentials({"client_manager": ""}) is None
    assert client_manager_from_credentials({}) is None
    channel = BridgeSocketIOInput.from_credentials({"session_persistence": True})
    assert channel.client_manager is None


def test_a_redis_url_names_the_redis():
    manager = client_manager_from_credentials({"client_manager": "rediss://cache.internal:6379/0"})
    assert isinstance(manager, socketio.AsyncRedisManager) and manager.redis_url == "rediss://cache.internal:6379/0"


@pytest.mark.parametrize("setting", ["redis", "amqp://guest@rabbit/", 5])
def test_an_unknown_manager_is_refused_with_what_is_accepted(setting):
    with pytest.raises(ValueError, match="client_manager in credentials.yml must be 'lock_store' or a redis:// URL"):
        client_manager_from_credentials({"client_manager": setting})


def test_the_production_set_up_shares_sockets_through_the_lock_store_redis(monkeypatch):
    from rasa.shared.utils.io import read_config_file

    from tests.conftest import PROJECT_DIR

    # What the Rasa image runs with: credentials.yml, BRIDGE_ENDPOINTS and compose's variables.
    compose = yaml.safe_load((PROJECT_DIR / "docker" / "docker-compose.yml").read_text())
    for name, value in compose["x-bridge-env"].items():
        monkeypatch.setenv(name, "redis-password" if name == "BRIDGE_REDIS_PASSWORD" else str(value))
    monkeypatch.setenv("BRIDGE_ENDPOINTS", str(PROJECT_DIR / "endpoints.production.yml"))
    credentials = read_config_file(PROJECT_DIR / "credentials.yml")["bot.channels.socketio.BridgeSocketIOInput"]
    channel = BridgeSocketIOInput.from_credentials(credentials)
    assert isinstance(channel.client_manager, socketio.AsyncRedisManager)
    assert channel.client_manager.redis_url == "redis://redis:6379/1"
    assert channel.client_manager.redis_options == {"password": "redis-password"}
