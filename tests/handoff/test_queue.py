"""The hand-off queue on real databases: tickets, and two agents claiming at once (one wins)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.handoff import queue

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[sa.engine.Engine]:
    if request.param == "sqlite":
        yield queue.queue_engine(f"sqlite:///{tmp_path / 'handoff.db'}")
        return
    name = f"bridge_handoff_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = queue.queue_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_ticket_waits_in_the_queue_with_language_channel_and_reason(engine):
    ticket_id = queue.open_ticket(engine, "web-1", "pt", "talk_to_human", "quero falar com alguém", "socketio")
    [ticket] = queue.open_tickets(engine)
    assert (ticket.ticket_id, ticket.sender_id, ticket.language, ticket.channel, ticket.reason, ticket.status) == (
        ticket_id,
        "web-1",
        "pt",
        "socketio",
        "talk_to_human",
        "waiting",
    )
    assert ticket.waiting_seconds(ticket.created_at + dt.timedelta(seconds=90)) == 90


@pytest.mark.parametrize("round_", range(5))
def test_two_agents_claiming_at_once_one_wins(engine, round_):
    ticket_id = queue.open_ticket(engine, f"race-{round_}", "ko", "talk_to_human", None)
    start = threading.Barrier(2)
    won: dict[int, bool] = {}

    def claim(agent_id: int) -> None:
        start.wait()
        won[agent_id] = queue.claim(engine, ticket_id, agent_id, f"agent{agent_id}@example.com")

    threads = [threading.Thread(target=claim, args=(agent_id,)) for agent_id in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won.values()) == [False, True]
    winner = next(agent for agent, result in won.items() if result)
    assert queue.get_ticket(engine, ticket_id).agent_id == winner


def test_only_the_holder_hands_back_and_a_finished_ticket_leaves_the_queue(engine):
    ticket_id = queue.open_ticket(engine, "web-2", "en", "repeated_fallback", None)
    assert queue.claim(engine, ticket_id, 1, "one@example.com")
    assert not queue.finish(engine, ticket_id, queue.RETURNED, agent_id=2)
    assert queue.finish(engine, ticket_id, queue.RETURNED, agent_id=1)
    assert queue.open_tickets(engine) == []
    assert not queue.claim(engine, ticket_id, 2, "two@example.com")


def test_unclaimed_tickets_are_found_by_age(engine):
    old = queue.open_ticket(engine, "web-3", "de", "talk_to_human", None)
    assert [t.ticket_id for t in queue.unclaimed_since(engine, queue.utc_now() + dt.timedelta(seconds=1))] == [old]
    assert queue.unclaimed_since(engine, queue.utc_now() - dt.timedelta(minutes=5)) == []


def test_a_missing_ticket_is_a_clear_error(engine):
    with pytest.raises(queue.TicketError, match="no hand-off ticket 999"):
        queue.get_ticket(engine, 999)
