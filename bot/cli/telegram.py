"""`bridge telegram set-webhook URL`: tells Telegram where to send the bot's updates, with the secret.

Usage:
    export TELEGRAM_BOT_TOKEN=123456:ABC... TELEGRAM_WEBHOOK_SECRET=$(openssl rand -hex 32)
    bridge telegram set-webhook https://bot.example.com/webhooks/telegram/webhook

Telegram then sends $TELEGRAM_WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token with every
update, and the Rasa server's Telegram channel (bot/channels/telegram.py) refuses requests
without it. Start the server with the same two variables.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import urllib.parse

from bot.channels.telegram_api import (
    API_URL_ENV,
    BOT_TOKEN_ENV,
    DEFAULT_API_URL,
    WEBHOOK_SECRET,
    WEBHOOK_SECRET_ENV,
    TelegramApiError,
    TelegramBotApi,
)

ALLOWED_UPDATES = ["message", "callback_query"]


def set_webhook(url: str) -> str:
    """Registers `url` with the secret; returns what happened, raises ValueError on a bad setting."""
    token = os.environ.get(BOT_TOKEN_ENV, "").strip()
    secret = os.environ.get(WEBHOOK_SECRET_ENV, "").strip()
    missing = [name for name, value in ((BOT_TOKEN_ENV, token), (WEBHOOK_SECRET_ENV, secret)) if not value]
    if missing:
        raise ValueError(f"set {' and '.join(missing)} in the environment (the same values the Rasa server gets).")
    if not WEBHOOK_SECRET.match(secret):
        raise ValueError(
            f"${WEBHOOK_SECRET_ENV} must be 1-256 characters of A-Z, a-z, 0-9, _ and - (e.g. `openssl rand -hex 32`)."
        )
    if urllib.parse.urlsplit(url).scheme != "https":
        raise ValueError(f"Telegram only sends updates to https URLs; got '{url}'.")
    api = TelegramBotApi(token, os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL)
    asyncio.run(api.call("setWebhook", url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))
    return f"Telegram now sends the bot's updates to {url}, signed with ${WEBHOOK_SECRET_ENV}."


def cmd_set_webhook(args: argparse.Namespace) -> None:
    try:
        print(set_webhook(args.url))
    except (ValueError, TelegramApiError) as error:
        sys.exit(f"bridge telegram set-webhook: {error}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bridge telegram ...` to the main parser's subcommands."""
    telegram = subparsers.add_parser("telegram", help="set up the Telegram channel")
    commands = telegram.add_subparsers(dest="telegram_command", required=True)
    webhook = commands.add_parser("set-webhook", help="register the webhook URL with the secret")
    webhook.add_argument("url", help="public https URL of /webhooks/telegram/webhook on the Rasa server")
    webhook.set_defaults(handler=cmd_set_webhook)
