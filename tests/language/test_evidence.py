"""What carries language in a chat turn: words without codes, emoji or links, and scripts."""

import pytest

from bot.language.evidence import dominant_script, linguistic_words, marker_languages, strip_non_linguistic


@pytest.mark.parametrize(
    "text, words",
    [
        ("Order #A-10045 (see https://shop.example.com) ok?", ["Order", "see", "ok"]),
        ("ORD-2024-77 ist weg", ["ist", "weg"]),
        ("mail me: anna.b@example.com @support 👍👍", ["mail", "me"]),
        ("c'est où, l’adresse ?", ["c'est", "où", "l'adresse"]),
        ("注文番号10045の配送状況", ["注文番号", "の配送状況"]),
        ("$49.99 12/03/2026 ...", []),
    ],
)
def test_linguistic_words(text, words):
    assert linguistic_words(text) == words


def test_strip_keeps_letters_and_combining_marks():
    assert strip_non_linguistic("ऑर्डर #10045 👍 @anna") == "ऑर्डर"


@pytest.mark.parametrize(
    "letters, script",
    [
        ("Bestellung", "latin"),
        ("주문", "hangul"),
        ("注文した", "kana"),
        ("订单", "han"),
        ("заказ", "cyrillic"),
        ("طلب", "arabic"),
        ("ऑर्डर", "devanagari"),
        ("προϊόν", "greek"),
        ("สินค้า", "thai"),
    ],
)
def test_dominant_script(letters, script):
    assert dominant_script(letters).script == script


@pytest.mark.parametrize(
    "letters, script",
    [
        ("제 iPhone Pro Max 주문이 안 왔어요", "hangul"),
        ("Share to Twitter Facebook Pinterest एक बार अवंतिपुर में साधु आए", "devanagari"),
        ("Order 注文", "han"),
        ("How do I write 감사합니다 in the gift message field", "latin"),
    ],
)
def test_latin_brand_names_do_not_outweigh_the_customers_own_script(letters, script):
    assert dominant_script(letters).script == script


def test_marker_letters_prove_languages_russian_and_arabic_never_use():
    assert marker_languages("своє замовлення") == ["uk"]
    assert marker_languages("پرداخت") == ["fa"]
    # Arabic typed on a Persian keyboard ("ی", "ک") proves nothing.
    assert marker_languages("التکنولوجیا") == []
    assert marker_languages("мой заказ") == []
    assert marker_languages("मला माझी ऑर्डर मिळाली नाही") == ["mr"]
    assert marker_languages("मुझे मेरा ऑर्डर नहीं मिला") == []
