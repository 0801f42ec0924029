"""Action: tells the customer the status of their order, looked up in the shop database."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services.demo_orders import demo_order_repository
from actions.services.shop_db import OrderRepository

# Demo order numbers are five digits; "#10045", "Nr. 10045" and "注文10045" all match.
ORDER_NUMBER = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def find_order_number(text: str | None) -> str | None:
    """The first order number written in the text, if any."""
    match = ORDER_NUMBER.search(text or "")
    return match.group(1) if match else None


class ActionCheckOrderStatus(Action):
    """Answers "where is my order?": asks for the number if the customer gave none."""

    def __init__(self, repository: OrderRepository | None = None) -> None:
        self._repository = repository

    def name(self) -> str:
        return "action_check_order_status"

    @property
    def repository(self) -> OrderRepository:
        if self._repository is None:
            self._repository = demo_order_repository()
        return self._repository

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        order_id = find_order_number(tracker.latest_message.get("text"))
        if order_id is None:
            dispatcher.utter_message(response="utter_ask_order_number")
            return []
        order = self.repository.get(order_id)
        if order is None:
            dispatcher.utter_message(response="utter_order_not_found", order_id=order_id)
        else:
            delivery_date = order.delivery_date.isoformat() if order.delivery_date else ""
            dispatcher.utter_message(
                response=f"utter_order_{order.status}", order_id=order_id, delivery_date=delivery_date
            )
        return [SlotSet("order_id", order_id)]
