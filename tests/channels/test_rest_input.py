"""The REST channel refuses bad requests with a 400 that says what to fix, and stores nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def post_raw(stack, body: bytes):
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def events_of(stack, sender):
    with urllib.request.urlopen(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=30) as response:
        return [e for e in json.loads(response.read())["events"] if e["event"] == "user"]


@pytest.mark.parametrize(
    "payload, explanation",
    [
        ({"message": "   "}, "is empty"),
        ({"message": "x" * 2001}, "at most 2000"),
        ({"message": 42}, "not text"),
        ({"message": "hi", "metadata": "de"}, "must be a JSON object"),
    ],
)
def test_bad_messages_get_400_with_the_reason_and_nothing_is_stored(bot_stack, payload, explanation):
    sender = f"bad-{uuid.uuid4().hex[:8]}"
    status, body = post_raw(bot_stack, json.dumps({"sender": sender, **payload}).encode())
    assert status == 400
    assert explanation in json.loads(body)["message"]
    assert events_of(bot_stack, sender) == []


def test_malformed_json_and_missing_sender_get_400(bot_stack):
    assert post_raw(bot_stack, b"{not json")[0] == 400
    status, body = post_raw(bot_stack, json.dumps({"message": "hello"}).encode())
    assert status == 400 and '"sender" is missing' in json.loads(body)["message"]


def test_the_conversation_continues_after_a_refused_message(bot_stack):
    sender = f"bad-then-good-{uuid.uuid4().hex[:8]}"
    assert post_raw(bot_stack, json.dumps({"sender": sender, "message": ""}).encode())[0] == 400
    status, body = post_raw(bot_stack, json.dumps({"sender": sender, "message": "Hallo, guten Tag!"}).encode())
    assert status == 200 and json.loads(body)
    assert len(events_of(bot_stack, sender)) == 1
