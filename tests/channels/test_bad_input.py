"""Bad input on every public channel of one real Rasa server: REST, socket.io, Slack, Telegram.

Each case gets a clear reply or a clear 4xx (socket.io: a `bridge_error` event), the server
stays up, and a conversation stored before the cases is still whole after them. Slack and
Telegram requests are signed / carry the webhook secret as the platforms send them; a message
those platforms delivered but the bot cannot take is answered in the chat with why (a 4xx would
only make the platform re-send it). Run with -s to see the results table.
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.channels.conftest import TELEGRAM_WEBHOOK_SECRET
from tests.helpers.channel_clients import SocketIOCustomer, post_raw
from tests.helpers.slack_requests import message_event, post_to_slack_webhook
from tests.helpers.telegram_requests import new_chat_id, text_update

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# name -> the message text, or (for the body cases) None: those send RAW_BODIES[name].
CASES: dict[str, str | None] = {
    "empty": "",
    "whitespace only": "  \n\t  ",
    "100 KB": "where is my order " * 5700,
    "invalid JSON": None,
    "invalid UTF-8": None,
    "control characters": "where is my order\x00\x07\x1b[2J",
    "emoji only": "😀🙏📦",
    "mixed scripts": "Hello, где мой заказ? 我的订单 طلبي",
    "SQL-like": "'; DROP TABLE events; -- SELECT * FROM users WHERE 1=1",
    "<script>": "<script>alert('x')</script> where is my order?",
    "unsupported language": "Missä minun tilaukseni on? Haluaisin tietää toimituksen tilan.",
}
RAW_BODIES = {"invalid JSON": b'{"sender": "x", "message": "hel', "invalid UTF-8": b'{"message": "\xff\xfe hi"}'}
REFUSED = {"empty", "whitespace only", "100 KB", "invalid JSON", "invalid UTF-8"}
# What each channel did with each case, printed as a table at the end of the module.
RESULTS: dict[tuple[str, str], str] = {}


def short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@pytest.fixture(scope="module", autouse=True)
def stored_conversation(channel_stack):
    """A conversation stored before the cases; after them it must still be there, unchanged."""
    sender = f"keeper-{uuid.uuid4().hex[:8]}"
    status, replies = post_rest(channel_stack, json.dumps({"sender": sender, "message": "Hello!"}).encode())
    assert status == 200 and replies
    before = channel_stack.stored_events(sender)
    yield
    assert channel_stack.stored_events(sender) == before
    with urllib.request.urlopen(f"{channel_stack.rasa_url}/status", timeout=10) as answer:
        assert answer.status == 200  # the server is still up, with its model
    print("\n\n| case | " + " | ".join(CHANNELS) + " |\n|---|" + "---|" * len(CHANNELS))
    for case in CASES:
        print(f"| {case} | " + " | ".join(RESULTS.get((case, c), "not run") for c in CHANNELS) + " |")


# ------------------------------------------------------------------------------ REST


def post_rest(channel_stack, body: bytes) -> tuple[int, Any]:
    status, answer, _ = post_raw(f"{channel_stack.rasa_url}/webhooks/rest/webhook", body, {})
    return status, json.loads(answer)


@pytest.mark.parametrize("case", CASES)
def test_rest(channel_stack, case):
    sender = f"rest-bad-{uuid.uuid4().hex[:8]}"
    body = RAW_BODIES.get(case) or json.dumps({"sender": sender, "message": CASES[case]}).encode()
    status, answer = post_rest(channel_stack, body)
    if case in REFUSED:
        assert status == 400 and answer["message"]
        RESULTS[(case, "REST")] = f"{status}: {short(answer['message'])}"
        assert channel_stack.user_turns(sender) == 0
        return
    assert status == 200 and answer and answer[0].get("text")
    RESULTS[(case, "REST")] = f"{status}: {short(answer[0]['text'])}"
    user_texts = [json.loads(e["data"])["text"] for e in channel_stack.stored_events(sender) if e["event"] == "user"]
    assert user_texts and "\x00" not in user_texts[0]


# ------------------------------------------------------------------------- socket.io


@pytest.mark.parametrize("case", CASES)
def test_socketio(channel_stack, case):
    customer = SocketIOCustomer(channel_stack.rasa_url)
    try:
        if case == "invalid JSON":
            customer.client.emit("user_uttered", '{"message": "hel')  # not an object
        elif case == "invalid UTF-8":
            customer.client.emit("user_uttered", {"message": b"\xff\xfe hi", "session_id": customer.session_id})
        else:
            customer.client.emit("user_uttered", {"message": CASES[case], "session_id": customer.session_id})
        name, data = customer.wait_for("bot_uttered", "bridge_error") or ("nothing", None)
    finally:
        customer.close()
    if case in REFUSED:
        assert name == "bridge_error" and data["status"] == 400 and data["error"]
        RESULTS[(case, "socket.io")] = f"bridge_error {data['status']}: {short(data['error'])}"
        assert channel_stack.user_turns(customer.session_id) == 0
    else:
        assert name == "bot_uttered" and data.get("text")
        RESULTS[(case, "socket.io")] = f"bot_uttered: {short(data['text'])}"


# ----------------------------------------------------------------------------- Slack


def platform_answer(channel: str, case: str, status: int, answer: str, left_alone: set[str], replies) -> None:
    """Checks and records what a messaging platform's webhook did with `case`.

    `replies` waits for what the bot sent into the chat; `left_alone` are the cases the platform
    cannot deliver (an empty message), acknowledged without an answer.
    """
    if case in ("invalid JSON", "invalid UTF-8"):
        assert status == 400 and answer
        RESULTS[(case, channel)] = f"{status}: {short(answer)}"
        return
    assert status == 200
    if case in left_alone:
        assert answer.startswith("ignored")
        RESULTS[(case, channel)] = f"{status}: {short(answer)}"
        return
    sent = replies()
    assert sent and sent[0].params.get("text")
    RESULTS[(case, channel)] = f"{status} + reply: {short(sent[0].params['text'])}"
    if case in REFUSED:
        assert answer.startswith("refused")


@pytest.mark.parametrize("case", CASES)
def test_slack(channel_stack, case):
    user, channel = "UENGLISH", f"D{uuid.uuid4().hex[:10].upper()}"
    body = RAW_BODIES.get(case) or message_event(user, CASES[case], channel, f"Ev{uuid.uuid4().hex[:12]}")
    status, answer = post_to_slack_webhook(channel_stack, body)
    # Slack strips a message's spaces: a blank one is left alone like an empty one.
    replies = functools.partial(channel_stack.slack.wait_for, "chat.postMessage", channel=channel)
    platform_answer("Slack", case, status, answer, {"empty", "whitespace only"}, replies)


@pytest.mark.parametrize("case", CASES)
def test_telegram(channel_stack, case):
    chat_id = new_chat_id()
    body = RAW_BODIES.get(case) or json.dumps(text_update(chat_id, CASES[case], "en")).encode()
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET}
    status, answer, _ = post_raw(f"{channel_stack.rasa_url}/webhooks/telegram/webhook", body, headers)
    replies = functools.partial(channel_stack.telegram.wait_for, "sendMessage", chat_id=chat_id)
    platform_answer("Telegram", case, status, answer, {"empty"}, replies)
    if case in REFUSED and status == 200:
        assert channel_stack.user_turns(str(chat_id)) == 0


CHANNELS = ("REST", "socket.io", "Slack", "Telegram")
