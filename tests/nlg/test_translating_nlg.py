"""TranslatingNLG: authored variant in the conversation's language, else source + notice."""

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlg.translating_nlg import TranslatingNLG

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  language:
    type: text
    mappings: [{type: custom}]
responses:
  utter_order_shipped:
  - text: "Order {order_id} has shipped."
    condition: [{type: slot, name: language, value: en}]
  - text: "Bestellung {order_id} ist unterwegs."
    condition: [{type: slot, name: language, value: de}]
  utter_only_english:
  - text: "Only in English."
    condition: [{type: slot, name: language, value: en}]
  utter_translation_notice:
  - text: "(This answer is only available in English.)"
    condition: [{type: slot, name: language, value: en}]
  - text: "(이 답변은 영어로만 제공됩니다.)"
    condition: [{type: slot, name: language, value: ko}]
"""
)


def tracker_with(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", list(events), slots=DOMAIN.slots)


@pytest.fixture
def nlg() -> TranslatingNLG:
    return TranslatingNLG(EndpointConfig(type="bot.nlg.translating_nlg.TranslatingNLG"), DOMAIN)


def test_authored_variant_in_the_slot_language(nlg):
    message = asyncio.run(
        nlg.generate("utter_order_shipped", tracker_with(SlotSet("language", "de")), "rest", order_id="10045")
    )
    assert message["text"] == "Bestellung 10045 ist unterwegs."
    assert (message["language"], message["translation"]) == ("de", "authored")


def test_missing_language_falls_back_to_source_with_notice(nlg):
    message = asyncio.run(nlg.generate("utter_only_english", tracker_with(SlotSet("language", "ko")), "rest"))
    assert message["text"] == "Only in English.\n(이 답변은 영어로만 제공됩니다.)"
    assert (message["language"], message["translation"]) == ("ko", "fallback")


def test_channel_hint_is_used_before_any_turn_decides(nlg):
    tracker = tracker_with(UserUttered("10045", metadata={"language": "de-AT"}))
    message = asyncio.run(nlg.generate("utter_order_shipped", tracker, "rest", order_id="10045"))
    assert message["text"] == "Bestellung 10045 ist unterwegs."


def test_default_language_without_slot_or_hint(nlg):
    message = asyncio.run(nlg.generate("utter_order_shipped", tracker_with(), "rest", order_id="1"))
    assert message["text"] == "Order 1 has shipped."


def test_unknown_response_gives_none(nlg):
    assert asyncio.run(nlg.generate("utter_nothing", tracker_with(), "rest")) is None
