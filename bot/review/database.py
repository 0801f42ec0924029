"""The console's tables, and read access to Rasa's `events` table, on SQLAlchemy 1.4.

Rasa's SQLTrackerStore owns `events` (id, sender_id, type_name, timestamp, intent_name,
action_name, data as JSON text); the console only reads it. The console's own tables carry a
`bridge_console_` prefix so they can live in the tracker store's database (the default) or in
a database of their own.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

console_metadata = sa.MetaData()

agents = sa.Table(
    "bridge_console_agents",
    console_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# One row per failed login; throttling counts the recent ones per email and per client address,
# so every console process (and a restarted one) sees the same failures.
login_failures = sa.Table(
    "bridge_console_login_failures",
    console_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(255), nullable=False, index=True),
    sa.Column("client", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
)

# One row per conversation, derived from its events (see bot/review/summaries.py).
conversations = sa.Table(
    "bridge_console_conversations",
    console_metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("language", sa.String(8)),
    sa.Column("turns", sa.Integer, nullable=False),
    sa.Column("min_confidence", sa.Float),
    sa.Column("fallback", sa.Boolean, nullable=False),
    sa.Column("handoff", sa.Boolean, nullable=False),
    sa.Column("kb_answer", sa.Boolean, nullable=False),
    sa.Column("unsupported_language", sa.Boolean, nullable=False),
    sa.Column("first_text", sa.Text),
    # The list is read newest first; keyset pagination walks this index.
    sa.Index("ix_bridge_console_conversations_recent", "last_at", "sender_id"),
    # A channel filter walks its own stretch of this one in the same order.
    sa.Index("ix_bridge_console_conversations_channel_recent", "channel", "last_at", "sender_id"),
)

# Every intent and language a conversation had, for the list's filters.
conversation_labels = sa.Table(
    "bridge_console_conversation_labels",
    console_metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.String(255), primary_key=True),
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Index("ix_bridge_console_conversation_labels_sender", "sender_id"),
)

# What each conversation adds to the dashboard, on the UTC day of its last activity: itself
# (kind "conversation": value "all", and "handoff" / "fallback" when it had one), its customer
# turns per intent, knowledge-base answer and unsupported language, and its replies per
# translation route. Unfiltered, the dashboard sums this table alone, in the order of its index.
conversation_counts = sa.Table(
    "bridge_console_conversation_counts",
    console_metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(255), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Index("ix_bridge_console_conversation_counts_day", "day", "kind", "value", "count"),
)

# Every channel, intent and language ever seen, for the filter menus without scanning the labels.
filter_values = sa.Table(
    "bridge_console_filter_values",
    console_metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.String(255), primary_key=True),
)

# How far into `events` the summaries are built.
summary_progress = sa.Table(
    "bridge_console_summary_progress",
    console_metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
)

# An agent's verdict on one customer turn: its intent was wrong (and which is right), or its
# knowledge-base answer was wrong (and, if known, which is right). One per turn and kind.
corrections = sa.Table(
    "bridge_console_corrections",
    console_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("wrong_value", sa.String(255)),
    sa.Column("right_value", sa.String(255)),
    sa.Column("agent_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("exported_at", sa.Float, index=True),
    sa.UniqueConstraint("event_id", "kind", name="uq_bridge_console_corrections_turn"),
)

# Rasa's table, described for reading only: the console never creates or changes it.
events = sa.Table(
    "events",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("type_name", sa.String(255)),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def create_engine(url: str) -> Engine:
    """An engine for `url`; SQLite connections may be shared by the web server's threads.

    A SQLite file's folder is created, as Rasa's tracker store does: on a fresh checkout the
    console may start before the bot has written anything.
    """
    options = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {}
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url, future=True, pool_pre_ping=True, **options)


def create_console_tables(engine: Engine) -> None:
    """Creates the console's tables that do not exist yet."""
    console_metadata.create_all(engine)


def events_table_exists(engine: Engine) -> bool:
    """Whether Rasa has created its `events` table in this database yet."""
    return sa.inspect(engine).has_table("events")
