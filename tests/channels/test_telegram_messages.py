"""Telegram message rules: long replies split on boundaries, buttons as an inline keyboard,
and the output channel's real HTTP calls to a fake Bot API."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram import TelegramChatOutput
from bot.channels.telegram_api import (
    MAX_MESSAGE_LENGTH,
    TelegramApiError,
    TelegramBotApi,
    inline_keyboard,
    split_message,
    utf16_length,
)
from tests.helpers.fake_platforms import fake_telegram


@pytest.fixture
def telegram_api():
    fake = fake_telegram().start()
    yield fake
    fake.stop()


def test_a_short_reply_is_one_message():
    assert split_message("Hola") == ["Hola"]
    assert split_message("") == [""]


def test_a_long_reply_is_cut_at_line_breaks():
    paragraphs = [f"Paso {n}: " + "a" * 1500 for n in range(5)]
    pieces = split_message("\n".join(paragraphs))
    assert all(utf16_length(p) <= MAX_MESSAGE_LENGTH for p in pieces)
    assert "\n".join(pieces) == "\n".join(paragraphs)
    assert all(piece.split("\n")[0].startswith("Paso") for piece in pieces)


def test_without_line_breaks_the_cut_falls_between_words():
    words = [f"palabra{n}" for n in range(1200)]
    pieces = split_message(" ".join(words))
    assert len(pieces) > 1
    assert all(utf16_length(p) <= MAX_MESSAGE_LENGTH for p in pieces)
    assert " ".join(pieces).split(" ") == words


def test_text_without_any_break_is_cut_at_the_limit_counting_utf16_units():
    text = "😀" * 3000  # 6000 UTF-16 code units
    pieces = split_message(text)
    assert [utf16_length(p) for p in pieces] == [4096, 6000 - 4096]
    assert "".join(pieces) == text


def test_buttons_become_one_inline_button_per_row():
    keyboard = inline_keyboard(
        [{"title": "Pagos", "payload": "/payment_methods"}, {"title": "Web", "url": "https://shop.example.com"}]
    )
    assert keyboard == {
        "inline_keyboard": [
            [{"text": "Pagos", "callback_data": "/payment_methods"}],
            [{"text": "Web", "url": "https://shop.example.com"}],
        ]
    }


def test_a_payload_longer_than_callback_data_allows_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="64 in callback_data. Shorten it"):
        inline_keyboard([{"title": "x", "payload": "/order_status" + '{"order_number": "1"}' * 4}])


def test_the_output_sends_a_long_reply_in_pieces_with_the_keyboard_under_the_last(telegram_api):
    output = TelegramChatOutput(TelegramBotApi("42:secret-token", telegram_api.url), chat_id=777)
    text = "\n".join("línea " + "b" * 90 for _ in range(60))  # ~5,800 characters
    asyncio.run(output.send_text_with_buttons("777", text, [{"title": "Sí", "payload": "/affirm"}]))
    sent = telegram_api.calls_to("sendMessage")
    assert len(sent) == 2
    assert "\n".join(call.params["text"] for call in sent) == text
    assert [call.params.get("reply_markup") for call in sent] == [
        None,
        {"inline_keyboard": [[{"text": "Sí", "callback_data": "/affirm"}]]},
    ]
    assert {call.params["chat_id"] for call in sent} == {777}


def test_a_refused_call_raises_with_telegrams_description(telegram_api):
    with pytest.raises(TelegramApiError, match="method not found"):
        asyncio.run(TelegramBotApi("42:t", telegram_api.url).call("noSuchMethod"))


def test_an_update_whose_turn_failed_is_processed_when_telegram_resends_it(tmp_path, telegram_api):
    from bot.channels.seen_events import SqlSeenEvents
    from bot.channels.telegram import TelegramSettings, TelegramWebhookInput

    channel = TelegramWebhookInput(
        TelegramSettings("42:t", "secret", telegram_api.url), SqlSeenEvents(f"sqlite:///{tmp_path / 'tracker.db'}")
    )
    update = {
        "update_id": 9001,
        "message": {"text": "Hola", "from": {"id": 5, "language_code": "es"}, "chat": {"id": 5, "type": "private"}},
    }
    received = []

    async def failing_bot(message):
        raise RuntimeError("the action server is down")

    async def working_bot(message):
        received.append((message.text, message.sender_id, message.metadata["language"]))

    with pytest.raises(RuntimeError):
        asyncio.run(channel._update(update, failing_bot))
    assert asyncio.run(channel._update(update, working_bot)).status == 200
    assert asyncio.run(channel._update(update, working_bot)).body == b"already processed"
    assert received == [("Hola", "5", "es")]
