"""Faults on the production set-up (PostgreSQL tracker store, Redis lock store), counted.

A Rasa server killed outright under load and started again loses no answered turn and
stores none twice; a PostgreSQL restart is survived without restarting the Rasa server; a
stopped action server gets the customer an apology in their own language, the error in the
log, and the next turn answered once the action server is back.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.serving.processes import BotStack, free_port
from tests.helpers.conversation_driver import ConversationDriver
from tests.helpers.postgres import PrivatePostgres, database_url, temporary_database
from tests.helpers.tiny_bot import GREETING, train_tiny_bot
from tests.helpers.tracker_events import stored_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENDERS = 4
ANSWERED_BEFORE_FAULT = 24
ANSWERED_AFTER_FAULT = 24
# Every customer greets again and again; the driver's turn tags tell the turns apart.
GREETING_TEXT = "hello"


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("faults-tiny-bot")
    train_tiny_bot(project)
    return project


def production_endpoints(target: Path, postgres_port: int, database: str) -> Path:
    """Endpoints as in endpoints.production.yml: PostgreSQL tracker store, Redis lock store."""
    endpoints = {
        "tracker_store": {"type": "SQL", "dialect": "postgresql", "url": "127.0.0.1", "port": postgres_port}
        | {"db": database, "username": "postgres", "password": ""},
        # A prefix of its own keeps this test's locks apart from any other on the same Redis.
        "lock_store": {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 1, "key_prefix": target.parent.name},
    }
    target.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return target


def tiny_stack(project: Path, endpoints: Path, log_dir: Path) -> BotStack:
    """The tiny bot's Rasa server on a free port with `endpoints` and Bridge's REST channel,
    which stores each message's metadata (the driver's turn tags); no rate limit."""
    credentials = log_dir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({"bot.channels.rest.BridgeRestInput": {"rate_limit": {"messages": 0}}}))
    return BotStack(
        project_dir=project,
        model=project / "models" / "tiny.tar.gz",
        endpoints=endpoints,
        rasa_port=free_port(),
        action_port=free_port(),
        chat_port=None,
        log_dir=log_dir,
        credentials=credentials,
    )


def stored_turn_tags(url: str, sender: str) -> list[str]:
    """The turn tags of the conversation's stored customer messages, in stored order."""
    return [(e.get("metadata") or {}).get("turn") for e in stored_events(url, sender) if e["event"] == "user"]


def check_stored_once(driver: ConversationDriver, url: str) -> dict[str, int]:
    """Asserts every answered turn is stored exactly once and in order; returns the counts."""
    counts = Counter(answered=0, greeted=0, failed=0, failed_but_stored=0, stored=0, duplicates=0, missing=0)
    for sender in driver.conversations:
        turns = sorted((t for t in driver.turns if t.sender == sender), key=lambda t: t.index)
        stored = stored_turn_tags(url, sender)
        counts["stored"] += len(stored)
        counts["duplicates"] += sum(n - 1 for n in Counter(stored).values())
        answered = [t.tag for t in turns if t.answered]
        counts["answered"] += len(answered)
        counts["greeted"] += sum(t.replies == [GREETING] for t in turns if t.answered)
        counts["missing"] += len(set(answered) - set(stored))
        failed = [t.tag for t in turns if not t.answered]
        counts["failed"] += len(failed)
        counts["failed_but_stored"] += len(set(failed) & set(stored))
        sent_order = [t.tag for t in turns if t.tag in stored]
        assert stored == sent_order, f"{sender}: stored out of order or foreign messages: {stored} vs {sent_order}"
    assert counts["missing"] == 0 and counts["duplicates"] == 0, f"answered turns lost or stored twice: {dict(counts)}"
    assert counts["greeted"] == counts["answered"], f"answered turns without the bot's reply: {dict(counts)}"
    return dict(counts)


def greeting_customers(stack: BotStack, prefix: str) -> ConversationDriver:
    """SENDERS customers greeting the stack's Rasa server over and over, each turn tagged."""
    senders = [f"{prefix}-{uuid.uuid4().hex[:6]}-{n}" for n in range(SENDERS)]
    return ConversationDriver(
        {sender: itertools.repeat(GREETING_TEXT) for sender in senders},
        route=lambda sender, n: stack.rasa_url,
        tag_turns=True,
    )


def test_rasa_killed_under_load_loses_no_answered_turn_and_stores_none_twice(tiny_project, tmp_path):
    with temporary_database() as database:
        stack = tiny_stack(tiny_project, production_endpoints(tmp_path / "endpoints.yml", 5432, database), tmp_path)
        stack.start()
        driver = greeting_customers(stack, "kill")
        try:
            driver.start()
            driver.wait_for_answers(ANSWERED_BEFORE_FAULT)
            rasa = stack.processes[-1].process
            killed_at = time.monotonic()
            os.kill(rasa.pid, signal.SIGKILL)
            rasa.wait()
            stack.start()
            restarted_at = time.monotonic()
            driver.wait_for_answers(ANSWERED_AFTER_FAULT, after=restarted_at)
            driver.stop()
            driver.join()
        finally:
            driver.stop()
            stack.stop()
        counts = check_stored_once(driver, database_url(database))
        after = [t for t in driver.turns if t.started >= restarted_at]
        in_flight = [t for t in driver.turns if t.started < killed_at < t.finished]
        print(
            f"\nkill -9 under load: {SENDERS} senders, {counts['answered']} turns answered, {counts['failed']} failed "
            f"({counts['failed_but_stored']} of them stored anyway), {counts['stored']} stored, 0 lost, 0 twice; "
            f"{len(in_flight)} turn(s) in flight at the kill; restart took {restarted_at - killed_at:.1f} s; "
            f"{sum(t.answered for t in after)}/{len(after)} turns answered after it"
        )
        assert all(t.answered for t in after), (
            f"turns after the restart failed: {[t.error for t in after if not t.answered]}"
        )


@pytest.fixture
def private_postgres():
    server = PrivatePostgres(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()  # whatever happened, the cluster is gone afterwards


def test_postgresql_restart_is_survived_without_restarting_rasa(tiny_project, private_postgres, tmp_path):
    with temporary_database(private_postgres.port) as database:
        endpoints = production_endpoints(tmp_path / "endpoints.yml", private_postgres.port, database)
        stack = tiny_stack(tiny_project, endpoints, tmp_path)
        stack.start()
        rasa = stack.processes[-1].process
        driver = greeting_customers(stack, "pg")
        try:
            driver.start()
            driver.wait_for_answers(ANSWERED_BEFORE_FAULT)
            down_at = time.monotonic()
            private_postgres.restart()
            back_at = time.monotonic()
            driver.wait_for_answers(ANSWERED_AFTER_FAULT, after=back_at)
            driver.stop()
            driver.join()
            assert rasa.poll() is None, "the Rasa server exited when PostgreSQL restarted"
            counts = check_stored_once(driver, database_url(database, private_postgres.port))
        finally:
            driver.stop()
            stack.stop()
        during = [t for t in driver.turns if t.started < back_at and t.finished > down_at]
        after = [t for t in driver.turns if t.started >= back_at]
        print(
            f"\nPostgreSQL restart ({back_at - down_at:.1f} s) under load: {SENDERS} senders, "
            f"{counts['answered']} turns answered, {counts['failed']} failed, all {len(during)} turns overlapping "
            f"the restart: {sum(t.answered for t in during)} answered; after it "
            f"{sum(t.answered for t in after)}/{len(after)} answered; same Rasa process (pid {rasa.pid})"
        )
        assert all(t.answered for t in after), (
            f"{sum(not t.answered for t in after)} of {len(after)} turns after PostgreSQL was back failed: "
            f"{[t.error for t in after if not t.answered][:3]}"
        )


# Customer requests that need a custom action, each in another language.
ACTION_REQUESTS = [
    ("de", "Wo ist meine Bestellung? Sie ist noch nicht da.", "action_check_order_status"),
    ("ja", "注文番号10045の配送状況を教えてください", "action_check_order_status"),
    ("ko", "사람 상담원과 직접 이야기하고 싶어요", "action_handoff_to_human"),
]


def test_stopped_action_server_gets_the_customer_an_apology_in_their_language(bot_stack, domain):
    from bot.project import project_environment
    from bot.serving.action_failures import RESPONSE
    from tests.helpers.demo_domain import authored
    from tests.helpers.rasa_server import send

    parts = {served.name: served for served in bot_stack.processes}
    actions, rasa = parts["action server"], parts["rasa server"]
    actions.stop()
    try:
        senders = {language: f"actions-down-{language}-{uuid.uuid4().hex[:6]}" for language, _, _ in ACTION_REQUESTS}
        replies = {language: send(bot_stack, senders[language], text) for language, text, _ in ACTION_REQUESTS}
    finally:  # the stack is shared with other tests: the action server comes back whatever happened
        actions.start(bot_stack.project_dir, project_environment(bot_stack.project_dir, bot_stack.env))
        deadline = time.monotonic() + 120
        while not actions.is_ready():
            assert time.monotonic() < deadline, f"the action server did not come back; see {actions.log_path}"
            time.sleep(0.5)
    apologised = [language for language, got in replies.items() if got == [authored(domain, RESPONSE, language)]]
    log = rasa.log_path.read_text(errors="replace")
    logged = [action for _, _, action in ACTION_REQUESTS if f"The action server did not run '{action}'" in log]
    after = send(bot_stack, senders["de"], "10047")
    print(
        f"\naction server down: {len(apologised)}/{len(ACTION_REQUESTS)} customers got the apology in their "
        f"language ({', '.join(apologised)}), {len(logged)}/{len(ACTION_REQUESTS)} failures logged by action name, "
        f"Rasa still up: {rasa.process.poll() is None}; after the action server came back: {after!r}"
    )
    assert apologised == [language for language, _, _ in ACTION_REQUESTS], replies
    assert len(logged) == len(ACTION_REQUESTS), f"logged only {logged} in {rasa.log_path}"
    assert rasa.process.poll() is None, "the Rasa server stopped"
    assert after == [authored(domain, "utter_order_processing", "de", order_id="10047")]
