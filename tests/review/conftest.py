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
from tests.helpers.sample_conversations import (
    action,
    customer,
    day,
    reply,
    sample_conversations,
    save_conversation,
    tracker_store,
)

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


# Conversations of October 2026 that only the dashboard and translation tests read (the sample
# ones are in November), so their counts are exact whatever other tests add.
DASHBOARD_FROM, DASHBOARD_TO = "2026-10-01", "2026-10-03"
ORDER_REPLY_EN, ORDER_REPLY_PT = "Order 10045 has shipped.", "O pedido 10045 foi enviado."


def dashboard_conversations() -> dict[str, list]:
    """sender id -> events: traffic over three days with every kind of number the dashboard shows."""
    kb_returns = {"answered": True, "answer_id": "returns-30-days", "score": 0.83}
    kb_gift = {"answered": True, "answer_id": "gift-003", "score": 0.79}
    first, second, third = (day(f"2026-10-0{n}", 3600) for n in (1, 2, 3))
    return {
        "dash-en-kb": [
            customer("hi", first, "rest", "en", "greet", 0.9),
            reply("Hello!", first + 1, "authored", "en"),
            customer("How long can I return shoes?", first + 10, "rest", "en", "faq", 0.9, knowledge_base=kb_returns),
            reply("You have 30 days.", first + 11, "authored", "en"),
        ],
        "dash-pt-order": [
            customer("Saldo do cartão-presente?", first + 20, "telegram", "pt", "faq", 0.8, knowledge_base=kb_gift),
            reply("Veja o saldo no site.", first + 21, "mt:bergamot", "pt", original="See the balance on the site."),
            customer("E o meu pedido 10045?", first + 30, "telegram", "pt", "order_status", 0.9),
            reply(ORDER_REPLY_PT, first + 31, "mt:bergamot", "pt", original=ORDER_REPLY_EN),
        ],
        "dash-pt-handoff": [
            customer("Quero falar com uma pessoa", second, "rest", "pt", "talk_to_human", 0.95),
            action("action_handoff_to_human", second + 1),
            reply("Vou passar para uma pessoa.", second + 1, "memory", "pt", original="Passing you to a person."),
        ],
        "dash-en-fallback": [
            customer("blorp", second + 10, "rest", "en", "nlu_fallback", 0.2),
            action("action_default_fallback", second + 11),
            reply("Sorry, I did not get that.", second + 11, "authored", "en"),
        ],
        "dash-ko": [
            customer(
                "주문이 어디 있나요?", third, "rest", None, "unsupported_language", 0.99, supported=False, detected="ko"
            ),
            reply("I speak English.", third + 1, "authored", "en"),
            customer(
                "도와주세요", third + 10, "rest", None, "unsupported_language", 0.99, supported=False, detected="ko"
            ),
            reply("I speak English.", third + 11, "authored", "en"),
        ],
        "dash-nl": [
            customer(
                "Waar is mijn pakket?",
                third + 20,
                "slack",
                None,
                "unsupported_language",
                0.99,
                supported=False,
                detected="nl",
            ),
            reply("Ik spreek Engels.", third + 21, "fallback", "nl"),
        ],
    }


@pytest.fixture(scope="session")
def dashboard_database(tracker_database: TrackerDatabase) -> TrackerDatabase:
    """The tracker store with the October conversations added once."""
    for sender_id, events in dashboard_conversations().items():
        save_conversation(tracker_database.store, sender_id, events)
    return tracker_database


@pytest.fixture(scope="session")
def console_translations(tmp_path_factory: pytest.TempPathFactory):
    """The console's translations with the bundled Bergamot en<->pt models and a translation memory
    of its own (the models load once for the session)."""
    from bot.review.translations import ConsoleTranslations

    memory = tmp_path_factory.mktemp("memory") / "translation_memory.db"
    return ConsoleTranslations({"memory_url": f"sqlite:///{memory}", "backends": {"bergamot": {"type": "bergamot"}}})


@pytest.fixture
def translating_client(
    settings: ConsoleSettings, console_engine: sa.engine.Engine, dashboard_database, console_translations
) -> Iterator[TestClient]:
    """A client of a console that translates with Bergamot; nobody logged in yet."""
    from bot.review.accounts import create_agent

    application = create_app(settings, console_engine=console_engine, translations=console_translations)
    create_agent(console_engine, AGENT_EMAIL, AGENT_PASSWORD, role="agent", language="en")
    create_agent(console_engine, PT_AGENT_EMAIL, AGENT_PASSWORD, role="agent", language="pt")
    with TestClient(application, follow_redirects=False) as test_client:
        yield test_client


PT_AGENT_EMAIL = "ana@example.com"
