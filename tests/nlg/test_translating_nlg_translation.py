"""TranslatingNLG with memory and machine translation: every path a customer can get."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.nlg.translating_nlg import TranslatingNLG
from bot.translation.base import ModelFolderError

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  language:
    type: text
    mappings: [{type: custom}]
responses:
  utter_knowledge_base_answer:
  - text: "{answer}"
  utter_cancel_order:
  - text: "You can cancel an order until it ships."
    condition: [{type: slot, name: language, value: en}]
  - text: "Sie können eine Bestellung stornieren, bis sie versandt wird."
    condition: [{type: slot, name: language, value: de}]
  utter_only_english:
  - text: "Order {order_id} is on its way."
    buttons:
    - title: "Track my order"
      payload: "/track"
    condition: [{type: slot, name: language, value: en}]
  utter_translation_notice:
  - text: "(This answer is only available in English.)"
    condition: [{type: slot, name: language, value: en}]
  - text: "(Esta resposta só está disponível em inglês.)"
    condition: [{type: slot, name: language, value: pt}]
  - text: "(이 답변은 영어로만 제공됩니다.)"
    condition: [{type: slot, name: language, value: ko}]
"""
)
ANSWER = "Your order 10045 has shipped. You can track it at https://shop.example.com/track/10045."


def tracker_in(language: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", [SlotSet("language", language)], slots=DOMAIN.slots)


@pytest.fixture
def nlg(tmp_path) -> TranslatingNLG:
    config = EndpointConfig(
        type="bot.nlg.translating_nlg.TranslatingNLG",
        translation={
            "memory_url": f"sqlite:///{tmp_path / 'var' / 'translation_memory.db'}",
            "glossary_terms": ["Cobalt Shop"],
            "backends": {"bergamot": {"type": "bergamot"}},
        },
    )
    return TranslatingNLG(config, DOMAIN)


def generate(nlg: TranslatingNLG, action: str, language: str, **kwargs) -> dict:
    return asyncio.run(nlg.generate(action, tracker_in(language), "rest", **kwargs))


def kb_answer(nlg: TranslatingNLG, language: str, **kwargs) -> dict:
    arguments = {"answer": ANSWER, "answer_language": "en", "answer_id": "kb-17", "score": 0.83, **kwargs}
    return generate(nlg, "utter_knowledge_base_answer", language, **arguments)


def test_portuguese_customer_reads_the_english_answer_in_portuguese_with_its_order_number(nlg):
    message = kb_answer(nlg, "pt")
    print(message)
    assert message["text"].count("10045") == 2 and "https://shop.example.com/track/10045" in message["text"]
    assert "pedido" in message["text"].lower()
    assert message["translation"] == "mt:bergamot"
    assert (message["language"], message["source_language"]) == ("pt", "en")
    assert (message["answer_id"], message["score"]) == ("kb-17", 0.83)
    assert message["original_text"] == ANSWER


def test_the_same_answer_again_comes_from_the_cache(nlg):
    first = kb_answer(nlg, "pt")
    again = kb_answer(nlg, "pt")
    assert again["text"] == first["text"]
    assert (again["translation"], again["translation_cached"]) == ("mt:bergamot", True)


def test_an_agent_correction_is_what_the_customer_gets_next_time(nlg):
    kb_answer(nlg, "pt")
    nlg.pipeline.memory.add_translation(
        ANSWER,
        "O pedido 10045 já foi enviado. Acompanhe em https://shop.example.com/track/10045.",
        "en",
        "pt",
        author="agent-7",
    )
    message = kb_answer(nlg, "pt")
    assert message["translation"] == "memory"
    assert message["text"] == "O pedido 10045 já foi enviado. Acompanhe em https://shop.example.com/track/10045."


def test_german_customer_gets_the_authored_german_response(nlg):
    message = generate(nlg, "utter_cancel_order", "de")
    assert message["text"] == "Sie können eine Bestellung stornieren, bis sie versandt wird."
    assert (message["translation"], message["source_language"]) == ("authored", "de")


def test_korean_customer_gets_the_english_answer_with_the_korean_notice(nlg):
    message = kb_answer(nlg, "ko")
    assert message["text"] == f"{ANSWER}\n(이 답변은 영어로만 제공됩니다.)"
    assert (message["translation"], message["language"], message["source_language"]) == ("fallback", "ko", "en")


def test_answer_already_in_the_customers_language_is_sent_as_written(nlg):
    message = kb_answer(nlg, "pt", answer="O pedido 10045 foi enviado.", answer_language="pt")
    assert (message["text"], message["translation"]) == ("O pedido 10045 foi enviado.", "authored")


def test_portuguese_answer_reaches_an_english_customer_in_english(nlg):
    message = kb_answer(nlg, "en", answer="O seu pedido 10045 foi enviado hoje.", answer_language="pt")
    assert message["translation"] == "mt:bergamot" and "10045" in message["text"]
    assert "order" in message["text"].lower()


def test_english_only_response_is_translated_with_its_slot_value_and_buttons(nlg):
    message = generate(nlg, "utter_only_english", "pt", order_id="20077")
    assert message["translation"] == "mt:bergamot" and "20077" in message["text"]
    assert message["buttons"][0]["payload"] == "/track"
    assert message["buttons"][0]["title"] != "Track my order"


def test_a_broken_model_folder_stops_the_nlg_at_creation_naming_the_folder(tmp_path):
    config = EndpointConfig(
        type="bot.nlg.translating_nlg.TranslatingNLG",
        translation={
            "memory_url": None,
            "backends": {"de": {"type": "bergamot", "models": {"de-en": str(tmp_path / "deen")}}},
        },
    )
    with pytest.raises(ModelFolderError, match=str(tmp_path / "deen")):
        TranslatingNLG(config, DOMAIN)


def test_rasa_agent_creation_fails_on_a_missing_model_folder(tmp_path):
    """What `rasa run` does at start-up: the agent builds the NLG before any conversation."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    nlg = EndpointConfig(
        type="bot.nlg.translating_nlg.TranslatingNLG",
        translation={
            "memory_url": None,
            "backends": {"hf": {"type": "huggingface", "model_path": str(tmp_path / "nllb"), "pairs": ["en-ko"]}},
        },
    )
    with pytest.raises(ModelFolderError, match=f"'{tmp_path / 'nllb'}' does not exist"):
        asyncio.run(load_agent(endpoints=AvailableEndpoints(nlg=nlg)))
