"""A conversation turn by turn, read from Rasa's events: what the customer wrote and how the bot read it,
and each bot reply in the customer's language next to its source text and translation route.

The keys come from Bridge's components: LanguageDetector (`language`, `language_confidence`,
`language_method`, `language_supported`, `language_detected` in the parse data),
KnowledgeBaseRetriever (`knowledge_base` in the parse data) and TranslatingNLG (`translation`,
`source_language`, `original_text` in the bot event's metadata).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.review.database import events


@dataclass(frozen=True)
class CustomerTurn:
    """One customer message and what the NLU pipeline made of it."""

    event_id: int
    timestamp: float
    text: str
    channel: str | None
    language: str | None
    language_confidence: float | None
    language_method: str | None
    language_supported: bool | None
    language_detected: str | None
    intent: str | None
    intent_confidence: float | None
    kb_answer_id: str | None
    kb_score: float | None
    kb_answered: bool
    kind: str = "customer"


@dataclass(frozen=True)
class BotTurn:
    """One bot reply: the text sent, its source text, and how it was produced."""

    event_id: int
    timestamp: float
    text: str
    language: str | None
    source_language: str | None
    source_text: str | None
    route: str
    response: str | None = None  # the domain response it came from (Rasa's `utter_action`)
    kind: str = "bot"


@dataclass(frozen=True)
class ActionTurn:
    """An action the bot ran (shown small: it explains what the bot decided)."""

    event_id: int
    timestamp: float
    name: str
    kind: str = "action"


def _customer(event_id: int, timestamp: float, data: dict[str, Any]) -> CustomerTurn:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    kb = parse.get("knowledge_base") or {}
    return CustomerTurn(
        event_id=event_id,
        timestamp=timestamp,
        text=data.get("text") or "",
        channel=data.get("input_channel"),
        language=parse.get("language"),
        language_confidence=parse.get("language_confidence"),
        language_method=parse.get("language_method"),
        language_supported=parse.get("language_supported"),
        language_detected=parse.get("language_detected"),
        intent=intent.get("name"),
        intent_confidence=intent.get("confidence"),
        kb_answer_id=kb.get("answer_id"),
        kb_score=kb.get("score"),
        kb_answered=bool(kb.get("answered")),
    )


def reply_route(metadata: dict[str, Any]) -> str:
    """How a bot reply was produced: authored, memory, mt:<backend> or fallback."""
    # Replies from before Bridge's NLG (or from other NLGs) carry no route.
    return metadata.get("translation") or "authored"


def _bot(event_id: int, timestamp: float, data: dict[str, Any]) -> BotTurn:
    metadata = data.get("metadata") or {}
    text = data.get("text") or ""
    return BotTurn(
        event_id=event_id,
        timestamp=timestamp,
        text=text,
        language=metadata.get("language"),
        source_language=metadata.get("source_language"),
        # An untranslated reply is its own source text.
        source_text=metadata.get("original_text") or text,
        route=reply_route(metadata),
        response=metadata.get("utter_action"),
    )


def load_transcript(engine: Engine, sender_id: str) -> list[Any] | None:
    """The turns of conversation `sender_id` in order, or None when it does not exist."""
    query = (
        sa.select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id == sender_id)
        .order_by(events.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        return None
    turns: list[Any] = []
    for event_id, type_name, timestamp, raw in rows:
        data = json.loads(raw) if raw else {}
        if type_name == "user":
            turns.append(_customer(event_id, timestamp, data))
        elif type_name == "bot":
            turns.append(_bot(event_id, timestamp, data))
        elif type_name == "action" and data.get("name") not in ("action_listen", None):
            turns.append(ActionTurn(event_id=event_id, timestamp=timestamp, name=data["name"]))
    return turns
