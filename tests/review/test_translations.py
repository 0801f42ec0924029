"""Customer text in the agent's language, and translation corrections that reach the next customer,
with the real Bergamot en<->pt models and a real translation memory."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.translation.pipeline import TranslationPipeline
from tests.helpers.sample_conversations import SCRIPT_TEXT
from tests.review.conftest import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    ORDER_REPLY_EN,
    PT_AGENT_EMAIL,
    form_csrf_token,
    log_in,
)

pytestmark = pytest.mark.slow  # loads the Bergamot models


def turns(client: TestClient, sender_id: str) -> list[dict]:
    response = client.get(f"/api/conversations/{sender_id}")
    assert response.status_code == 200, response.text
    return response.json()["turns"]


def bot_turn(client: TestClient, sender_id: str, source_text: str) -> dict:
    return next(t for t in turns(client, sender_id) if t["kind"] == "bot" and t["source_text"] == source_text)


@pytest.fixture
def agent(translating_client: TestClient) -> TestClient:
    assert log_in(translating_client, AGENT_EMAIL, AGENT_PASSWORD).status_code == 303
    return translating_client


@pytest.fixture
def pt_agent(translating_client: TestClient) -> TestClient:
    assert log_in(translating_client, PT_AGENT_EMAIL, AGENT_PASSWORD).status_code == 303
    return translating_client


def test_an_english_agent_reads_a_portuguese_customer_in_english(agent: TestClient):
    first = turns(agent, "mt-pt")[0]
    assert first["text"] == "Onde está a minha encomenda?"
    translated = first["agent_translation"]
    assert translated["route"] == "mt:bergamot" and translated["target_language"] == "en"
    assert "order" in translated["text"].lower()
    page = agent.get("/conversations/mt-pt").text
    assert translated["text"] in page and "pt→en by mt:bergamot" in page


def test_a_pair_without_a_backend_says_so(agent: TestClient):
    assert turns(agent, "handoff-es")[0]["agent_translation"]["note"] == "no translation backend for es->en"
    assert "no translation backend for ko-&gt;en" in agent.get("/conversations/dash-ko").text
    assert turns(agent, "unsupported-nl")[0]["agent_translation"]["note"] == "no translation backend for nl->en"


def test_an_agent_who_reads_the_customers_language_gets_no_translation(agent: TestClient):
    assert turns(agent, "kb-en")[0]["agent_translation"] is None
    assert 'class="translated' not in agent.get("/conversations/kb-en").text


def test_opening_a_conversation_twice_costs_no_engine_call(agent: TestClient, console_translations):
    agent.get("/conversations/dash-pt-order")
    misses = console_translations.cache_info().misses
    agent.get("/conversations/dash-pt-order")
    agent.get("/api/conversations/dash-pt-order")
    assert console_translations.cache_info().misses == misses


def test_a_translated_customer_script_is_still_shown_as_text(pt_agent: TestClient):
    first = turns(pt_agent, "script-en")[0]
    assert first["text"] == SCRIPT_TEXT and "<script>alert('pwned')</script>" in first["agent_translation"]["text"]
    page = pt_agent.get("/conversations/script-en").text
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;") == 2  # the text and its translation


def test_a_corrected_translation_is_what_the_next_customer_gets(agent: TestClient, console_translations):
    reply = bot_turn(agent, "dash-pt-order", ORDER_REPLY_EN)
    assert reply["correctable"] and reply["corrected"] is None
    corrected = "Seu pedido 10045 já foi enviado."
    token = form_csrf_token(agent, "/")
    response = agent.post(
        "/api/translations",
        json={"sender_id": "dash-pt-order", "event_id": reply["event_id"], "text": corrected},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201, response.text
    entry = response.json()["entry"]
    assert (entry["kind"], entry["origin"], entry["author"]) == ("human", "agent", AGENT_EMAIL)
    try:
        # The bot's own pipeline on the same memory: the next customer, with another order number.
        pipeline = TranslationPipeline.from_settings(console_translations.settings)
        for_next = pipeline.translate("Order 20077 has shipped.", "en", "pt")
        assert (for_next.text, for_next.path) == ("Seu pedido 20077 já foi enviado.", "memory")
        assert bot_turn(agent, "dash-pt-order", ORDER_REPLY_EN)["corrected"]["text"] == corrected
        assert f"corrected translation by {AGENT_EMAIL}" in agent.get("/conversations/dash-pt-order").text
    finally:
        console_translations.withdraw(entry["id"])


def test_the_conversation_form_corrects_a_translation(agent: TestClient, console_translations):
    reply = bot_turn(agent, "handoff-es", "Passing you to a person.")
    token = form_csrf_token(agent, "/conversations/handoff-es")
    form = {"csrf_token": token, "event_id": str(reply["event_id"]), "text": "Le paso con un agente."}
    response = agent.post("/conversations/handoff-es/translations", data=form)
    assert response.status_code == 303 and response.headers["location"].endswith(f"#event-{reply['event_id']}")
    corrected = bot_turn(agent, "handoff-es", "Passing you to a person.")["corrected"]
    try:
        assert corrected["text"] == "Le paso con un agente."
    finally:
        console_translations.withdraw(corrected["entry_id"])


@pytest.mark.parametrize(
    "text,message",
    [
        ("O pedido foi enviado.", "10045"),
        ("   ", "Write the corrected translation"),
        ("x" * 5001, "at most 5000 characters"),
    ],
    ids=["drops-the-order-number", "empty", "too-long"],
)
def test_a_bad_correction_is_refused_and_changes_nothing(agent: TestClient, text: str, message: str):
    reply = bot_turn(agent, "dash-pt-order", ORDER_REPLY_EN)
    token = form_csrf_token(agent, "/")
    body = {"sender_id": "dash-pt-order", "event_id": reply["event_id"], "text": text}
    response = agent.post("/api/translations", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.json()["error"]
    assert bot_turn(agent, "dash-pt-order", ORDER_REPLY_EN)["corrected"] is None


def test_only_translated_replies_of_the_conversation_can_be_corrected(agent: TestClient):
    token = form_csrf_token(agent, "/")
    authored = bot_turn(agent, "kb-en", "You have 30 days to return them.")
    assert authored["correctable"] is False
    cases = [
        ({"sender_id": "kb-en", "event_id": authored["event_id"], "text": "Tem 30 dias."}, "route authored"),
        ({"sender_id": "mt-pt", "event_id": authored["event_id"], "text": "Tem 30 dias."}, "not a bot reply of"),
        ({"sender_id": "kb-en", "event_id": "first", "text": "Tem 30 dias."}, "must be the id of a bot reply"),
        ({"sender_id": "kb-en", "event_id": authored["event_id"], "text": 7}, "'text' must be"),
    ]
    for body, message in cases:
        response = agent.post("/api/translations", json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == 400 and message in response.json()["error"], (body, response.text)
    assert agent.post("/api/translations", content=b"[1]", headers={"X-CSRF-Token": token}).status_code == 400
