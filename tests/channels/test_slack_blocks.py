"""Slack message mapping: Rasa buttons to Block Kit, mentions out of the text, locales to languages."""

from __future__ import annotations

import pytest

from bot.channels.slack import MAX_BUTTON_TEXT, button_blocks, customer_text, locale_language


def test_buttons_become_a_section_and_an_actions_block_carrying_the_payloads():
    blocks = button_blocks(
        "¿Qué necesita?",
        [{"title": "Pagos", "payload": "/payment_methods"}, {"title": "Envío", "payload": "/delivery_time"}],
    )
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "¿Qué necesita?"}}
    assert blocks[1]["type"] == "actions"
    assert [(b["text"]["text"], b["value"]) for b in blocks[1]["elements"]] == [
        ("Pagos", "/payment_methods"),
        ("Envío", "/delivery_time"),
    ]
    assert len({b["action_id"] for b in blocks[1]["elements"]}) == 2


def test_long_titles_are_shortened_and_many_buttons_split_into_blocks_of_25():
    buttons = [{"title": "x" * 200, "payload": f'/choose{{"n": {n}}}'} for n in range(30)]
    blocks = button_blocks(None, buttons)
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    assert all(len(b["text"]["text"]) == MAX_BUTTON_TEXT for block in blocks for b in block["elements"])


def test_a_payload_slack_cannot_carry_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="Shorten the payload"):
        button_blocks("t", [{"title": "big", "payload": "/x" + "y" * 3000}])


def test_mentions_of_the_bot_are_removed_from_the_customer_text():
    assert customer_text("<@U0BRIDGE> ¿dónde está mi pedido?") == "¿dónde está mi pedido?"
    assert customer_text("hi <@U0BRIDGE|bridge>") == "hi"


@pytest.mark.parametrize(
    "locale, language", [("es-ES", "es"), ("pt_BR", "pt"), ("zh-CN", "zh"), ("", None), (None, None)]
)
def test_slack_locales_become_iso_639_1_language_hints(locale, language):
    assert locale_language(locale) == language
