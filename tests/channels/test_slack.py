"""Slack end to end: signed Events API requests to a real Rasa server, replies to a fake Slack API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.channels.conftest import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET
from tests.helpers.demo_domain import authored
from tests.helpers.slack_requests import message_event, post_to_slack_webhook

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPANISH_RETURN = "Quiero devolver unas zapatillas que compré el mes pasado"
# Long enough for a reply that was going to come to have come.
QUIET_SECONDS = 4.0


def test_url_verification_is_answered_with_the_challenge(channel_stack):
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    ).encode()
    status, answer = post_to_slack_webhook(channel_stack, body)
    assert status == 200
    assert json.loads(answer)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


def test_a_spanish_customer_gets_the_spanish_answer_in_the_thread(channel_stack, domain):
    channel, event_id = f"D{uuid.uuid4().hex[:8].upper()}", f"Ev{uuid.uuid4().hex[:10]}"
    body = message_event("USPANISH", SPANISH_RETURN, channel, event_id)
    thread_ts = json.loads(body)["event"]["ts"]
    assert post_to_slack_webhook(channel_stack, body)[0] == 200
    replies = channel_stack.slack.wait_for("chat.postMessage", channel=channel)
    assert [call.params["text"] for call in replies] == [authored(domain, "utter_return_request", "es")]
    assert replies[0].params["thread_ts"] == thread_ts
    assert replies[0].authorization == f"Bearer {SLACK_BOT_TOKEN}"
    info = channel_stack.slack.calls_to("users.info", user="USPANISH")
    assert info and str(info[0].params.get("include_locale")).lower() in ("true", "1")


def test_a_retried_event_is_answered_once(channel_stack):
    channel, event_id = f"D{uuid.uuid4().hex[:8].upper()}", f"Ev{uuid.uuid4().hex[:10]}"
    body = message_event("UENGLISH", "How many days does standard shipping usually take?", channel, event_id)
    statuses = [post_to_slack_webhook(channel_stack, body)[0]]
    for retry in ("1", "2", "3"):
        retry_headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        statuses.append(post_to_slack_webhook(channel_stack, body, extra_headers=retry_headers)[0])
    assert statuses == [200, 200, 200, 200]
    assert channel_stack.slack.wait_for("chat.postMessage", channel=channel)
    time.sleep(QUIET_SECONDS)
    assert len(channel_stack.slack.calls_to("chat.postMessage", channel=channel)) == 1
    assert channel_stack.user_turns("UENGLISH") >= 1
    turns_before = channel_stack.user_turns("UENGLISH")
    post_to_slack_webhook(channel_stack, body, extra_headers={"X-Slack-Retry-Num": "4"})
    time.sleep(QUIET_SECONDS)
    assert channel_stack.user_turns("UENGLISH") == turns_before


@pytest.mark.parametrize(
    "case, secret, age_seconds",
    [("forged", "not-the-signing-secret", 0), ("unsigned", None, 0), ("stale", SLACK_SIGNING_SECRET, 6 * 60)],
)
def test_forged_unsigned_and_stale_requests_get_401_and_no_turn(channel_stack, case, secret, age_seconds):
    user, channel = f"U{case.upper()}{uuid.uuid4().hex[:6].upper()}", f"D{uuid.uuid4().hex[:8].upper()}"
    body = message_event(user, "Hola, ¿dónde está mi pedido?", channel, f"Ev{uuid.uuid4().hex[:10]}")
    status, answer = post_to_slack_webhook(channel_stack, body, secret=secret, age_seconds=age_seconds)
    assert status == 401, answer
    assert "X-Slack-Signature" in answer
    time.sleep(QUIET_SECONDS)
    assert channel_stack.slack.calls_to("chat.postMessage", channel=channel) == []
    assert channel_stack.slack.calls_to("users.info", user=user) == []
    assert channel_stack.stored_events(user) == []


def test_the_bots_own_messages_are_ignored(channel_stack):
    channel = f"D{uuid.uuid4().hex[:8].upper()}"
    for event_id, extra in (
        (f"Ev{uuid.uuid4().hex[:10]}", {"bot_id": "B0BRIDGE"}),
        (f"Ev{uuid.uuid4().hex[:10]}", {"subtype": "bot_message"}),
    ):
        body = message_event("UBOTSELF", "Your order has shipped.", channel, event_id, **extra)
        assert post_to_slack_webhook(channel_stack, body)[0] == 200
    time.sleep(QUIET_SECONDS)
    assert channel_stack.slack.calls_to("chat.postMessage", channel=channel) == []
    assert channel_stack.stored_events("UBOTSELF") == []


def test_a_button_click_sends_its_payload_and_is_answered_in_the_thread(channel_stack, domain):
    channel, message_ts = f"C{uuid.uuid4().hex[:8].upper()}", f"{time.time():.6f}"
    payload = {
        "type": "block_actions",
        "user": {"id": "UBUTTON", "team_id": "T0TEST"},
        "team": {"id": "T0TEST"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": message_ts},
        "message": {"type": "message", "ts": message_ts, "thread_ts": message_ts, "text": "¿En qué puedo ayudarle?"},
        "actions": [
            {
                "type": "button",
                "action_id": "bridge_button_0",
                "value": "/payment_methods",
                "text": {"type": "plain_text", "text": "Pagos"},
                "action_ts": message_ts,
            }
        ],
    }
    form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    assert post_to_slack_webhook(channel_stack, form, "application/x-www-form-urlencoded")[0] == 200
    replies = channel_stack.slack.wait_for("chat.postMessage", channel=channel)
    assert [call.params["text"] for call in replies] == [authored(domain, "utter_payment_methods", "es")]
    assert replies[0].params["thread_ts"] == message_ts


def test_an_unsigned_button_click_gets_401(channel_stack):
    channel = f"C{uuid.uuid4().hex[:8].upper()}"
    payload = {
        "type": "block_actions",
        "user": {"id": "UCLICKFORGED"},
        "channel": {"id": channel},
        "actions": [{"type": "button", "value": "/payment_methods"}],
    }
    form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    assert post_to_slack_webhook(channel_stack, form, "application/x-www-form-urlencoded", secret="wrong")[0] == 401
    time.sleep(QUIET_SECONDS)
    assert channel_stack.stored_events("UCLICKFORGED") == []
