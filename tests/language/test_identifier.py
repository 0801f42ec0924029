"""LanguageIdentifier: scripts decide, numbers and emoji carry no language, hints break ties."""

import pytest

from bot.language.identifier import (
    METHOD_HINT,
    METHOD_NO_EVIDENCE,
    METHOD_SCRIPT,
    LanguageIdentifier,
    strip_non_linguistic,
)
from tests.conftest import LANGUAGES


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(LANGUAGES)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Where is my order? I ordered last week.", "en"),
        ("¿Dónde está mi pedido? Lo compré la semana pasada.", "es"),
        ("Onde está o meu pedido? Comprei na semana passada.", "pt"),
        ("Où est ma commande ? Je l'ai achetée la semaine dernière.", "fr"),
        ("Wo ist meine Bestellung? Ich habe letzte Woche bestellt.", "de"),
        ("Dov'è il mio ordine? L'ho comprato la settimana scorsa.", "it"),
        ("Где мой заказ? Я заказал его на прошлой неделе.", "ru"),
        ("我的订单在哪里？我上周买的。", "zh"),
        ("注文した商品はどこですか？先週買いました。", "ja"),
        ("제 주문은 어디에 있나요? 지난주에 샀어요.", "ko"),
        ("أين طلبي؟ اشتريته الأسبوع الماضي.", "ar"),
        ("मेरा ऑर्डर कहाँ है? मैंने पिछले हफ्ते खरीदा था।", "hi"),
    ],
)
def test_sentences_in_every_demo_language(identifier, text, expected):
    assert identifier.identify(text).language == expected


@pytest.mark.parametrize("text", ["10045", "👍", "?", "#10045 !!", "https://shop.example.com/a?b=1", "anna@example.com"])
def test_turns_without_language_are_undecided(identifier, text):
    guess = identifier.identify(text)
    assert guess.language is None
    assert guess.method == METHOD_NO_EVIDENCE


def test_script_decides_without_a_model(identifier):
    guess = identifier.identify("주문 취소")
    assert (guess.language, guess.method, guess.confidence) == ("ko", METHOD_SCRIPT, 1.0)


def test_order_numbers_and_links_do_not_change_the_language(identifier):
    assert identifier.identify("Bestellung 10045 ist nicht angekommen: https://shop.example.com/o/10045").language == "de"


def test_hint_breaks_a_near_tie_but_not_clear_evidence(identifier):
    assert identifier.identify("hola", hint="pt").method == METHOD_HINT
    assert identifier.identify("hola", hint="pt").language == "pt"
    assert identifier.identify("Ich möchte meine Bestellung stornieren", hint="pt").language == "de"


def test_restricted_to_supported_languages():
    identifier = LanguageIdentifier(["en", "de"])
    assert identifier.identify("Quiero cancelar mi pedido, por favor").language in {"en", "de", None}


def test_strip_keeps_letters_and_combining_marks():
    assert strip_non_linguistic("ऑर्डर #10045 👍 @anna") == "ऑर्डर"
