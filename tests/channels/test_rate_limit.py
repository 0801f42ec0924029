"""The per-sender rate limit: 429 with Retry-After on REST, Slack and Telegram, a `bridge_error`
429 event on socket.io; other senders unaffected; counts shared through Redis by replicas.

The end-to-end part serves the tiny bot (tests/serving/tiny_bot.py) on a real Rasa server with
every public channel open and a limit of 2 messages a minute from credentials.yml.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import yaml

from bot.channels.rate_limit import LocalCounter, RateLimit, RedisCounter, TooManyMessages
from tests.channels.conftest import SLACK_LOCALES, SLACK_SIGNING_SECRET, TELEGRAM_WEBHOOK_SECRET, platform_env
from tests.helpers.channel_clients import post_raw as post
from tests.helpers.fake_platforms import fake_slack, fake_telegram

LIMIT = {"messages": 2, "per_seconds": 60}


def test_a_sender_over_the_limit_is_told_when_to_come_back():
    limit = RateLimit("rest", messages=2, per_seconds=60, counter=LocalCounter())
    limit.check("ana")
    limit.check("ana")
    limit.check("ben")  # another sender has a count of its own
    with pytest.raises(TooManyMessages) as refused:
        limit.check("ana")
    assert refused.value.status_code == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert "at most 2 every 60 seconds" in str(refused.value)


def test_zero_messages_turns_the_limit_off():
    limit = RateLimit("rest", messages=0)
    for _ in range(100):
        limit.check("ana")


@pytest.mark.parametrize(
    "settings, expected",
    [
        ("30/min", "must be a mapping"),
        ({"messages": -1}, "rate_limit.messages .* must be an integer >= 0, got -1"),
        ({"per_seconds": 0}, "rate_limit.per_seconds .* must be an integer >= 1, got 0"),
    ],
)
def test_bad_settings_name_the_key_and_value(settings, expected, tmp_path):
    with pytest.raises(ValueError, match=expected):
        RateLimit.from_credentials("rest", {"rate_limit": settings}, tmp_path / "endpoints.yml")


def test_without_settings_the_defaults_count_in_the_process(tmp_path):
    limit = RateLimit.from_credentials("rest", None, tmp_path / "none.yml")
    assert (limit.messages, limit.per_seconds) == (30, 60) and isinstance(limit.counter, LocalCounter)


def test_replicas_with_a_redis_lock_store_share_the_counts(tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.StrictRedis(host="127.0.0.1", port=6379).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis does not answer on 127.0.0.1:6379; .ci/run starts it (see DESIGN.md, services).")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"lock_store": {"type": "redis", "url": "127.0.0.1", "port": 6379}}))
    first, second = (RateLimit.from_credentials("rest", {"rate_limit": LIMIT}, endpoints) for _ in range(2))
    assert isinstance(first.counter, RedisCounter)
    sender = f"replicas-{uuid.uuid4().hex}"
    first.check(sender)
    second.check(sender)
    with pytest.raises(TooManyMessages):
        first.check(sender)  # the third message overall, whichever replica gets it


# -------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The tiny bot on a real Rasa server, every public channel limited to 2 messages a minute."""
    from bot.serving.processes import BotStack, free_port
    from tests.helpers.tiny_bot import train_tiny_bot

    project = tmp_path_factory.mktemp("rate-limited-bot")
    model = train_tiny_bot(project)
    credentials = {
        "bot.channels.rest.BridgeRestInput": {"rate_limit": LIMIT},
        "bot.channels.socketio.BridgeSocketIOInput": {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
            "rate_limit": LIMIT,
        },
        "bot.channels.slack.SlackEventsInput": {"endpoints": str(project / "endpoints.yml"), "rate_limit": LIMIT},
        "bot.channels.telegram.TelegramWebhookInput": {
            "endpoints": str(project / "endpoints.yml"),
            "rate_limit": LIMIT,
        },
    }
    (project / "limited-credentials.yml").write_text(yaml.safe_dump(credentials))
    slack, telegram = fake_slack(SLACK_LOCALES).start(), fake_telegram().start()
    stack = BotStack(
        project,
        model,
        project / "endpoints.yml",
        free_port(),
        free_port(),
        None,
        project / "logs",
        env=platform_env(slack, telegram),
        credentials=project / "limited-credentials.yml",
    )
    stack.start(timeout=180)
    yield stack
    stack.stop()
    slack.stop()
    telegram.stop()


def rest(stack, sender: str) -> tuple[int, str, dict[str, str]]:
    body = json.dumps({"sender": sender, "message": "hello"}).encode()
    return post(f"{stack.rasa_url}/webhooks/rest/webhook", body, {})


def slack(stack, user: str) -> tuple[int, str, dict[str, str]]:
    from tests.helpers.slack_requests import message_event, slack_signature

    body = message_event(user, "hello", f"D{user}", f"Ev{uuid.uuid4().hex[:12]}")
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SLACK_SIGNING_SECRET, timestamp, body),
    }
    return post(f"{stack.rasa_url}/webhooks/slack/webhook", body, headers)


def telegram(stack, user: int) -> tuple[int, str, dict[str, str]]:
    from tests.helpers.telegram_requests import text_update

    body = json.dumps(text_update(user, "hello", "en")).encode()
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET}
    return post(f"{stack.rasa_url}/webhooks/telegram/webhook", body, headers)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("channel", ["REST", "Slack", "Telegram"])
def test_the_third_message_a_minute_gets_429_with_retry_after(limited_stack, channel):
    send = {"REST": rest, "Slack": slack, "Telegram": telegram}[channel]
    sender = f"U{uuid.uuid4().hex[:8].upper()}" if channel != "Telegram" else 10**9 + uuid.uuid4().int % 10**9
    other = f"U{uuid.uuid4().hex[:8].upper()}" if channel != "Telegram" else sender + 1
    assert [send(limited_stack, sender)[0] for _ in range(2)] == [200, 200]
    status, body, headers = send(limited_stack, sender)
    assert status == 429 and "at most 2 every 60 seconds" in body
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert send(limited_stack, other)[0] == 200  # nobody else is slowed down


@pytest.mark.integration
@pytest.mark.slow
def test_socketio_over_the_limit_gets_a_429_error_event(limited_stack):
    from tests.helpers.channel_clients import SocketIOCustomer

    customer = SocketIOCustomer(limited_stack.rasa_url)
    try:
        for _ in range(3):
            customer.client.emit("user_uttered", {"message": "hello", "session_id": customer.session_id})
        refused = customer.wait_for("bridge_error", timeout=60)
    finally:
        customer.close()
    assert refused and refused[1]["status"] == 429 and 1 <= refused[1]["retry_after"] <= 60
    assert "at most 2 every 60 seconds" in refused[1]["error"]


def test_the_project_credentials_configure_a_limit_on_every_public_channel():
    from tests.conftest import PROJECT_DIR

    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())
    public = [name for name in credentials if "translation_memory" not in name]
    assert len(public) == 4
    for name in public:
        settings = (credentials[name] or {}).get("rate_limit")
        assert settings and settings["messages"] >= 1 and settings["per_seconds"] >= 1, name
