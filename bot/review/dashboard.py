"""The dashboard's numbers, per UTC day, added up from the per-conversation summary rows.

Every number comes from the tracker store's events through the summaries (bot/review/
summaries.py), and a conversation is counted on the day of its last activity, the day the
list's date range filters on. The list's filters select the conversations (language, channel,
from/to, ...), so a filtered dashboard counts exactly what the filtered list shows.

    conversations     conversations per day
    contained         conversations that ended without a hand-off (containment)
    fallback          conversations with a fallback turn (nlu_fallback or action_default_fallback)
    handoff           conversations handed to a person
    top intents, top knowledge-base answers, unsupported languages: customer turns
    routes            bot replies per translation route (authored, memory, mt:<backend>, fallback)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.review.conversation_list import ConversationFilters, conditions
from bot.review.database import conversation_counts, conversations

TOP = 10
# Days shown when the store holds conversations over a longer stretch and no range is given.
MAX_DAYS = 366


class utc_day(FunctionElement):  # noqa: N801 (named as SQL functions are)
    """The UTC day (YYYY-MM-DD) of a Unix timestamp column, in the database's own SQL."""

    type = sa.String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, 'unixepoch')"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw):
    return f"to_char(to_timestamp({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day)
def _utc_day_other(element, compiler, **kw):
    raise sa.exc.CompileError(
        f"The console's dashboard supports SQLite and PostgreSQL, not {compiler.dialect.name}: "
        "keep the console's tables in one of them (BRIDGE_CONSOLE_DATABASE_URL)."
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(found: list[str], filters: ConversationFilters) -> list[str]:
    """Every day of the range (the filters', else the data's), so days without traffic show as 0."""
    if not found and not (filters.date_from and filters.date_to):
        return []
    last = filters.date_to or date.fromisoformat(max(found))
    first = filters.date_from or date.fromisoformat(min(found))
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def dashboard(engine: Engine, filters: ConversationFilters, low_confidence: float) -> dict[str, Any]:
    """The dashboard's series and top lists for the conversations `filters` select.

    Example:
        >>> dashboard(engine, ConversationFilters(language="pt"), 0.5)["totals"]["conversations"]
        12
    """
    c = conversations.c
    where = conditions(filters, low_confidence)
    day = utc_day(c.last_at).label("day")

    def flag(column):
        return sa.func.sum(sa.case((column.is_(True), 1), else_=0))

    per_day = (
        sa.select(day, sa.func.count(), flag(c.handoff), flag(c.fallback)).where(*where).group_by(day).order_by(day)
    )
    n = conversation_counts.c
    counted = sa.select(n.kind, n.value, sa.func.sum(n.count).label("total")).join(
        conversations, n.sender_id == c.sender_id
    )
    totals_by_kind = counted.where(*where).group_by(n.kind, n.value)
    routes_per_day = (
        sa.select(day, n.value, sa.func.sum(n.count))
        .join(conversations, n.sender_id == c.sender_id)
        .where(n.kind == "route", *where)
        .group_by(day, n.value)
    )
    with engine.connect() as connection:
        daily = {row[0]: row[1:] for row in connection.execute(per_day)}
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for kind, value, total in connection.execute(totals_by_kind):
            by_kind[kind].append({"value": value, "count": int(total)})
        route_days: dict[str, dict[str, int]] = defaultdict(dict)
        for route_day, route, total in connection.execute(routes_per_day):
            route_days[route][route_day] = int(total)

    days = _days(list(daily), filters)
    series = {name: [] for name in ("conversations", "contained", "fallback", "handoff")}
    for one in days:
        count, handoff, fallback = (int(v or 0) for v in daily.get(one, (0, 0, 0)))
        series["conversations"].append(count)
        series["contained"].append(count - handoff)
        series["fallback"].append(fallback)
        series["handoff"].append(handoff)
    # Totals over every selected conversation, also those before a long stretch's first shown day.
    conversations_total, handoff_total, fallback_total = (sum(int(v[i] or 0) for v in daily.values()) for i in range(3))

    def top(kind: str) -> list[dict[str, Any]]:
        return sorted(by_kind.get(kind, []), key=lambda item: (-item["count"], item["value"]))[:TOP]

    routes = sorted(by_kind.get("route", []), key=lambda item: (-item["count"], item["value"]))
    return {
        "days": days,
        **series,
        "containment_rate": [_rate(k, n) for k, n in zip(series["contained"], series["conversations"])],
        "fallback_rate": [_rate(f, n) for f, n in zip(series["fallback"], series["conversations"])],
        "handoff_rate": [_rate(h, n) for h, n in zip(series["handoff"], series["conversations"])],
        "totals": {
            "conversations": conversations_total,
            "contained": conversations_total - handoff_total,
            "fallback": fallback_total,
            "handoff": handoff_total,
            "containment_rate": _rate(conversations_total - handoff_total, conversations_total),
            "fallback_rate": _rate(fallback_total, conversations_total),
            "handoff_rate": _rate(handoff_total, conversations_total),
            "replies": sum(item["count"] for item in routes),
        },
        "top_intents": top("intent"),
        "top_kb_answers": top("kb_answer"),
        "unsupported_languages": top("unsupported_language"),
        "routes": routes,
        "routes_per_day": {item["value"]: [route_days[item["value"]].get(d, 0) for d in days] for item in routes},
    }
