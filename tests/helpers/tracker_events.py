"""What a SQL tracker store holds for a conversation, read straight from its `events` table."""

from __future__ import annotations

import json

import sqlalchemy as sa


def stored_events(database_url: str, sender: str) -> list[dict]:
    """The conversation's events in the order the tracker store wrote them."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
            ).all()
    finally:
        engine.dispose()
    return [json.loads(row.data) for row in rows]
