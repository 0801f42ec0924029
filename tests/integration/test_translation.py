"""End to end: the real Rasa server's TranslatingNLG records how each reply was produced.

The server is started from endpoints.yml, so its NLG loads the translation memory and the
Bergamot models at start-up. Every bot event carries `translation` and `source_language`
in its metadata, where the review console reads them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import AGENT_TOKEN
from tests.helpers.demo_domain import authored
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KB_RESPONSE = "utter_knowledge_base_answer"


def bot_events(stack, sender: str) -> list[dict]:
    return [event for event in tracker(stack, sender)["events"] if event["event"] == "bot"]


def test_german_customer_gets_the_authored_reply_and_the_path_is_recorded(bot_stack, domain):
    sender = f"tr-de-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "Ich möchte meine Bestellung bitte stornieren")
    assert replies == [authored(domain, "utter_cancel_order", "de")]
    metadata = bot_events(bot_stack, sender)[-1]["metadata"]
    assert (metadata["translation"], metadata["language"], metadata["source_language"]) == ("authored", "de", "de")


def test_portuguese_order_status_from_a_custom_action_keeps_the_order_number(bot_stack, domain):
    sender = f"tr-pt-{uuid.uuid4().hex[:8]}"
    replies = send(bot_stack, sender, "Onde está o meu pedido 10045? Ainda não chegou.")
    print(f"[pt] order 10045 -> {replies!r}")
    assert len(replies) == 1 and "10045" in replies[0]
    metadata = bot_events(bot_stack, sender)[-1]["metadata"]
    assert metadata["language"] == "pt" and metadata["translation"] == "authored"
    assert metadata["utter_action"].startswith("utter_order_")


PT_KB_QUESTION = "Onde posso consultar o saldo do meu cartão-presente?"
BALANCE_URL = "https://shop.example.com/gift-cards/balance"


def knowledge_base_reply(stack, sender: str, text: str) -> tuple:
    """(replies, metadata of the knowledge-base answer) for one customer turn."""
    replies = send(stack, sender, text)
    events = [e for e in bot_events(stack, sender) if e["metadata"].get("utter_action") == KB_RESPONSE]
    assert events, f"the knowledge base did not answer {text!r}; replies: {replies}"
    return replies, events[-1]["metadata"]


def api(stack, method: str, path: str, body=None, token: str | None = AGENT_TOKEN) -> tuple:
    """(status, JSON body) of a call to the translation memory API."""
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/translation_memory{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_portuguese_customer_reads_an_english_historical_answer_in_portuguese(bot_stack):
    replies, metadata = knowledge_base_reply(bot_stack, f"tr-kb-pt-{uuid.uuid4().hex[:8]}", PT_KB_QUESTION)
    print(f"[pt] {PT_KB_QUESTION} -> {replies!r} {metadata}")
    assert metadata["answer_id"] == "gift-003" and metadata["source_language"] == "en"
    assert metadata["translation"] in ("mt:bergamot", "memory") and metadata["language"] == "pt"
    assert BALANCE_URL in replies[-1] and "saldo" in replies[-1]


def test_an_agent_correction_through_the_api_is_what_the_next_customer_reads(bot_stack):
    _, metadata = knowledge_base_reply(bot_stack, f"tr-api-1-{uuid.uuid4().hex[:8]}", PT_KB_QUESTION)
    english = metadata["original_text"]
    corrected = f"Consulte o saldo do cartão-presente em {BALANCE_URL} com o número e o PIN do cartão."
    correction = {
        "source_text": english,
        "translation": corrected,
        "source_language": "en",
        "target_language": "pt",
        "author": "agent-7",
    }

    # Refused without the token, with a forged one, or with a translation that drops the link.
    assert api(bot_stack, "POST", "/entries", correction, token=None)[0] == 401
    assert api(bot_stack, "POST", "/entries", correction, token="forged")[0] == 401
    status, body = api(bot_stack, "POST", "/entries", {**correction, "translation": "Consulte o saldo no site."})
    assert status == 400 and BALANCE_URL in body["error"]
    status, body = api(bot_stack, "POST", "/entries", {"source_text": "", "translation": 3})
    assert status == 400 and "'source_text' must be a non-empty string" in body["error"]

    status, body = api(bot_stack, "POST", "/entries", correction)
    assert status == 201 and body["entry"]["kind"] == "human" and body["entry"]["author"] == "agent-7"
    entry_id = body["entry"]["id"]
    try:
        replies, metadata = knowledge_base_reply(bot_stack, f"tr-api-2-{uuid.uuid4().hex[:8]}", PT_KB_QUESTION)
        assert replies[-1] == corrected and metadata["translation"] == "memory"
        listed = api(bot_stack, "GET", "/entries?source=en&target=pt&kind=human")[1]["entries"]
        assert entry_id in [e["id"] for e in listed]
    finally:
        assert api(bot_stack, "DELETE", f"/entries/{entry_id}")[0] == 200
    assert api(bot_stack, "DELETE", f"/entries/{entry_id}")[0] == 404
    _, metadata = knowledge_base_reply(bot_stack, f"tr-api-3-{uuid.uuid4().hex[:8]}", PT_KB_QUESTION)
    assert metadata["translation"] != "memory"  # back to the machine translation
