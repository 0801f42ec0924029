"""Actions: hand the conversation to a person, when the customer asks or the bot keeps failing.

The hand-off opens a ticket in the shared queue (bot/handoff/queue.py), tells the customer in
their language that a person is coming and how long that usually takes, and pauses the
conversation (Rasa's ConversationPaused: the server stores the customer's messages but predicts
nothing) until an agent hands it back from the console. Outside support hours the customer
gets the contact address instead and the bot carries on. Any other action hands off the same
way by returning `hand_off(...)`'s events.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Engine

from bot.handoff import queue
from bot.handoff.settings import HandoffSettings

FALLBACK_INTENT = "nlu_fallback"


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, settings: HandoffSettings, engine: Engine
) -> list[dict[str, Any]]:
    """Opens the ticket, tells the customer, and returns the events that pause the bot."""
    is_open = settings.is_open()
    ticket_id = queue.open_ticket(
        engine,
        sender_id=tracker.sender_id,
        language=tracker.get_slot("language"),
        reason=reason,
        last_message=tracker.latest_message.get("text"),
        channel=tracker.get_latest_input_channel(),
        status=queue.WAITING if is_open else queue.UNAVAILABLE,
    )
    events = [SlotSet("handoff_ticket_id", str(ticket_id))]
    if not is_open:
        dispatcher.utter_message(response="utter_handoff_unavailable", handoff_ticket_id=str(ticket_id))
        return events
    dispatcher.utter_message(response="utter_handoff", ticket_id=str(ticket_id))
    dispatcher.utter_message(response="utter_handoff_wait_time", handoff_wait_minutes=str(settings.wait_minutes))
    return [*events, SlotSet("handoff_wait_minutes", str(settings.wait_minutes)), ConversationPaused()]


class HandoffSettingsMixin:
    """The settings and the queue's engine of a hand-off action, created on first use (never at
    import). Not an Action itself: rasa-sdk registers every Action subclass by its name."""

    def __init__(self, settings: HandoffSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> HandoffSettings:
        if self._settings is None:
            self._settings = HandoffSettings.from_environment()
        return self._settings

    @property
    def engine(self) -> Engine:
        return queue.queue_engine(self.settings.db_url)


class ActionHandoffToHuman(HandoffSettingsMixin, Action):
    """The customer asked for a person (or a story offers one): hand off, reason = the intent."""

    def name(self) -> str:
        return "action_handoff_to_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "unknown"
        return hand_off(dispatcher, tracker, intent, self.settings, self.engine)


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the customer's latest turns in a row the NLU did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionFallbackOrHandoff(HandoffSettingsMixin, Action):
    """Asks to rephrase; after BRIDGE_HANDOFF_AFTER_FALLBACKS misunderstandings in a row, hands off."""

    def name(self) -> str:
        return "action_fallback_or_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        limit = self.settings.after_fallbacks
        if limit and consecutive_fallbacks(tracker) >= limit:
            return hand_off(dispatcher, tracker, "repeated_fallback", self.settings, self.engine)
        dispatcher.utter_message(response="utter_default")
        return []
