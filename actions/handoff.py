"""Action: hands the conversation to the human support team and tells the customer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services.shop_db import HandoffRepository


class ActionHandoffToHuman(Action):
    """Opens a hand-off ticket with the conversation's language and last message."""

    def __init__(self, repository: HandoffRepository | None = None) -> None:
        self._repository = repository

    def name(self) -> str:
        return "action_handoff_to_human"

    @property
    def repository(self) -> HandoffRepository:
        if self._repository is None:
            self._repository = HandoffRepository()
        return self._repository

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "unknown"
        ticket_id = self.repository.open_ticket(
            sender_id=tracker.sender_id,
            language=tracker.get_slot("language"),
            reason=intent,
            last_message=tracker.latest_message.get("text"),
        )
        dispatcher.utter_message(response="utter_handoff", ticket_id=str(ticket_id))
        return []
