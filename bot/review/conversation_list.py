"""The conversation list: filters over the summary rows and keyset pagination, newest first.

A page is read with `WHERE (last_at, sender_id) < cursor ORDER BY last_at DESC, sender_id DESC
LIMIT n`, which walks the (last_at, sender_id) index, so page 1000 costs what page 1 does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.review.database import conversation_labels, conversations, filter_values

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
FLAGS = ("low_confidence", "fallback", "handoff", "kb_answer", "unsupported_language")


class FilterError(ValueError):
    """A filter value the list cannot use; the message names the parameter and the expected form."""


@dataclass(frozen=True)
class ConversationFilters:
    """The list's filters; every one is optional and they combine with AND."""

    language: str | None = None
    channel: str | None = None
    intent: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    low_confidence: bool = False
    fallback: bool = False
    handoff: bool = False
    kb_answer: bool = False
    unsupported_language: bool = False

    @classmethod
    def from_query(cls, params: dict[str, str]) -> ConversationFilters:
        """Reads filters from query parameters (`from`/`to` as YYYY-MM-DD, flags as 1)."""

        def day(name: str) -> date | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise FilterError(f"'{name}' must be a date as YYYY-MM-DD, not '{value}'.") from None

        def text(name: str) -> str | None:
            return (params.get(name) or "").strip() or None

        return cls(
            language=text("language"),
            channel=text("channel"),
            intent=text("intent"),
            date_from=day("from"),
            date_to=day("to"),
            **{flag: params.get(flag) in ("1", "on", "true") for flag in FLAGS},
        )

    def as_query(self) -> dict[str, str]:
        """The filters back as query parameters (for links to the next page)."""
        found = {
            "language": self.language,
            "channel": self.channel,
            "intent": self.intent,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
        }
        found.update({flag: "1" if getattr(self, flag) else None for flag in FLAGS})
        return {k: v for k, v in found.items() if v}


@dataclass(frozen=True)
class ConversationPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def page_size(value: str | None) -> int:
    """The `limit` query parameter as a page size (default PAGE_SIZE, at most MAX_PAGE_SIZE)."""
    if not value:
        return PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise FilterError(f"'limit' must be a whole number from 1 to {MAX_PAGE_SIZE}, not '{value}'.")
    return int(value)


def encode_cursor(last_at: float, sender_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_at, sender_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        last_at, sender_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(last_at), str(sender_id)
    except (ValueError, TypeError):
        raise FilterError("'after' is not a cursor this list gave out; start again from the first page.") from None


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def conditions(
    filters: ConversationFilters, low_confidence: float, sender_id: sa.sql.ColumnElement | None = None
) -> list[sa.sql.ClauseElement]:
    """The WHERE conditions on the summary rows that select the conversations `filters` match.

    The list and the dashboard both select with these, so a filter means the same on both.
    `sender_id` is the column the language and intent filters apply to (default: the summary
    row's): the dashboard applies them to its counts directly.
    """
    c = conversations.c
    found = []
    if filters.channel:
        found.append(c.channel == filters.channel)
    for kind, value in (("language", filters.language), ("intent", filters.intent)):
        if value:
            label = conversation_labels.c
            if sender_id is None:
                # The list walks its index newest first and checks each row until the page is full.
                found.append(
                    sa.exists().where(label.kind == kind, label.value == value, label.sender_id == c.sender_id)
                )
            else:
                # The dashboard reads every matching conversation: the label's rows name them.
                found.append(sender_id.in_(sa.select(label.sender_id).where(label.kind == kind, label.value == value)))
    # The range applies to the last activity (UTC days, both ends included): the same column the
    # list is ordered by, so the range is one stretch of the index.
    if filters.date_from:
        found.append(c.last_at >= _epoch(filters.date_from))
    if filters.date_to:
        found.append(c.last_at < _epoch(filters.date_to + timedelta(days=1)))
    if filters.low_confidence:
        found.append(c.min_confidence < low_confidence)
    for flag in ("fallback", "handoff", "kb_answer", "unsupported_language"):
        if getattr(filters, flag):
            found.append(getattr(c, flag).is_(True))
    return found


def list_conversations(
    engine: Engine,
    filters: ConversationFilters,
    low_confidence: float,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> ConversationPage:
    """One page of conversations matching `filters`, newest activity first."""
    c = conversations.c
    query = sa.select(conversations).where(*conditions(filters, low_confidence))
    if after:
        last_at, sender_id = decode_cursor(after)
        query = query.where(sa.tuple_(c.last_at, c.sender_id) < sa.tuple_(last_at, sender_id))
    query = query.order_by(c.last_at.desc(), c.sender_id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1]["last_at"], rows[-1]["sender_id"]) if more else None
    return ConversationPage(rows=rows, next_cursor=cursor)


def filter_choices(engine: Engine) -> dict[str, list[str]]:
    """The channels, languages and intents seen so far, for the filter form's menus."""
    found: dict[str, list[str]] = {"channel": [], "language": [], "intent": []}
    with engine.connect() as connection:
        query = sa.select(filter_values.c.kind, filter_values.c.value).order_by(filter_values.c.value)
        for kind, value in connection.execute(query):
            found.setdefault(kind, []).append(value)
    return found
