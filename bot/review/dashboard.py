"""The dashboard's numbers, per UTC day, added up from the per-conversation counts.

Every number comes from the tracker store's events through the summaries (bot/review/
summaries.py, table bridge_console_conversation_counts), and a conversation is counted on the
UTC day of its last activity, the day the list's date range filters on. The list's filters
select the conversations (language, channel, from/to, ...), so a filtered dashboard counts
exactly what the filtered list shows.

    conversations     conversations per day
    contained         conversations that ended without a hand-off (containment)
    fallback          conversations with a fallback turn (nlu_fallback or action_default_fallback)
    handoff           conversations handed to a person
    top intents, top knowledge-base answers, unsupported languages: customer turns
    routes            bot replies per translation route (authored, memory, mt:<backend>, fallback)
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.review.conversation_list import ConversationFilters, conditions
from bot.review.database import conversation_counts, conversations

TOP = 10
# Days shown when the store holds conversations over a longer stretch and no range is given.
MAX_DAYS = 366


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


def _ranked(totals: dict[str, int], limit: int | None = TOP) -> list[dict[str, Any]]:
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": count} for value, count in ranked[:limit]]


def _sums(engine: Engine, filters: ConversationFilters, low_confidence: float) -> dict[str, dict[str, dict[str, int]]]:
    """day -> kind -> value -> count, over the conversations `filters` select."""
    n = conversation_counts.c
    query = sa.select(n.day, n.kind, n.value, sa.func.sum(n.count))
    # The day of last activity is stored with the counts, so the range needs no join.
    if filters.date_from:
        query = query.where(n.day >= filters.date_from.isoformat())
    if filters.date_to:
        query = query.where(n.day <= filters.date_to.isoformat())
    labelled = dataclasses.replace(filters, date_from=None, date_to=None)
    query = query.where(*conditions(labelled, low_confidence, sender_id=n.sender_id))
    if conditions(dataclasses.replace(labelled, language=None, intent=None), low_confidence):
        # Channel and outcome filters read the summary row itself.
        query = query.join(conversations, n.sender_id == conversations.c.sender_id)
    found: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    with engine.connect() as connection:
        for day, kind, value, total in connection.execute(query.group_by(n.day, n.kind, n.value)):
            found[day][kind][value] = int(total)
    return found


def dashboard(engine: Engine, filters: ConversationFilters, low_confidence: float) -> dict[str, Any]:
    """The dashboard's series and top lists for the conversations `filters` select.

    Example:
        >>> dashboard(engine, ConversationFilters(language="pt"), 0.5)["totals"]["conversations"]
        12
    """
    sums = _sums(engine, filters, low_confidence)
    days = _days(list(sums), filters)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for by_kind in sums.values():
        for kind, values in by_kind.items():
            for value, count in values.items():
                totals[kind][value] += count

    def per_day(kind: str, value: str) -> list[int]:
        return [sums[d][kind].get(value, 0) if d in sums else 0 for d in days]

    series = {
        "conversations": per_day("conversation", "all"),
        "fallback": per_day("conversation", "fallback"),
        "handoff": per_day("conversation", "handoff"),
    }
    series["contained"] = [n - h for n, h in zip(series["conversations"], series["handoff"])]
    conversation_total = totals["conversation"]
    count, handoff, fallback = (conversation_total.get(k, 0) for k in ("all", "handoff", "fallback"))
    routes = _ranked(totals["route"], limit=None)
    return {
        "days": days,
        "conversations": series["conversations"],
        "contained": series["contained"],
        "fallback": series["fallback"],
        "handoff": series["handoff"],
        "containment_rate": [_rate(k, n) for k, n in zip(series["contained"], series["conversations"])],
        "fallback_rate": [_rate(f, n) for f, n in zip(series["fallback"], series["conversations"])],
        "handoff_rate": [_rate(h, n) for h, n in zip(series["handoff"], series["conversations"])],
        "totals": {
            "conversations": count,
            "contained": count - handoff,
            "fallback": fallback,
            "handoff": handoff,
            "containment_rate": _rate(count - handoff, count),
            "fallback_rate": _rate(fallback, count),
            "handoff_rate": _rate(handoff, count),
            "replies": sum(item["count"] for item in routes),
        },
        "top_intents": _ranked(totals["intent"]),
        "top_kb_answers": _ranked(totals["kb_answer"]),
        "unsupported_languages": _ranked(totals["unsupported_language"]),
        "routes": routes,
        "routes_per_day": {item["value"]: per_day("route", item["value"]) for item in routes},
    }
