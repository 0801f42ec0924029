"""A console without agents gets a first admin a new user can log in with, and only where it is safe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.console import prepare_first_admin as prepare_from_cli
from bot.review.accounts import authenticate, list_agents
from bot.review.database import create_console_tables, create_engine
from bot.review.first_admin import LOCAL_ADMIN_EMAIL, prepare_first_admin
from bot.review.settings import ConsoleSettings


def settings_for(url: str, **extra) -> ConsoleSettings:
    return ConsoleSettings(tracker_url=url, database_url=url, secret_key="first-admin-test-secret", **extra)


def test_a_local_console_gets_an_admin_whose_password_is_shown_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'var' / 'tracker.db'}"  # the folder does not exist yet
    engine = create_engine(url)
    create_console_tables(engine)
    notice = prepare_first_admin(engine, settings_for(url))
    password = re.search(r"password +(\S+)", notice).group(1)
    assert LOCAL_ADMIN_EMAIL in notice and "shown only now" in notice and "add-agent" in notice
    admin = authenticate(engine, LOCAL_ADMIN_EMAIL, password, client="test")
    assert admin is not None and admin.role == "admin"
    assert password not in str(engine.url) and len(password) >= 20
    # The next start creates nobody and shows nothing.
    assert prepare_first_admin(engine, settings_for(url)) is None
    assert [a.email for a in list_agents(engine)] == [LOCAL_ADMIN_EMAIL]


def test_the_admin_from_the_environment_comes_first(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = create_engine(url)
    create_console_tables(engine)
    notice = prepare_first_admin(
        engine, settings_for(url, admin_email="lead@example.com", admin_password="lead-password-1")
    )
    assert "lead@example.com" in notice and "password" not in notice.replace("BRIDGE_CONSOLE_ADMIN_EMAIL", "")
    assert [a.email for a in list_agents(engine)] == ["lead@example.com"]


@pytest.mark.parametrize("tracker_database", ["postgresql"], indirect=True)
def test_a_shared_database_gets_no_invented_password_but_the_command(console_engine, tracker_database):
    notice = prepare_first_admin(console_engine, settings_for(tracker_database.url))
    assert "bridge console add-agent you@example.com --role admin" in notice
    assert list_agents(console_engine) == []


def test_bridge_run_prepares_the_admin_from_the_bots_endpoints_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BRIDGE_CONSOLE_TRACKER_URL", raising=False)
    monkeypatch.delenv("BRIDGE_CONSOLE_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("BRIDGE_CONSOLE_ADMIN_PASSWORD", raising=False)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'bot.db'}\n")
    notice = prepare_from_cli(str(endpoints))
    assert LOCAL_ADMIN_EMAIL in notice
    assert [a.email for a in list_agents(create_engine(f"sqlite:///{tmp_path / 'bot.db'}"))] == [LOCAL_ADMIN_EMAIL]
