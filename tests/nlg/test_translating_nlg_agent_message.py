"""TranslatingNLG sends an agent's message (the live hand-off) through the bot replies' path:
text and language from slots named in the response's metadata, its own untranslated notice."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlg.translating_nlg import TranslatingNLG
from tests.helpers.demo_domain import load_demo_domain

AGENT_TEXT = "Your order 10045 left our warehouse today; the refund of $25.00 is on its way."


@pytest.fixture(scope="module")
def demo_domain() -> Domain:
    return load_demo_domain()


@pytest.fixture
def nlg(tmp_path, demo_domain) -> TranslatingNLG:
    config = EndpointConfig(
        type="bot.nlg.translating_nlg.TranslatingNLG",
        translation={
            "memory_url": f"sqlite:///{tmp_path / 'translation_memory.db'}",
            "backends": {"bergamot": {"type": "bergamot"}},
        },
    )
    return TranslatingNLG(config, demo_domain)


def agent_message(nlg: TranslatingNLG, domain: Domain, customer: str, agent: str, text: str) -> dict:
    events = [
        SlotSet("language", customer),
        SlotSet("handoff_agent_language", agent),
        SlotSet("handoff_agent_text", text),
    ]
    tracker = DialogueStateTracker.from_events("c1", events, slots=domain.slots)
    return asyncio.run(nlg.generate("utter_agent_message", tracker, "socketio"))


def test_english_agent_reaches_a_portuguese_customer_in_portuguese_with_the_spans_kept(nlg, demo_domain):
    message = agent_message(nlg, demo_domain, "pt", "en", AGENT_TEXT)
    print(message)
    assert "10045" in message["text"] and "25.00" in message["text"]
    assert "pedido" in message["text"].lower()
    assert (message["translation"], message["language"], message["source_language"]) == ("mt:bergamot", "pt", "en")
    assert message["original_text"] == AGENT_TEXT


def test_no_backend_for_english_to_korean_sends_the_text_with_the_agent_notice_in_korean(nlg, demo_domain):
    message = agent_message(nlg, demo_domain, "ko", "en", AGENT_TEXT)
    notice = next(
        v["text"]
        for v in demo_domain.responses["utter_agent_untranslated_notice"]
        if v["condition"][0]["value"] == "ko"
    )
    assert message["text"] == f"{AGENT_TEXT}\n{notice}"
    assert message["translation"] == "fallback"


def test_a_portuguese_agent_writing_to_a_portuguese_customer_is_sent_as_written(nlg, demo_domain):
    message = agent_message(nlg, demo_domain, "pt", "pt", "Seu pedido 10045 já saiu.")
    assert (message["text"], message["translation"]) == ("Seu pedido 10045 já saiu.", "authored")
