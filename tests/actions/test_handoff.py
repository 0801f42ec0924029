"""action_handoff_to_human opens a real ticket the support team can see."""

import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoffToHuman
from actions.services.shop_db import HandoffRepository, handoff_tickets


def test_handoff_opens_a_ticket_with_language_and_last_message(tmp_path):
    repository = HandoffRepository(f"sqlite:///{tmp_path / 'shop.db'}")
    tracker = Tracker(
        "customer-7",
        {"language": "ko"},
        {"text": "상담원 연결해 주세요", "intent": {"name": "talk_to_human"}},
        [],
        False,
        None,
        {},
        "",
    )
    dispatcher = CollectingDispatcher()
    ActionHandoffToHuman(repository).run(dispatcher, tracker, {})
    with repository.engine.connect() as connection:
        ticket = connection.execute(sa.select(handoff_tickets)).one()
    assert (ticket.sender_id, ticket.language, ticket.reason, ticket.status) == (
        "customer-7",
        "ko",
        "talk_to_human",
        "open",
    )
    assert ticket.last_message == "상담원 연결해 주세요"
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert dispatcher.messages[0]["ticket_id"] == str(ticket.ticket_id)
