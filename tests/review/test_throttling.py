"""Repeated failed logins are throttled per account and per client address, in the database."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.review import accounts
from bot.review.app import create_app
from tests.review.conftest import AGENT_EMAIL, AGENT_PASSWORD, log_in


def test_the_right_password_is_refused_after_too_many_wrong_ones(client: TestClient):
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        assert log_in(client, AGENT_EMAIL, "wrong-guess-123").status_code == 401
    response = log_in(client, AGENT_EMAIL, AGENT_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.text and int(response.headers["Retry-After"]) > 0
    assert client.get("/api/me").status_code == 401


def test_the_throttle_outlives_the_process(client: TestClient, settings, console_engine):
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        log_in(client, AGENT_EMAIL, "wrong-guess-123")
    with TestClient(create_app(settings, console_engine=console_engine), follow_redirects=False) as restarted:
        assert log_in(restarted, AGENT_EMAIL, AGENT_PASSWORD).status_code == 429


def test_one_address_guessing_many_accounts_is_throttled(console_engine, app):
    for i in range(accounts.MAX_FAILURES_PER_CLIENT):
        assert accounts.authenticate(console_engine, f"guess{i}@example.com", "wrong", client="10.0.0.9") is None
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(console_engine, AGENT_EMAIL, AGENT_PASSWORD, client="10.0.0.9")
    # Another address is not blocked by this one's guesses.
    assert accounts.authenticate(console_engine, AGENT_EMAIL, AGENT_PASSWORD, client="10.0.0.10") is not None


def test_failures_age_out_of_the_window(console_engine, app):
    long_ago = 1_000_000.0
    for _ in range(accounts.MAX_FAILURES_PER_EMAIL):
        accounts.authenticate(console_engine, AGENT_EMAIL, "wrong", client="10.0.0.11", now=long_ago)
    later = long_ago + accounts.THROTTLE_WINDOW_SECONDS + 1
    assert accounts.authenticate(console_engine, AGENT_EMAIL, AGENT_PASSWORD, client="10.0.0.11", now=later)
