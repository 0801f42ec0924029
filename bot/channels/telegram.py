"""Telegram through a Bot API webhook: customers write to the bot and get answers in the chat.

Routes, under /webhooks/telegram/:

    GET  /          {"status": "ok"} (or "closed" and why, with a 503)
    POST /webhook   Telegram's updates; register the URL with `bridge telegram set-webhook URL`

Telegram sends the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token` with every
update (Rasa 3.6's own Telegram channel does not check it): a request without the right one
gets a 403 and reaches no bot. Then:
- each `update_id` is processed once (Telegram re-sends an update after an error; see
  bot/channels/seen_events.py), except that an update whose turn failed is let through again;
- a message the bot cannot take (longer than bot/channels/message_text.py allows, or only
  control characters) is answered in the chat with why, and not stored;
- a user over the rate limit (bot/channels/rate_limit.py) gets a 429 with Retry-After;
- a message's `from.language_code` is the turn's language hint, `metadata.language`, as on the
  REST channel;
- replies go to the chat with sendMessage, split on line or word boundaries when longer than
  Telegram's 4,096 characters; buttons become an inline keyboard, and a click (a callback
  query) is answered with answerCallbackQuery and sends the button's payload as the message.

The turn runs before the webhook answers, so Telegram delivers one chat's updates in order.

Environment (secrets never go in credentials.yml):
    TELEGRAM_BOT_TOKEN        the token @BotFather gave
    TELEGRAM_WEBHOOK_SECRET   1-256 characters of A-Z a-z 0-9 _ -, also given to setWebhook
    TELEGRAM_API_URL          Bot API base URL; default https://api.telegram.org

credentials.yml:

    bot.channels.telegram.TelegramWebhookInput:
      endpoints: endpoints.yml     # where the seen update ids are kept (tracker store / Redis)
      rate_limit: {messages: 30, per_seconds: 60}   # per Telegram user; these are the defaults
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.environment import PlatformWebhookInput, closed_blueprint
from bot.channels.message_text import MessageTextError, checked_text
from bot.channels.telegram_api import (
    API_URL_ENV,
    BOT_TOKEN_ENV,
    DEFAULT_API_URL,
    WEBHOOK_SECRET_ENV,
    TelegramBotApi,
    inline_keyboard,
    split_message,
)

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram channel's settings, read from the environment."""

    bot_token: str
    webhook_secret: str
    api_url: str

    @classmethod
    def from_environment(cls) -> TelegramSettings:
        return cls(
            bot_token=os.environ[BOT_TOKEN_ENV].strip(),
            webhook_secret=os.environ[WEBHOOK_SECRET_ENV].strip(),
            api_url=os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL,
        )


def update_sender(update: dict[str, Any]) -> Any:
    """The id of the Telegram user who sent a message or clicked a button, or None."""
    for kind in ("message", "callback_query"):
        part = update.get(kind)
        if isinstance(part, dict) and isinstance(part.get("from"), dict):
            return part["from"].get("id")
    return None


class TelegramChatOutput(OutputChannel):
    """Sends the bot's replies into one Telegram chat."""

    @classmethod
    def name(cls) -> str:
        return "telegram_webhook"

    def __init__(self, api: TelegramBotApi, chat_id: int | str) -> None:
        self.api = api
        self.chat_id = chat_id

    async def _send(self, text: str, reply_markup: dict[str, Any] | None = None) -> None:
        pieces = split_message(text)
        for index, piece in enumerate(pieces):
            # The keyboard goes under the last piece, next to the question it answers.
            markup = reply_markup if index == len(pieces) - 1 else None
            await self.api.call("sendMessage", chat_id=self.chat_id, text=piece, reply_markup=markup)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(text, inline_keyboard(buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.api.call("sendPhoto", chat_id=self.chat_id, photo=image)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # A custom response is a sendMessage body written for Telegram (parse_mode, keyboards...).
        await self.api.call("sendMessage", **{"chat_id": self.chat_id, **json_message})


class TelegramPushOutput(TelegramChatOutput):
    """Messages pushed outside a turn (an agent's reply): Bridge's Telegram conversation id is
    the chat's id."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.chat_id = recipient_id
        await super().send_response(recipient_id, message)


class TelegramWebhookInput(PlatformWebhookInput):
    """Telegram Bot API webhook (see the module docstring)."""

    required_variables = (BOT_TOKEN_ENV, WEBHOOK_SECRET_ENV)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def settings_from_environment(cls) -> TelegramSettings:
        return TelegramSettings.from_environment()

    @property
    def api(self) -> TelegramBotApi:
        """The Bot API client of this bot (holds no connection: one session per call)."""
        return TelegramBotApi(self.settings.bot_token, self.settings.api_url)

    def has_the_secret(self, request: Request) -> bool:
        """True when the request carries the webhook secret Telegram was given."""
        given = request.headers.get(SECRET_HEADER) or ""
        return hmac.compare_digest(given.encode(), self.settings.webhook_secret.encode())

    async def _turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        chat: dict[str, Any],
        sender: dict[str, Any],
        update_id: Any,
    ) -> None:
        metadata: dict[str, Any] = {
            "telegram": {
                "chat_id": chat["id"],
                "chat_type": chat.get("type"),
                "user_id": sender.get("id"),
                "update_id": update_id,
            }
        }
        if sender.get("language_code"):
            metadata["language"] = sender["language_code"]
        output = TelegramChatOutput(self.api, chat["id"])
        await on_new_message(UserMessage(text, output, str(chat["id"]), input_channel=self.name(), metadata=metadata))

    async def _update(
        self, update: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        update_id = update.get("update_id")
        if update_id is None:
            return response.text('The update has no "update_id".', status=HTTPStatus.BAD_REQUEST)
        sender = update_sender(update)
        refusal = self.over_rate_limit(sender) if sender is not None else None
        if refusal:  # before the update is seen, so Telegram's retry can pass later
            return refusal
        key = f"telegram:{self.settings.bot_token.split(':', 1)[0]}:{update_id}"
        if not await asyncio.to_thread(self.seen_events.first_time, key):
            logger.info(f"Telegram update {update_id} was already processed; copy dropped.")
            return response.text("already processed")
        try:
            return await self._process(update, on_new_message)
        except Exception:
            # Telegram re-sends an update that got an error: let that copy through.
            await asyncio.to_thread(self.seen_events.forget, key)
            raise

    async def _process(
        self, update: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        update_id = update.get("update_id")
        query = update.get("callback_query")
        if isinstance(query, dict):
            # Telegram shows a spinner on the button until the query is answered.
            await self.api.call("answerCallbackQuery", callback_query_id=query.get("id"))
            chat = ((query.get("message") or {}).get("chat")) or {}
            if query.get("data") and chat.get("id") is not None:
                await self._turn(on_new_message, query["data"], chat, query.get("from") or {}, update_id)
            return response.text("")
        message = update.get("message")
        if not isinstance(message, dict) or not message.get("text") or (message.get("from") or {}).get("is_bot"):
            return response.text("ignored: not a text message from a person")
        chat = message.get("chat") or {}
        if chat.get("id") is None:
            return response.text('The message has no "chat.id".', status=HTTPStatus.BAD_REQUEST)
        try:
            text = checked_text(message["text"])
        except MessageTextError as error:
            # Telegram re-sends an update that gets an error status: the customer is told instead.
            await TelegramChatOutput(self.api, chat["id"]).send_text_message(str(chat["id"]), str(error))
            return response.text(f"refused: {error}")
        await self._turn(on_new_message, text, chat, message.get("from") or {}, update_id)
        return response.text("")

    def get_output_channel(self) -> OutputChannel | None:
        """Where Rasa sends messages pushed through its HTTP API (`output_channel=latest`)."""
        return TelegramPushOutput(self.api, "") if self.settings else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.settings is None:
            return closed_blueprint("telegram_webhook", self.closed_reason)
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.has_the_secret(request):
                logger.warning(f"Refused a Telegram webhook request without the right {SECRET_HEADER}.")
                return response.text(
                    f"Forbidden: {SECRET_HEADER} must be the secret given to setWebhook "
                    f"(`bridge telegram set-webhook URL` sends ${WEBHOOK_SECRET_ENV}).",
                    status=HTTPStatus.FORBIDDEN,
                )
            try:
                update = request.json
            except Exception:  # sanic raises its own error type for unparsable JSON
                update = None
            if not isinstance(update, dict):
                return response.text(
                    "The body is not a JSON object (a Telegram Update).", status=HTTPStatus.BAD_REQUEST
                )
            return await self._update(update, on_new_message)

        return telegram_webhook
