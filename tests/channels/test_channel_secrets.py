"""A channel whose secret is unset is not opened, and start-up says so in one line."""

from __future__ import annotations

import logging

import pytest
import yaml

from bot.channels.slack import SlackEventsInput
from bot.channels.telegram import TelegramWebhookInput
from tests.conftest import PROJECT_DIR

CHANNELS = [
    (SlackEventsInput, ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"]),
    (TelegramWebhookInput, ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"]),
]


@pytest.mark.parametrize("channel, variables", CHANNELS, ids=["slack", "telegram"])
def test_without_its_secrets_a_channel_is_closed_and_says_which_to_set(monkeypatch, caplog, channel, variables):
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.WARNING):
        closed = channel.from_credentials({"endpoints": "endpoints.yml"})
    lines = [record.getMessage() for record in caplog.records if "not opened" in record.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert all(name in lines[0] for name in variables)
    routes = [route.path for route in closed.blueprint(lambda message: None).routes]
    assert not any(path.endswith("webhook") for path in routes)


@pytest.mark.parametrize("channel, variables", CHANNELS, ids=["slack", "telegram"])
def test_one_missing_secret_is_enough_to_keep_it_closed(monkeypatch, channel, variables):
    monkeypatch.setenv(variables[0], "set")
    monkeypatch.delenv(variables[1], raising=False)
    assert channel.from_credentials({}).settings is None


def test_credentials_yml_holds_no_secret_values():
    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text())
    secret_words = ("secret", "token", "password")
    for channel, settings in credentials.items():
        for key in settings or {}:
            assert not any(word in key.lower() for word in secret_words), f"{channel}.{key} looks like a secret"
