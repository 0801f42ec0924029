"""Fixtures: a Rasa SQL tracker store on SQLite and on the loopback PostgreSQL, filled by Rasa itself,
and the console application on top of it with an in-process test client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from bot.review.app import create_app
from bot.review.database import agents, corrections, create_console_tables, create_engine, login_failures
from bot.review.settings import ConsoleSettings
from tests.helpers.sample_conversations import sample_conversations, save_conversation, tracker_store

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin-password-1"
AGENT_EMAIL, AGENT_PASSWORD = "agent@example.com", "agent-password-1"


class TrackerDatabase:
    """A filled tracker store: its SQLAlchemy URL and Rasa's store object to add events."""

    def __init__(self, url: str, parts: dict[str, Any]) -> None:
        self.url = url
        self.store = tracker_store(parts)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def tracker_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrackerDatabase]:
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("tracker")) / "tracker.db"
        database = TrackerDatabase(f"sqlite:///{path}", {"dialect": "sqlite", "db": str(path)})
        _fill(database)
        yield database
        return
    name = f"bridge_console_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    parts = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres", "db": name}
    database = TrackerDatabase(f"postgresql://postgres@127.0.0.1:5432/{name}", parts)
    try:
        _fill(database)
        yield database
    finally:
        database.store.engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill(database: TrackerDatabase) -> None:
    for sender_id, events in sample_conversations().items():
        save_conversation(database.store, sender_id, events)


@pytest.fixture
def console_engine(tracker_database: TrackerDatabase) -> Iterator[sa.engine.Engine]:
    """The console's tables in the tracker store's database, without agents, failed logins or corrections."""
    engine = create_engine(tracker_database.url)
    create_console_tables(engine)
    with engine.begin() as connection:
        connection.execute(login_failures.delete())
        connection.execute(corrections.delete())
        connection.execute(agents.delete())
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tracker_database: TrackerDatabase) -> ConsoleSettings:
    return ConsoleSettings(
        tracker_url=tracker_database.url,
        database_url=tracker_database.url,
        secret_key="test-secret-" + uuid.uuid4().hex,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
    )


@pytest.fixture
def app(settings: ConsoleSettings, console_engine: sa.engine.Engine):
    from bot.review.accounts import create_agent

    application = create_app(settings, console_engine=console_engine)
    create_agent(console_engine, AGENT_EMAIL, AGENT_PASSWORD, role="agent", language="en")
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def form_csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no CSRF token in {path}: {page.status_code} {page.text[:200]}"
    return found.group(1)


def log_in(client: TestClient, email: str, password: str, next_path: str = "/"):
    token = form_csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": next_path})


@pytest.fixture
def agent_client(client: TestClient) -> TestClient:
    assert log_in(client, AGENT_EMAIL, AGENT_PASSWORD).status_code == 303
    return client


@pytest.fixture
def admin_client(client: TestClient) -> TestClient:
    assert log_in(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    return client
