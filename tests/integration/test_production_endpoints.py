"""endpoints.production.yml on real services: PostgreSQL tracker store, Redis lock store,
RabbitMQ event broker. A German conversation is stored in PostgreSQL with its language slot,
and its events reach the broker's queue."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
import sqlalchemy as sa

from tests.conftest import PROJECT_DIR
from tests.helpers.rasa_server import send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
QUEUE = "bridge_events"


def _admin(statement: str) -> None:
    connection = psycopg2.connect(dbname="postgres", **POSTGRES)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


@pytest.fixture(scope="module")
def tracker_database() -> Iterator[str]:
    name = f"bridge_test_{uuid.uuid4().hex[:10]}"
    _admin(f"CREATE DATABASE {name}")
    yield name
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
    from bot.serving.processes import BotStack, free_port

    asyncio.run(_drain(QUEUE))  # start from an empty queue
    action_port = free_port()
    stack = BotStack(
        project_dir=PROJECT_DIR,
        model=demo_model,
        endpoints=PROJECT_DIR / "endpoints.production.yml",
        rasa_port=free_port(),
        action_port=action_port,
        chat_port=None,
        log_dir=tmp_path_factory.mktemp("production-logs"),
        env={
            "BRIDGE_SHOP_DB_URL": shop_db_url,
            "BRIDGE_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
            "BRIDGE_POSTGRES_HOST": POSTGRES["host"],
            "BRIDGE_POSTGRES_PORT": str(POSTGRES["port"]),
            "BRIDGE_POSTGRES_DB": tracker_database,
            "BRIDGE_POSTGRES_USER": POSTGRES["user"],
            "BRIDGE_POSTGRES_PASSWORD": "",
            "BRIDGE_REDIS_HOST": "127.0.0.1",
            "BRIDGE_REDIS_PORT": "6379",
            "BRIDGE_RABBITMQ_HOST": "127.0.0.1",
            "BRIDGE_RABBITMQ_USER": "guest",
            "BRIDGE_RABBITMQ_PASSWORD": "guest",
        },
    )
    stack.start()
    yield stack
    stack.stop()


def test_conversation_is_stored_in_postgresql_and_published_to_rabbitmq(production_stack, tracker_database):
    sender = f"prod-de-{uuid.uuid4().hex[:8]}"
    replies = send(production_stack, sender, "Ich habe mein Passwort vergessen und komme nicht mehr rein")
    assert replies, "the bot answered nothing"

    engine = sa.create_engine(
        f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{tracker_database}"
    )
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
