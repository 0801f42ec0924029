"""End to end: the real bot answers from the knowledge base across languages, and only when it should."""

from __future__ import annotations

import uuid

import pytest

from bot.knowledge.source import load_entries
from tests.conftest import PROJECT_DIR
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_answers():
    return {e.id: e for e in load_entries(PROJECT_DIR / "knowledge_base" / "demo")}


def test_a_spanish_question_gets_the_historical_answer_in_the_spanish_version_the_shop_wrote(bot_stack, demo_answers):
    sender = f"kb-es-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "¿Cómo tengo que lavar un jersey de lana para que no se estropee?")
    state = tracker(bot_stack, sender)
    parse = state["latest_message"]
    print(
        f"replies={replies!r} intent={parse['intent']} "
        f"kb={ {k: v for k, v in parse['knowledge_base'].items() if k != 'hits'} }"
    )

    assert parse["intent"]["name"] == "knowledge_base_question"
    assert parse["knowledge_base"]["answered"] and parse["knowledge_base"]["answer_id"] == "care-001"
    assert state["slots"]["knowledge_base_answer_id"] == "care-001"
    bot_event = [e for e in state["events"] if e["event"] == "bot"][-1]
    assert bot_event["metadata"]["answer_id"] == "care-001"
    assert bot_event["metadata"]["score"] == pytest.approx(parse["knowledge_base"]["score"], abs=0.001)
    assert parse["language"] == "es" and len(replies) == 1
    # The shop wrote the answer in Spanish too: the customer reads that version as written.
    assert bot_event["metadata"]["answer_language"] == "es"
    assert replies == [demo_answers["care-001"].versions["es"]]


def test_an_intent_the_bot_handles_keeps_priority_over_the_knowledge_base(bot_stack):
    sender = f"kb-intent-{uuid.uuid4().hex[:8]}"
    send(bot_stack, sender, "Quiero devolver unas zapatillas que compré el mes pasado")
    parse = tracker(bot_stack, sender)["latest_message"]
    assert parse["intent"]["name"] == "return_request"
    assert parse["knowledge_base"]["answered"] is False


def test_a_question_no_answer_fits_is_not_answered_from_the_knowledge_base(bot_stack):
    sender = f"kb-none-{uuid.uuid4().hex[:8]}"
    send(bot_stack, sender, "¿Qué tiempo hará mañana en Madrid?")
    state = tracker(bot_stack, sender)
    # Whether the classifier calls it out_of_scope or a knowledge-base question, nothing is answered.
    assert state["latest_message"]["knowledge_base"]["answered"] is False
    assert not any(e.get("metadata", {}).get("answer_id") for e in state["events"] if e["event"] == "bot")


# Questions written for this test, each in a language none of its answer's stored questions is
# written in: the classifier, trained on the stored questions, routes them to the knowledge base
# (before, it took them for its own intents), and the answer classifier picks the answer.
CUSTOMERS = [
    ("ko", "어느 나라로 배송해 주시나요?", "ship-001"),
    ("ar", "ما المقاس المناسب لطفلة عمرها خمس سنوات؟", "size-007"),
    ("hi", "क्या आप नॉर्वे में सामान भेजते हैं?", "ship-001"),
]


@pytest.mark.parametrize("language, text, answer_id", CUSTOMERS, ids=[c[0] for c in CUSTOMERS])
def test_a_customer_gets_the_historical_answer_in_a_language_it_has_no_stored_question_in(
    bot_stack, demo_answers, language, text, answer_id
):
    sender = f"kb-{language}-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, text)
    state = tracker(bot_stack, sender)
    parse = state["latest_message"]
    print(f"[{language}] {text} -> {replies!r} {parse['intent']} {parse['knowledge_base']['classifier_intent']}")

    assert parse["language"] == language
    assert parse["intent"]["name"] == "knowledge_base_question"
    assert parse["knowledge_base"]["answered"] and parse["knowledge_base"]["answer_id"] == answer_id
    bot_event = [e for e in state["events"] if e["event"] == "bot"][-1]
    assert bot_event["metadata"]["answer_id"] == answer_id and len(replies) == 1
    version = demo_answers[answer_id].versions.get(language)
    if version:  # the company's version in the customer's language, as written
        assert replies == [version] and bot_event["metadata"]["translation"] == "authored"
    else:  # no version and no engine for the language: the answer with the notice, never another answer
        assert replies[0].startswith(demo_answers[answer_id].answer)


def test_an_order_status_question_with_an_order_number_still_runs_the_order_action(bot_stack):
    sender = f"kb-order-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "Where is my order 10045?")
    state = tracker(bot_stack, sender)
    assert state["latest_message"]["intent"]["name"] == "order_status"
    assert state["latest_message"]["knowledge_base"]["answered"] is False
    actions = [e.get("name") for e in state["events"] if e["event"] == "action"]
    assert "action_check_order_status" in actions
    assert state["slots"]["order_id"] == "10045" and "10045" in " ".join(replies)
