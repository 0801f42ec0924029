"""LanguageIdentifier: scripts decide, chat words count, numbers and emoji carry no language,
hints break ties only, and languages the bot does not speak are recognised."""

import pytest

from bot.language.identifier import (
    METHOD_HINT,
    METHOD_LEXICON,
    METHOD_NO_EVIDENCE,
    METHOD_SCRIPT,
    METHOD_UNSUPPORTED,
    IdentifierSettings,
    LanguageIdentifier,
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
    guess = identifier.identify(text)
    assert (guess.language, guess.supported) == (expected, True)


@pytest.mark.parametrize(
    "text",
    [
        "10045",
        "👍",
        "?",
        "#10045 !!",
        "https://shop.example.com/a?b=1",
        "anna@example.com",
        "ok",
        "OK 👍",
        "lol",
        "@support",
    ],
)
def test_turns_without_language_are_undecided(identifier, text):
    guess = identifier.identify(text)
    assert (guess.language, guess.method, guess.supported) == (None, METHOD_NO_EVIDENCE, True)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("danke", "de"),
        ("sí", "es"),
        ("obrigado", "pt"),
        ("merci", "fr"),
        ("grazie", "it"),
        ("thanks", "en"),
        ("ok danke", "de"),
        ("vielen Dank!", "de"),
        ("muchas gracias", "es"),
        ("grazie mille", "it"),
    ],
)
def test_short_chat_words_decide_by_the_lexicon(identifier, text, expected):
    guess = identifier.identify(text)
    assert (guess.language, guess.method) == (expected, METHOD_LEXICON)


@pytest.mark.parametrize(
    "text, expected",
    [("refund", "en"), ("rabatt", "de"), ("reso", "it"), ("gastos", "es"), ("carte", "fr"), ("conto", "it")],
)
def test_how_often_a_language_uses_a_word_settles_single_words(identifier, text, expected):
    # lingua alone, on letters only, ranks another language first for each of these.
    assert identifier.identify(text).best_candidate == expected


@pytest.mark.parametrize(
    "text, expected", [("j'attends", "fr"), ("l'impact", "fr"), ("qu'il", "fr"), ("un'altra", "it"), ("l'ordine", "it")]
)
def test_an_elided_article_points_to_french_or_italian(identifier, text, expected):
    # Before elisions were split for the frequency lists, "j'attends" and "l'impact" ranked English first.
    assert identifier.identify(text).best_candidate == expected


@pytest.mark.parametrize("text, expected", [("surface", "en"), ("director", "en"), ("sistema", "es")])
def test_a_single_word_leans_more_on_how_often_each_language_uses_it(identifier, text, expected):
    assert identifier.identify(text).best_candidate == expected
    even = LanguageIdentifier(LANGUAGES, IdentifierSettings(single_word_frequency_weight=1.0))
    assert even.identify(text).best_candidate != expected  # the letters alone lean elsewhere


def test_without_word_frequencies_letters_alone_decide():
    identifier = LanguageIdentifier(LANGUAGES, IdentifierSettings(detectors=("lexicon", "script", "lingua")))
    assert identifier.identify("refund").best_candidate != "en"


@pytest.mark.parametrize("text", ["no", "si", "Order 10046", "Refund"])
def test_words_several_languages_share_stay_undecided(identifier, text):
    assert not identifier.identify(text).decided


def test_a_shared_word_is_settled_by_the_channel_hint(identifier):
    guess = identifier.identify("si", hint="it")
    assert (guess.language, guess.method) == ("it", METHOD_HINT)


def test_hint_never_overrides_clear_evidence(identifier):
    assert identifier.identify("Ich möchte meine Bestellung stornieren", hint="pt").language == "de"
    assert identifier.identify("주문 취소", hint="ja").language == "ko"


def test_script_decides_without_a_model(identifier):
    guess = identifier.identify("주문 취소")
    assert (guess.language, guess.method, guess.confidence) == ("ko", METHOD_SCRIPT, 1.0)


def test_order_numbers_and_links_do_not_change_the_language(identifier):
    assert (
        identifier.identify("Bestellung 10045 ist nicht angekommen: https://shop.example.com/o/10045").language == "de"
    )
    assert identifier.identify("注文番号10045の配送状況を教えてください").language == "ja"


@pytest.mark.parametrize(
    "text, detected",
    [
        ("Habari, nataka kurudisha bidhaa niliyonunua wiki iliyopita", "sw"),
        ("Chcę anulować moje zamówienie, proszę", "pl"),
        ("Merhaba, siparişim hâlâ gelmedi, yardımcı olur musunuz?", "tr"),
        ("Tôi muốn hủy đơn hàng của tôi, xin cảm ơn", "vi"),
        ("سلام، من می خواهم سفارشم را لغو کنم", "fa"),
        ("Я хочу скасувати своє замовлення, будь ласка", "uk"),
        ("Θέλω να επιστρέψω ένα προϊόν", "el"),
        ("ฉันต้องการคืนสินค้า", "th"),
    ],
)
def test_clearly_unsupported_languages_are_recognised(identifier, text, detected):
    guess = identifier.identify(text)
    assert (guess.language, guess.supported, guess.method, guess.detected) == (
        None,
        False,
        METHOD_UNSUPPORTED,
        detected,
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("르노삼성 부산공장은 사원대표위원회(ERO·Employee Representative Organization)가 노조 역할을 대신한다.", "ko"),
        ("Share to Twitter Share to Facebook Share to Pinterest एक बार अवंतिपुर में साधु आए।", "hi"),
        ("बहुत संवेदनशील आलेख।", "hi"),
    ],
)
def test_mixed_scripts_and_short_hindi_stay_in_the_customers_language(identifier, text, expected):
    guess = identifier.identify(text)
    assert (guess.language, guess.supported) == (expected, True)


def test_marathi_is_recognised_by_its_own_letter(identifier):
    guess = identifier.identify("मला माझी ऑर्डर अजून मिळाली नाही")
    assert (guess.supported, guess.detected) == (False, "mr")


@pytest.mark.parametrize("text", ["dzień dobry", "merhaba", "Nee, danke"])
def test_a_word_or_two_is_never_called_unsupported(identifier, text):
    assert identifier.identify(text).supported


def test_typo_ridden_english_of_mostly_everyday_words_is_not_called_unsupported(identifier):
    # A Bitext request: lingua over all languages says Tsonga and langdetect Swedish, but 3 of
    # its 5 words are everyday English.
    assert identifier.identify("acn i order from Hungary").supported


def test_restricted_to_supported_languages():
    identifier = LanguageIdentifier(["en", "de"], IdentifierSettings(detect_unsupported=False))
    assert identifier.identify("Quiero cancelar mi pedido, por favor").language in {"en", "de", None}


def test_spanish_is_unsupported_for_a_bot_without_it():
    guess = LanguageIdentifier(["en", "de"]).identify("Quiero cancelar mi pedido, por favor, no llegó nunca")
    assert (guess.supported, guess.detected) == (False, "es")


def test_without_the_lexicon_the_model_judges_chat_words():
    identifier = LanguageIdentifier(LANGUAGES, IdentifierSettings(detectors=("script", "lingua")))
    assert identifier.identify("danke").method != METHOD_LEXICON
