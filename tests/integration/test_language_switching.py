"""End to end: the reply language follows the customer turn by turn on a real Rasa server,
and a turn in a language the bot does not speak gets the list of languages it does."""

from __future__ import annotations

import uuid

import pytest

from bot.language.codes import DEMO_LANGUAGES, native_name
from tests.helpers.demo_domain import authored
from tests.helpers.rasa_server import send, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPOKEN = ", ".join(native_name(code) for code in DEMO_LANGUAGES)


def turn(stack, sender: str, text: str, metadata=None):
    """Sends one turn; returns the replies, the parse data and the language slot after it."""
    replies = send(stack, sender, text, metadata)
    state = tracker(stack, sender)
    return replies, state["latest_message"], state["slots"]["language"]


def test_german_to_korean_and_back_every_reply_follows(bot_stack, domain):
    sender = f"it-switch-{uuid.uuid4().hex[:8]}"
    replies, parse, slot = turn(bot_stack, sender, "Ich möchte meine Bestellung bitte stornieren")
    assert (replies, slot) == ([authored(domain, "utter_cancel_order", "de")], "de")

    replies, parse, slot = turn(bot_stack, sender, "카드 결제가 자꾸 실패해요")
    assert (replies, slot, parse["language_method"]) == (
        [authored(domain, "utter_payment_problem", "ko")],
        "ko",
        "script",
    )

    # An order number alone carries no language: the conversation stays Korean.
    replies, parse, slot = turn(bot_stack, sender, "10047")
    # (Rasa leaves a None-valued property out of the parse data.)
    assert parse.get("language") is None and parse["language_method"] == "no_evidence"
    assert (replies, slot) == ([authored(domain, "utter_order_processing", "ko", order_id="10047")], "ko")

    replies, parse, slot = turn(bot_stack, sender, "Wo ist meine Bestellung? Sie ist noch nicht da.")
    assert (replies, slot) == ([authored(domain, "utter_ask_order_number", "de")], "de")
    user_languages = [
        e["parse_data"].get("language") for e in tracker(bot_stack, sender)["events"] if e["event"] == "user"
    ]
    assert user_languages == ["de", "ko", None, "de"]


def test_unsupported_language_gets_the_spoken_languages_then_the_conversation_continues(bot_stack, domain):
    sender = f"it-unsupported-{uuid.uuid4().hex[:8]}"
    replies, _, slot = turn(bot_stack, sender, "Ich möchte meine Bestellung bitte stornieren")
    assert slot == "de"

    replies, parse, slot = turn(
        bot_stack, sender, "Przepraszam, czy mogę pisać po polsku? Moje zamówienie nie dotarło."
    )
    print(f"[pl] -> {replies!r} {parse['intent']} {parse['language_method']} {parse['language_detected']}")
    assert parse["intent"]["name"] == "unsupported_language"
    assert (parse["language_supported"], parse["language_detected"], parse["language_method"]) == (
        False,
        "pl",
        "unsupported",
    )
    assert slot == "de"
    assert replies == [authored(domain, "utter_unsupported_language", "de", languages=SPOKEN)]

    replies, _, slot = turn(bot_stack, sender, "Wo ist meine Bestellung? Sie ist noch nicht da.")
    assert (replies, slot) == ([authored(domain, "utter_ask_order_number", "de")], "de")


def test_unsupported_first_turn_is_answered_in_the_channel_language(bot_stack, domain):
    sender = f"it-unsupported-hint-{uuid.uuid4().hex[:8]}"
    replies, parse, slot = turn(
        bot_stack, sender, "Habari, nataka kurudisha bidhaa niliyonunua wiki iliyopita", {"language": "es"}
    )
    assert (parse["intent"]["name"], parse["language_detected"], slot) == ("unsupported_language", "sw", None)
    assert replies == [authored(domain, "utter_unsupported_language", "es", languages=SPOKEN)]

    replies, _, slot = turn(bot_stack, sender, "Quiero devolver unas zapatillas que compré el mes pasado")
    assert (replies, slot) == ([authored(domain, "utter_return_request", "es")], "es")


def test_channel_hint_starts_the_conversation_but_clear_evidence_wins(bot_stack, domain):
    sender = f"it-hint-{uuid.uuid4().hex[:8]}"
    replies, parse, slot = turn(bot_stack, sender, "Ich möchte meine Bestellung bitte stornieren", {"language": "ja"})
    assert (replies, slot) == ([authored(domain, "utter_cancel_order", "de")], "de")
