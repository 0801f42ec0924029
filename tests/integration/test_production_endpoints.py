"""endpoints.production.yml on real services: PostgreSQL tracker store, Redis lock store,
RabbitMQ event broker. A German conversation is stored in PostgreSQL with its language slot,
and its events reach the broker's queue."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.helpers.postgres import database_url, temporary_database
from tests.helpers.production_stack import production_stack as production_stack_of
from tests.helpers.rasa_server import send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUEUE = "bridge_events"


@pytest.fixture(scope="module")
def tracker_database() -> Iterator[str]:
    with temporary_database() as name:
        yield name


async def _drain(queue_name: str) -> list[dict]:
    import aio_pika

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        events = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            events.append(json.loads(message.body))
        return events


@pytest.fixture(scope="module")
def production_stack(demo_model, shop_db_url, tracker_database, tmp_path_factory):
    asyncio.run(_drain(QUEUE))  # start from an empty queue
    stack = production_stack_of(demo_model, tracker_database, shop_db_url, tmp_path_factory.mktemp("production-logs"))
    stack.start()
    yield stack
    stack.stop()


def test_conversation_is_stored_in_postgresql_and_published_to_rabbitmq(production_stack, tracker_database):
    sender = f"prod-de-{uuid.uuid4().hex[:8]}"
    replies = send(production_stack, sender, "Ich habe mein Passwort vergessen und komme nicht mehr rein")
    assert replies, "the bot answered nothing"

    engine = sa.create_engine(database_url(tracker_database))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    stored = [json.loads(row.data) for row in rows]
    assert any(e["event"] == "user" and e["parse_data"]["language"] == "de" for e in stored)
    assert any(e["event"] == "slot" and e["name"] == "language" and e["value"] == "de" for e in stored)
    assert any(e["event"] == "bot" and e["text"] == replies[0] for e in stored)

    published = asyncio.run(_drain(QUEUE))
    assert any(e.get("sender_id") == sender and e.get("event") == "user" for e in published)
