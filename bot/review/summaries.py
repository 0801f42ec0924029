"""Per-conversation summary rows derived from Rasa's `events`, kept up to date incrementally.

The conversation list filters and pages over `bridge_console_conversations` instead of the
events themselves. `refresh_summaries` reads only the events added since the last refresh
(by event id), and recomputes the summaries of just the conversations those events belong
to, from each one's own events, with the counts the dashboard adds up. Recomputing (rather
than adding deltas) makes a refresh idempotent, which lets it look back a few ids: an event
whose transaction committed after a later id was already read is still counted on the next
refresh.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.review.database import (
    conversation_counts,
    conversation_labels,
    conversations,
    events,
    events_table_exists,
    filter_values,
    summary_progress,
)
from bot.review.transcript import reply_route

# Named after what the summaries hold: a console that derives more from the events uses a new
# name, so an existing store's summaries are built again once.
PROGRESS_NAME = "conversations-v2"
# Ids below the last one read that are read again, for transactions that committed late.
LOOKBACK_IDS = 100
# Conversations recomputed per transaction while catching up on a large tracker store.
BATCH_CONVERSATIONS = 500
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"


@dataclass
class ConversationSummary:
    """What the list shows and filters on for one conversation."""

    sender_id: str
    started_at: float = float("inf")
    last_at: float = 0.0
    channel: str | None = None
    language: str | None = None
    turns: int = 0
    min_confidence: float | None = None
    fallback: bool = False
    handoff: bool = False
    kb_answer: bool = False
    unsupported_language: bool = False
    first_text: str | None = None
    intents: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    # (kind, value) -> how many turns or replies: intent, kb_answer, unsupported_language, route.
    counts: Counter = field(default_factory=Counter)

    def add(self, type_name: str, timestamp: float | None, data: dict[str, Any], handoff_actions: Sequence[str]):
        """Folds one event (Rasa's serialised form) into the summary."""
        if timestamp is not None:
            self.started_at = min(self.started_at, timestamp)
            self.last_at = max(self.last_at, timestamp)
        if type_name == "user":
            self._add_user_turn(data)
        elif type_name == "bot":
            self.counts["route", reply_route(data.get("metadata") or {})[:255]] += 1
        elif type_name == "action":
            name = data.get("name")
            self.fallback = self.fallback or name == FALLBACK_ACTION
            self.handoff = self.handoff or name in handoff_actions

    def _add_user_turn(self, data: dict[str, Any]) -> None:
        parse = data.get("parse_data") or {}
        self.turns += 1
        if self.first_text is None:
            self.first_text = (data.get("text") or "")[:200]
        self.channel = self.channel or data.get("input_channel")
        language = parse.get("language")
        if language:
            self.language = language
            self.languages.add(language)
        if parse.get("language_supported") is False:
            self.unsupported_language = True
            self.counts["unsupported_language", parse.get("language_detected") or "unknown"] += 1
        intent = parse.get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence")
        if name:
            self.intents.add(name)
            self.counts["intent", name] += 1
            self.fallback = self.fallback or name == FALLBACK_INTENT
        if isinstance(confidence, (int, float)):
            self.min_confidence = confidence if self.min_confidence is None else min(self.min_confidence, confidence)
        knowledge_base = parse.get("knowledge_base") or {}
        if knowledge_base.get("answered"):
            self.kb_answer = True
            self.counts["kb_answer", str(knowledge_base.get("answer_id") or "unknown")[:255]] += 1

    def row(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender_id,
            "started_at": self.started_at,
            "last_at": self.last_at,
            "channel": self.channel,
            "language": self.language,
            "turns": self.turns,
            "min_confidence": self.min_confidence,
            "fallback": self.fallback,
            "handoff": self.handoff,
            "kb_answer": self.kb_answer,
            "unsupported_language": self.unsupported_language,
            "first_text": self.first_text,
        }

    def labels(self) -> list[dict[str, str]]:
        found = [("intent", i) for i in sorted(self.intents)] + [("language", lang) for lang in sorted(self.languages)]
        return [{"kind": kind, "value": value, "sender_id": self.sender_id} for kind, value in found]

    def count_rows(self) -> list[dict[str, object]]:
        """The conversation's rows of the dashboard's counts (see bot/review/database.py)."""
        day = datetime.fromtimestamp(self.last_at, tz=timezone.utc).date().isoformat()
        found = Counter(self.counts)
        found["conversation", "all"] = 1
        for flag in ("handoff", "fallback"):
            if getattr(self, flag):
                found["conversation", flag] = 1
        return [
            {"sender_id": self.sender_id, "kind": kind, "value": value, "day": day, "count": count}
            for (kind, value), count in sorted(found.items())
        ]


def summarize(sender_id: str, rows: Iterable[tuple[str, float | None, str]], handoff_actions: Sequence[str]):
    """The summary of one conversation from its (type_name, timestamp, data JSON) event rows."""
    summary = ConversationSummary(sender_id)
    for type_name, timestamp, data in rows:
        summary.add(type_name, timestamp, json.loads(data) if data else {}, handoff_actions)
    if summary.started_at == float("inf"):
        summary.started_at = summary.last_at
    return summary


def refresh_summaries(tracker: Engine, console: Engine, handoff_actions: Sequence[str]) -> int:
    """Brings the summaries up to date with the tracker store; returns how many were recomputed."""
    if not events_table_exists(tracker):
        return 0
    with tracker.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(events.c.id))).scalar()
    if newest is None:
        return 0
    with console.connect() as connection:
        done = connection.execute(
            sa.select(summary_progress.c.last_event_id).where(summary_progress.c.name == PROGRESS_NAME)
        ).scalar()
    if done is not None and done >= newest:
        return 0
    start = -1 if done is None else done - LOOKBACK_IDS
    with tracker.connect() as connection:
        senders = list(
            connection.execute(
                sa.select(events.c.sender_id).where(events.c.id > start, events.c.id <= newest).distinct()
            ).scalars()
        )
    for i in range(0, len(senders), BATCH_CONVERSATIONS):
        batch = senders[i : i + BATCH_CONVERSATIONS]
        summaries = _summaries_of(tracker, batch, handoff_actions)
        _store_batch(console, batch, summaries)
    with console.begin() as connection:
        updated = connection.execute(
            summary_progress.update().where(summary_progress.c.name == PROGRESS_NAME).values(last_event_id=newest)
        ).rowcount
        if not updated:
            connection.execute(summary_progress.insert().values(name=PROGRESS_NAME, last_event_id=newest))
    return len(senders)


def _summaries_of(tracker: Engine, senders: list[str], handoff_actions: Sequence[str]) -> list[ConversationSummary]:
    grouped: dict[str, list[tuple[str, float | None, str]]] = {s: [] for s in senders}
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id.in_(senders))
        .order_by(events.c.id)
    )
    with tracker.connect() as connection:
        for sender_id, type_name, timestamp, data in connection.execute(query):
            grouped[sender_id].append((type_name, timestamp, data))
    return [summarize(sender, rows, handoff_actions) for sender, rows in grouped.items()]


def _store_batch(console: Engine, senders: list[str], summaries: list[ConversationSummary]) -> None:
    try:
        with console.begin() as connection:
            _store(connection, senders, summaries)
    except IntegrityError:
        # Another console process stored some of the same rows at the same moment. Storing
        # again replaces them (theirs came from the same events) and skips what it added.
        with console.begin() as connection:
            _store(connection, senders, summaries)


def _store(connection: Connection, senders: list[str], summaries: list[ConversationSummary]) -> None:
    connection.execute(conversations.delete().where(conversations.c.sender_id.in_(senders)))
    connection.execute(conversation_labels.delete().where(conversation_labels.c.sender_id.in_(senders)))
    connection.execute(conversation_counts.delete().where(conversation_counts.c.sender_id.in_(senders)))
    connection.execute(conversations.insert(), [s.row() for s in summaries])
    labels = [label for s in summaries for label in s.labels()]
    if labels:
        connection.execute(conversation_labels.insert(), labels)
    counts = [row for s in summaries for row in s.count_rows()]
    if counts:
        connection.execute(conversation_counts.insert(), counts)
    seen = {(label["kind"], label["value"]) for label in labels}
    seen |= {("channel", s.channel) for s in summaries if s.channel}
    known = {
        (kind, value) for kind, value in connection.execute(sa.select(filter_values.c.kind, filter_values.c.value))
    }
    if seen - known:
        connection.execute(filter_values.insert(), [{"kind": k, "value": v} for k, v in sorted(seen - known)])
