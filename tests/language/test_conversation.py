"""The conversation's language: decided turns set it, undecided keep it, hints start it."""

import pytest

from bench.langid_conversations import DATA_FILE, load_conversations, replay
from bot.language.conversation import ConversationLanguage
from bot.language.identifier import LanguageIdentifier
from tests.conftest import LANGUAGES


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(LANGUAGES)


def test_short_turns_keep_the_language_and_clear_turns_switch_it(identifier):
    conversation = ConversationLanguage("en")
    replies = [
        conversation.update(identifier.identify(text))
        for text in [
            "Ich möchte meine Bestellung stornieren",
            "ok",
            "10045",
            "👍",
            "주문을 취소하고 싶어요",
            "네",
            "danke",
        ]
    ]
    assert replies == ["de", "de", "de", "de", "ko", "ko", "de"]


def test_hint_sets_the_start_but_evidence_wins(identifier):
    conversation = ConversationLanguage("en", hint="ja")
    assert conversation.update(identifier.identify("10045")) == "ja"
    assert conversation.update(identifier.identify("배송은 얼마나 걸려요?")) == "ko"
    assert conversation.update(identifier.identify("ok"), hint="fr") == "ko"


def test_unsupported_turn_keeps_the_conversation_language(identifier):
    conversation = ConversationLanguage("en")
    conversation.update(identifier.identify("Hallo, ich habe ein Problem mit meiner Bestellung"))
    guess = identifier.identify("Przepraszam, czy mogę pisać po polsku? Moje zamówienie nie dotarło.")
    assert not guess.supported
    assert conversation.update(guess) == "de"


def test_scripted_conversations_benchmark_is_at_least_99_percent_right(identifier):
    result = replay(load_conversations(DATA_FILE), identifier)
    assert result["turns"] >= 300
    assert result["accuracy"] >= 99.0, result["errors"]
    assert result["unsupported_recognised"] == result["unsupported_turns"]
