"""action_check_order_status against a real SQLite orders table."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionCheckOrderStatus, find_order_number
from actions.services.demo_orders import seed_demo_orders
from actions.services.shop_db import OrderRepository


@pytest.fixture
def action(tmp_path) -> ActionCheckOrderStatus:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_demo_orders(url)
    return ActionCheckOrderStatus(OrderRepository(url))


def run(action, text):
    tracker = Tracker("customer-1", {}, {"text": text, "intent": {"name": "order_status"}}, [], False, None, {}, "")
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "text, number", [("where is #10045?", "10045"), ("注文10045はどこ", "10045"), ("no number", None), ("123456", None)]
)
def test_find_order_number(text, number):
    assert find_order_number(text) == number


def test_shipped_order_reports_its_status_and_date(action):
    messages, events = run(action, "Where is order 10045?")
    assert messages[0]["response"] == "utter_order_shipped"
    assert messages[0]["order_id"] == "10045"
    assert messages[0]["delivery_date"] == "2026-12-03"
    assert events == [SlotSet("order_id", "10045")]


def test_unknown_order_says_so(action):
    messages, _ = run(action, "10999")
    assert messages[0]["response"] == "utter_order_not_found"


def test_missing_number_asks_for_it(action):
    messages, events = run(action, "where is my parcel")
    assert [m["response"] for m in messages] == ["utter_ask_order_number"]
    assert events == []


def test_seeding_twice_adds_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert seed_demo_orders(url) > 0
    assert seed_demo_orders(url) == 0
