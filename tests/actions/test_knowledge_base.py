"""action_answer_from_knowledge_base: what it sends for a found answer and for none."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.knowledge_base import ActionAnswerFromKnowledgeBase


def tracker_with(found) -> Tracker:
    latest = {
        "text": "¿Vendéis tarjetas regalo?",
        "intent": {"name": "knowledge_base_question"},
        "knowledge_base": found,
    }
    return Tracker("user", {}, latest, [], False, None, {}, "")


def test_sends_the_answer_with_its_id_language_and_score():
    dispatcher = CollectingDispatcher()
    found = {
        "answered": True,
        "answer_id": "gift-001",
        "score": 0.93127,
        "answer": "Yes, gift cards.",
        "answer_language": "en",
    }
    events = ActionAnswerFromKnowledgeBase().run(dispatcher, tracker_with(found), {})
    assert dispatcher.messages[0]["response"] == "utter_knowledge_base_answer"
    assert {k: dispatcher.messages[0][k] for k in ("answer", "answer_language", "answer_id", "score")} == {
        "answer": "Yes, gift cards.",
        "answer_language": "en",
        "answer_id": "gift-001",
        "score": 0.931,
    }
    assert events == [SlotSet("knowledge_base_answer_id", "gift-001")]


def test_without_a_confident_answer_it_asks_to_rephrase_or_offers_a_human():
    dispatcher = CollectingDispatcher()
    found = {"answered": False, "answer_id": "gift-001", "score": 0.5, "answer": "Yes.", "answer_language": "en"}
    assert ActionAnswerFromKnowledgeBase().run(dispatcher, tracker_with(found), {}) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_knowledge_base_no_answer"]
