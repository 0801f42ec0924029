"""Conversations for the console tests, built from Rasa's own event classes.

Each one exercises a filter or a part of the transcript view: a knowledge-base answer, a
machine-translated reply, a fallback, a hand-off, an unsupported language and a customer
message that is an HTML injection attempt.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

SCRIPT_TEXT = "<script>alert('pwned')</script> where is my order?"


def day(text: str, seconds: int = 0) -> float:
    """The UTC timestamp of `text` (YYYY-MM-DD) plus `seconds`."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() + seconds


def customer(
    text: str,
    at: float,
    channel: str,
    language: str | None,
    intent: str,
    confidence: float,
    method: str = "model",
    supported: bool = True,
    detected: str | None = None,
    knowledge_base: dict[str, Any] | None = None,
) -> UserUttered:
    """A customer turn with the parse data Bridge's NLU pipeline produces."""
    parse: dict[str, Any] = {
        "language": language,
        "language_confidence": 0.97,
        "language_method": method,
        "language_supported": supported,
        "language_detected": detected or language,
    }
    if knowledge_base is not None:
        parse["knowledge_base"] = knowledge_base
    return UserUttered(
        text, intent={"name": intent, "confidence": confidence}, parse_data=parse, input_channel=channel, timestamp=at
    )


def reply(text: str, at: float, route: str, language: str, original: str | None = None) -> BotUttered:
    """A bot turn with the metadata Bridge's TranslatingNLG adds."""
    metadata: dict[str, Any] = {"language": language, "source_language": "en", "translation": route}
    if original is not None:
        metadata["original_text"] = original
    return BotUttered(text, metadata=metadata, timestamp=at)


def action(name: str, at: float) -> ActionExecuted:
    return ActionExecuted(name, timestamp=at)


def sample_conversations() -> dict[str, list[Event]]:
    """sender id -> events, oldest conversation first."""
    kb = {"answered": True, "answer_id": "returns-30-days", "score": 0.83, "answer": "30 days", "answer_language": "en"}
    return {
        "kb-en": [
            customer(
                "How long do I have to return shoes?",
                day("2026-11-02", 10),
                "socketio",
                "en",
                "faq",
                0.91,
                knowledge_base=kb,
            ),
            action("action_answer_from_knowledge_base", day("2026-11-02", 11)),
            reply("You have 30 days to return them.", day("2026-11-02", 11), "authored", "en"),
        ],
        "mt-pt": [
            customer(
                "Onde está a minha encomenda?",
                day("2026-11-05", 10),
                "telegram",
                "pt",
                "order_status",
                0.42,
                method="lexicon",
            ),
            action("utter_ask_order_number", day("2026-11-05", 11)),
            reply(
                "Qual é o número da sua encomenda?",
                day("2026-11-05", 11),
                "mt:bergamot",
                "pt",
                original="What is your order number?",
            ),
        ],
        "fallback-en": [
            customer("blorp the wibble", day("2026-11-10", 10), "rest", "en", "nlu_fallback", 0.3),
            action("action_default_fallback", day("2026-11-10", 11)),
            reply("Sorry, I did not get that.", day("2026-11-10", 11), "authored", "en"),
        ],
        "handoff-es": [
            customer("Quiero hablar con una persona", day("2026-11-12", 10), "slack", "es", "talk_to_human", 0.95),
            action("action_handoff_to_human", day("2026-11-12", 11)),
            reply(
                "Te paso con una persona.", day("2026-11-12", 11), "memory", "es", original="Passing you to a person."
            ),
        ],
        "unsupported-nl": [
            customer(
                "Waar is mijn bestelling?",
                day("2026-11-15", 10),
                "rest",
                None,
                "unsupported_language",
                0.99,
                method="unsupported",
                supported=False,
                detected="nl",
            ),
            reply("I speak English, Spanish and Portuguese.", day("2026-11-15", 11), "authored", "en"),
        ],
        "script-en": [
            customer(SCRIPT_TEXT, day("2026-11-20", 10), "rest", "en", "order_status", 0.88),
            reply("<b>Which order?</b>", day("2026-11-20", 11), "authored", "en"),
        ],
    }


def tracker_store(url_parts: dict[str, Any]) -> SQLTrackerStore:
    """Rasa's SQL tracker store on the given dialect/host/port/db/username."""
    return SQLTrackerStore(Domain.empty(), **url_parts)


def save_conversation(store: SQLTrackerStore, sender_id: str, new_events: list[Event]) -> None:
    """Appends `new_events` to the conversation and saves it the way Rasa's server does."""

    async def save() -> None:
        tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, slots=[])
        for event in new_events:
            tracker.update(event)
        await store.save(tracker)

    asyncio.run(save())
