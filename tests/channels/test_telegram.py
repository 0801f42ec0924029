"""Telegram end to end: webhook updates with the secret header to a real Rasa server, replies to a
fake Bot API; `bridge telegram set-webhook` registers the webhook with the secret."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from bot.offline_env import offline_environment
from tests.channels.conftest import TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET
from tests.conftest import PROJECT_DIR
from tests.helpers.demo_domain import authored
from tests.helpers.fake_platforms import fake_telegram
from tests.helpers.telegram_requests import new_chat_id, text_update

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUIET_SECONDS = 4.0


def post_update(channel_stack, update: dict[str, Any], secret: str | None = TELEGRAM_WEBHOOK_SECRET) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"{channel_stack.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(), headers
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_spanish_customer_gets_the_spanish_answer_in_the_chat(channel_stack, domain):
    chat_id = new_chat_id()
    update = text_update(chat_id, "Quiero devolver unas zapatillas que compré el mes pasado", "es")
    assert post_update(channel_stack, update)[0] == 200
    sent = channel_stack.telegram.wait_for("sendMessage", chat_id=chat_id)
    assert [call.params["text"] for call in sent] == [authored(domain, "utter_return_request", "es")]
    stored_user = [e for e in channel_stack.stored_events(str(chat_id)) if e["event"] == "user"]
    assert json.loads(stored_user[0]["data"])["metadata"]["language"] == "es"


def test_the_language_code_is_the_hint_when_the_text_cannot_tell(channel_stack, domain):
    chat_id = new_chat_id()
    assert post_update(channel_stack, text_update(chat_id, "/payment_methods", "es"))[0] == 200
    sent = channel_stack.telegram.wait_for("sendMessage", chat_id=chat_id)
    assert [call.params["text"] for call in sent] == [authored(domain, "utter_payment_methods", "es")]


def test_a_button_click_is_acknowledged_and_its_payload_answered(channel_stack, domain):
    chat_id = new_chat_id()
    query_id = f"cbq-{uuid.uuid4().hex[:8]}"
    update = {
        "update_id": int(uuid.uuid4().int % 10**9),
        "callback_query": {
            "id": query_id,
            "data": "/payment_methods",
            "chat_instance": "ci-1",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "message": {
                "message_id": 12,
                "date": int(time.time()),
                "text": "¿Qué necesita?",
                "chat": {"id": chat_id, "type": "private"},
            },
        },
    }
    assert post_update(channel_stack, update)[0] == 200
    assert channel_stack.telegram.calls_to("answerCallbackQuery", callback_query_id=query_id)
    sent = channel_stack.telegram.wait_for("sendMessage", chat_id=chat_id)
    assert [call.params["text"] for call in sent] == [authored(domain, "utter_payment_methods", "es")]


def test_a_resent_update_is_answered_once(channel_stack):
    chat_id = new_chat_id()
    update = text_update(chat_id, "How many days does standard shipping usually take?", "en")
    assert [post_update(channel_stack, update)[0] for _ in range(3)] == [200, 200, 200]
    time.sleep(QUIET_SECONDS)
    assert len(channel_stack.telegram.calls_to("sendMessage", chat_id=chat_id)) == 1
    assert channel_stack.user_turns(str(chat_id)) == 1


@pytest.mark.parametrize("case, secret", [("forged", "not-the-webhook-secret"), ("missing", None), ("empty", "")])
def test_requests_without_the_secret_get_403_and_no_turn(channel_stack, case, secret):
    chat_id = new_chat_id()
    status, answer = post_update(channel_stack, text_update(chat_id, "Hola, ¿dónde está mi pedido?", "es"), secret)
    assert status == 403, answer
    assert "X-Telegram-Bot-Api-Secret-Token" in answer
    time.sleep(QUIET_SECONDS)
    assert channel_stack.telegram.calls_to("sendMessage", chat_id=chat_id) == []
    assert channel_stack.stored_events(str(chat_id)) == []


def run_set_webhook(url: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "telegram", "set-webhook", url],
        cwd=PROJECT_DIR,
        env=offline_environment({"PYTHONPATH": str(PROJECT_DIR), **env}),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_set_webhook_registers_the_url_with_the_secret():
    fake = fake_telegram().start()
    try:
        url = "https://bot.example.com/webhooks/telegram/webhook"
        done = run_set_webhook(
            url,
            {
                "TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET,
                "TELEGRAM_API_URL": fake.url,
            },
        )
        assert done.returncode == 0, done.stderr
        calls = fake.calls_to("setWebhook")
        assert len(calls) == 1
        assert calls[0].params["url"] == url
        assert calls[0].params["secret_token"] == TELEGRAM_WEBHOOK_SECRET
        assert url in done.stdout
    finally:
        fake.stop()


def test_set_webhook_without_the_secret_says_which_variable_to_set():
    done = run_set_webhook(
        "https://bot.example.com/webhooks/telegram/webhook",
        {"TELEGRAM_BOT_TOKEN": TELEGRAM_BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": ""},
    )
    assert done.returncode == 1
    assert "set TELEGRAM_WEBHOOK_SECRET in the environment" in done.stderr
