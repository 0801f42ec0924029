"""The console's settings: the tracker store comes from endpoints.yml, secrets have no production default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.review.settings import ConsoleSettings, ConsoleSettingsError, tracker_url_from_endpoints

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_the_default_tracker_store_is_the_projects_sqlite_file():
    assert tracker_url_from_endpoints(PROJECT_DIR / "endpoints.yml") == "sqlite:///var/tracker.db"
    settings = ConsoleSettings.from_environment({}, endpoints=PROJECT_DIR / "endpoints.yml")
    assert settings.database_url == settings.tracker_url == "sqlite:///var/tracker.db"
    assert len(settings.secret_key) >= 32


def test_production_endpoints_give_the_postgresql_url(monkeypatch: pytest.MonkeyPatch):
    variables = {
        "BRIDGE_ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
        "BRIDGE_POSTGRES_USER": "bridge",
        "BRIDGE_POSTGRES_PASSWORD": "s3cret",
        "BRIDGE_POSTGRES_HOST": "db",
        "BRIDGE_POSTGRES_PORT": "5432",
        "BRIDGE_POSTGRES_DB": "bridge",
        "BRIDGE_REDIS_HOST": "redis",
        "BRIDGE_REDIS_PORT": "6379",
        "BRIDGE_REDIS_PASSWORD": "redis-secret",
        "BRIDGE_RABBITMQ_HOST": "mq",
        "BRIDGE_RABBITMQ_USER": "bridge",
        "BRIDGE_RABBITMQ_PASSWORD": "mq-secret",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    url = tracker_url_from_endpoints(PROJECT_DIR / "endpoints.production.yml")
    assert url == "postgresql://bridge:s3cret@db:5432/bridge"


def test_a_production_database_needs_a_secret_key(tmp_path: Path):
    environ = {"BRIDGE_CONSOLE_TRACKER_URL": "postgresql://bridge@db/bridge"}
    with pytest.raises(ConsoleSettingsError, match="BRIDGE_CONSOLE_SECRET"):
        ConsoleSettings.from_environment(environ, endpoints=tmp_path / "none.yml")
    settings = ConsoleSettings.from_environment({**environ, "BRIDGE_CONSOLE_SECRET": "k" * 40})
    assert settings.secret_key == "k" * 40


def test_the_first_admin_needs_both_email_and_password(tmp_path: Path):
    with pytest.raises(ConsoleSettingsError, match="BRIDGE_CONSOLE_ADMIN_PASSWORD"):
        ConsoleSettings.from_environment({"BRIDGE_CONSOLE_ADMIN_EMAIL": "a@example.com"}, endpoints=tmp_path / "x.yml")


def test_a_bad_low_confidence_is_named(tmp_path: Path):
    with pytest.raises(ConsoleSettingsError, match="BRIDGE_CONSOLE_LOW_CONFIDENCE"):
        ConsoleSettings.from_environment({"BRIDGE_CONSOLE_LOW_CONFIDENCE": "high"}, endpoints=tmp_path / "x.yml")


def test_an_endpoints_file_with_another_tracker_store_is_refused(tmp_path: Path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: redis\n  url: localhost\n")
    with pytest.raises(ConsoleSettingsError, match="type: SQL"):
        tracker_url_from_endpoints(endpoints)
