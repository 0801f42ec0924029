"""The hand-off actions open a real ticket, tell the customer and pause the bot."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallbackOrHandoff, ActionHandoffToHuman
from bot.handoff import queue
from bot.handoff.settings import HandoffSettings, SupportHours


def korean_tracker(events: list | None = None, intent: str = "talk_to_human") -> Tracker:
    return Tracker(
        "customer-7",
        {"language": "ko"},
        {"text": "상담원 연결해 주세요", "intent": {"name": intent}},
        events or [{"event": "user", "input_channel": "socketio", "parse_data": {"intent": {"name": intent}}}],
        False,
        None,
        {},
        "",
    )


@pytest.fixture
def settings(tmp_path) -> HandoffSettings:
    return HandoffSettings(db_url=f"sqlite:///{tmp_path / 'handoff.db'}", wait_minutes=7)


def test_handoff_opens_a_ticket_tells_the_wait_and_pauses_the_bot(settings):
    dispatcher = CollectingDispatcher()
    events = ActionHandoffToHuman(settings).run(dispatcher, korean_tracker(), {})
    [ticket] = queue.open_tickets(queue.queue_engine(settings.db_url))
    assert (ticket.sender_id, ticket.language, ticket.reason, ticket.channel, ticket.status) == (
        "customer-7",
        "ko",
        "talk_to_human",
        "socketio",
        "waiting",
    )
    assert ticket.last_message == "상담원 연결해 주세요"
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff", "utter_handoff_wait_time"]
    assert dispatcher.messages[0]["ticket_id"] == str(ticket.ticket_id)
    assert dispatcher.messages[1]["handoff_wait_minutes"] == "7"
    assert events[-1]["event"] == "pause"


def test_outside_support_hours_the_customer_gets_the_contact_and_the_bot_carries_on(settings):
    closed = HandoffSettings(db_url=settings.db_url, support_hours=SupportHours.parse("mon-sun 00:00-00:00"))
    dispatcher = CollectingDispatcher()
    events = ActionHandoffToHuman(closed).run(dispatcher, korean_tracker(), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_unavailable"]
    assert all(e["event"] != "pause" for e in events)
    assert queue.open_tickets(queue.queue_engine(settings.db_url)) == []


def test_the_second_misunderstanding_in_a_row_hands_off(settings):
    fallback = {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    understood = {"event": "user", "parse_data": {"intent": {"name": "greet"}}}
    once = CollectingDispatcher()
    ActionFallbackOrHandoff(settings).run(once, korean_tracker([understood, fallback], "nlu_fallback"), {})
    assert [m["response"] for m in once.messages] == ["utter_default"]
    twice = CollectingDispatcher()
    events = ActionFallbackOrHandoff(settings).run(twice, korean_tracker([fallback, fallback], "nlu_fallback"), {})
    assert [m["response"] for m in twice.messages] == ["utter_handoff", "utter_handoff_wait_time"]
    assert events[-1]["event"] == "pause"
    assert queue.open_tickets(queue.queue_engine(settings.db_url))[0].reason == "repeated_fallback"
