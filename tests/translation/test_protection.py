"""Protected spans come back exactly; layout survives line-by-line translation."""

import pytest

from bot.translation.layout import join_lines, split_lines
from bot.translation.protection import MEMORY_PATTERN, SpanProtector, SpansLostError

PROTECTOR = SpanProtector(glossary=["Cobalt Shop", "Cobalt Shop Plus", "Cobalt Kettle"])


@pytest.mark.parametrize(
    "text, spans",
    [
        ("Order {order_id} ships on {delivery_date}.", ["{order_id}", "{delivery_date}"]),
        ("Hi {{Customer Name}}, your {{Order Number}} is ready.", ["{{Customer Name}}", "{{Order Number}}"]),
        ("See https://shop.example.com/orders?id=7. Thanks!", ["https://shop.example.com/orders?id=7"]),
        ("Write to help@cobalt.example or call +1 800 555 0100.", ["help@cobalt.example", "+1 800 555 0100"]),
        ("Order #10045 and ORD-2024-0007 arrive 2024-05-01.", ["#10045", "ORD-2024-0007", "2024-05-01"]),
        ("Refund: $49.90, 49,90 EUR, R$ 12,00 and 12€.", ["$49.90", "49,90 EUR", "R$ 12,00", "12€"]),
        (
            "Tracking 1Z999AA10123456784 via [our page](https://t.example/x).",
            ["1Z999AA10123456784", "[our page](https://t.example/x)"],
        ),
        (
            "Join Cobalt Shop Plus at Cobalt Shop; the Cobalt Kettle is back.",
            ["Cobalt Shop Plus", "Cobalt Shop", "Cobalt Kettle"],
        ),
        ("Run `reset --all` in the <b>app</b>.", ["`reset --all`", "<b>", "</b>"]),
    ],
)
def test_every_kind_of_span_is_masked_and_restored_exactly(text, spans):
    masked = PROTECTOR.mask(text)
    assert list(masked.spans) == spans
    for span in spans:
        assert span not in masked.text
    assert PROTECTOR.unmask(masked.text, masked) == text


def test_ordinary_words_and_small_numbers_are_translated():
    masked = PROTECTOR.mask("Standard delivery takes 2-4 business days, 24 hours a day.")
    assert masked.spans == ()


def test_a_translation_that_drops_or_repeats_a_token_is_refused():
    masked = PROTECTOR.mask("Order 10045 from Cobalt Shop.")
    assert masked.text == "Order X1 from X2."
    with pytest.raises(SpansLostError):
        PROTECTOR.unmask("Pedido da X2.", masked)
    with pytest.raises(SpansLostError):
        PROTECTOR.unmask("Pedido X1 X1 da X2.", masked)
    assert PROTECTOR.unmask("Pedido X1 da X2.", masked) == "Pedido 10045 da Cobalt Shop."


def test_tokens_avoid_shapes_already_in_the_text():
    masked = PROTECTOR.mask("Model X1 costs $5.")
    assert masked.text == "Model X1 costs XQ1."
    assert PROTECTOR.unmask("Modelo X1 custa XQ1.", masked) == "Modelo X1 custa $5."


def test_memory_keys_are_shared_by_texts_that_differ_only_in_spans():
    assert PROTECTOR.mask("Order 10045 has shipped.", MEMORY_PATTERN).text == "Order ⟦1⟧ has shipped."
    assert PROTECTOR.mask("Order 10046 has shipped.", MEMORY_PATTERN).text == "Order ⟦1⟧ has shipped."


def test_layout_split_and_join_round_trip_keeps_markers():
    text = "## Returns\n\n- Print the **label**\n  2. Drop it off  \n> Note: free\n- [ ] done\n---\n10045"
    lines = split_lines(text)
    assert join_lines(lines, [line.content for line in lines]) == text
    assert [line.prefix for line in lines[:6]] == ["## ", "", "- ", "  2. ", "> ", "- [ ] "]
    assert [line.translatable for line in lines] == [True, False, True, True, True, True, False, False]


def test_a_name_or_number_followed_by_a_korean_particle_or_a_japanese_counter_is_still_protected():
    protector = SpanProtector(glossary=["Cobalt Club"])
    assert protector.mask("네, Cobalt Club은 무료입니다.").spans == ("Cobalt Club",)
    assert protector.mask("2019年にご注文 10045").spans == ("2019", "10045")
    assert protector.mask("Cobalt Clubs and order 100455").spans == ("100455",)
