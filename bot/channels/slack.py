"""Slack through the Events API: customers write to the bot in Slack and get answers in the thread.

Routes, under /webhooks/slack/:

    GET  /          {"status": "ok"} (or "closed" and why, with a 503)
    POST /webhook   Slack's Events API requests (JSON) and interactive payloads (button clicks,
                    form-encoded `payload`): configure this URL as both the app's Event
                    Subscriptions Request URL and its Interactivity Request URL.

Every request must carry Slack's v0 signature (`X-Slack-Signature` over the raw body and
`X-Slack-Request-Timestamp`, checked by slack_sdk's SignatureVerifier, which also refuses
timestamps more than 5 minutes off): anything else gets a 401 and reaches no bot. Then:
- `url_verification` is answered with its challenge;
- each `event_id` is processed once, whatever Slack's retries (`X-Slack-Retry-Num`) do: the
  ids seen are kept where every replica sees them (see bot/channels/seen_events.py);
- the bot's own messages (`bot_id`) and edits, joins and other `subtype`s are ignored; direct
  messages (`message` in an `im`) and mentions (`app_mention`) in channels are answered;
- replies go to the thread of the customer's message with chat.postMessage, and so do messages
  pushed later through Rasa's HTTP API (an agent's reply): to the thread of the customer's
  latest message, read from the tracker store; buttons become
  Block Kit buttons whose click comes back as an interactive payload with the button's payload;
- a message the bot cannot take (longer than bot/channels/message_text.py allows, or only
  control characters) is answered in the thread with why, and not stored;
- a user over the rate limit (bot/channels/rate_limit.py) gets a 429 with Retry-After;
- the customer's Slack locale (users.info with include_locale; needs the users:read scope) is
  the turn's language hint, `metadata.language`, as on the REST channel.

Slack wants an answer within 3 seconds, so the request is acknowledged at once and the turn
runs in the background.

Environment (secrets never go in credentials.yml):
    SLACK_SIGNING_SECRET   the app's signing secret (Basic Information page)
    SLACK_BOT_TOKEN        the bot token, xoxb-... (OAuth & Permissions page)
    SLACK_API_URL          Web API base URL; default https://slack.com/api/

credentials.yml:

    bot.channels.slack.SlackEventsInput:
      endpoints: endpoints.yml     # where the seen event ids are kept (tracker store / Redis)
      rate_limit: {messages: 30, per_seconds: 60}   # per Slack user; these are the defaults
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.environment import PlatformWebhookInput, closed_blueprint
from bot.channels.message_text import MessageTextError, checked_text
from bot.channels.seen_events import SeenEvents

logger = logging.getLogger(__name__)

SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
BOT_TOKEN_ENV = "SLACK_BOT_TOKEN"
API_URL_ENV = "SLACK_API_URL"
DEFAULT_API_URL = "https://slack.com/api/"

# Block Kit limits (api.slack.com/reference/block-kit): longer values are refused by Slack.
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_SECTION_TEXT = 3000
MAX_BUTTONS_PER_ACTIONS_BLOCK = 25
BUTTON_ACTION_PREFIX = "bridge_button_"

# "<@U0123ABC>" or "<@U0123ABC|name>": how Slack writes a mention inside message text.
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class SlackSettings:
    """The Slack channel's settings, read from the environment."""

    signing_secret: str
    bot_token: str
    api_url: str

    @classmethod
    def from_environment(cls) -> SlackSettings:
        return cls(
            signing_secret=os.environ[SIGNING_SECRET_ENV].strip(),
            bot_token=os.environ[BOT_TOKEN_ENV].strip(),
            api_url=os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL,
        )


def _truncated(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_blocks(text: str | None, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Block Kit blocks for a reply with buttons: the text as a section, the buttons as actions.

    Each Rasa button {"title", "payload"} becomes a button whose `value` is the payload, so a
    click sends the payload back as the customer's message. Titles longer than Slack allows
    are shortened; more than 25 buttons go into several actions blocks.
    """
    blocks: list[dict[str, Any]] = []
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _truncated(text, MAX_SECTION_TEXT)}})
    elements = []
    for index, button in enumerate(buttons):
        payload = str(button.get("payload") or button.get("title") or "")
        if len(payload) > MAX_BUTTON_VALUE:
            raise ValueError(
                f"A button payload has {len(payload)} characters; Slack allows {MAX_BUTTON_VALUE}. "
                f"Shorten the payload of button '{button.get('title')}' in the domain."
            )
        elements.append(
            {
                "type": "button",
                "text": {
                    "type": "plain_text",
                    "text": _truncated(str(button.get("title") or payload), MAX_BUTTON_TEXT),
                },
                "value": payload,
                "action_id": f"{BUTTON_ACTION_PREFIX}{index}",
            }
        )
    for start in range(0, len(elements), MAX_BUTTONS_PER_ACTIONS_BLOCK):
        blocks.append({"type": "actions", "elements": elements[start : start + MAX_BUTTONS_PER_ACTIONS_BLOCK]})
    return blocks


def customer_text(text: str) -> str:
    """The message text without mentions of the bot ("<@U0BOT> where is my order?")."""
    return MENTION.sub("", text).strip()


def locale_language(locale: str | None) -> str | None:
    """ISO 639-1 code of a Slack locale ("es-ES" -> "es"), or None."""
    if not isinstance(locale, str) or not locale.strip():
        return None
    return locale.strip().replace("_", "-").split("-")[0].lower()


class SlackEventsOutput(OutputChannel):
    """Sends the bot's replies into one Slack conversation, in the customer's thread."""

    @classmethod
    def name(cls) -> str:
        return "slack_events"

    def __init__(self, client: Any, channel: str, thread_ts: str | None) -> None:
        """:param client: a slack_sdk AsyncWebClient; :param channel: Slack channel id;
        :param thread_ts: the thread to answer in (the customer message's ts or thread_ts)."""
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts

    async def _post(self, **message: Any) -> None:
        await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post(text=text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._post(text=text, blocks=button_blocks(text, buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._post(text=image, blocks=[{"type": "image", "image_url": image, "alt_text": "image"}])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # A custom response is a chat.postMessage body written for Slack (blocks, attachments...).
        await self._post(**json_message)


class SlackPushOutput(SlackEventsOutput):
    """Messages pushed outside a turn (an agent's reply, the hand-back) go where the customer
    last wrote: the channel and thread of the user's latest Slack message, as a bot turn's
    replies do. `find_thread(sender_id)` reads them from the tracker; without one stored, the
    message goes to the user's id, which Slack delivers in the user's direct conversation."""

    def __init__(self, client: Any, find_thread: Callable[[str], Awaitable[tuple[str, str | None] | None]]) -> None:
        super().__init__(client, "", None)
        self.find_thread = find_thread

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.channel, self.thread_ts = await self.find_thread(recipient_id) or (recipient_id, None)
        await super().send_response(recipient_id, message)


def latest_slack_thread(tracker: Any) -> tuple[str, str | None] | None:
    """The channel and thread of the tracker's latest Slack message, or None."""
    for event in reversed(getattr(tracker, "events", None) or []):
        if isinstance(event, UserUttered) and event.input_channel == SlackEventsInput.name():
            slack = (event.metadata or {}).get("slack") or {}
            return (slack["channel"], slack.get("thread_ts")) if slack.get("channel") else None
    return None


class SlackEventsInput(PlatformWebhookInput):
    """Slack Events API webhook (see the module docstring)."""

    required_variables = (SIGNING_SECRET_ENV, BOT_TOKEN_ENV)

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def settings_from_environment(cls) -> SlackSettings:
        return SlackSettings.from_environment()

    def __init__(self, settings: SlackSettings | None, seen_events: SeenEvents | None, closed_reason: str = "") -> None:
        super().__init__(settings, seen_events, closed_reason)
        self._client: Any = None
        self._languages: dict[str, str | None] = {}
        self._background_tasks: set[asyncio.Task] = set()
        self._app: Any = None  # the Rasa server's Sanic app, set when the server starts

    @property
    def client(self) -> Any:
        """The Web API client, made on first use (never at import or start-up)."""
        if self._client is None:
            from slack_sdk.web.async_client import AsyncWebClient

            self._client = AsyncWebClient(token=self.settings.bot_token, base_url=self.settings.api_url)
        return self._client

    def is_signed_by_slack(self, request: Request) -> bool:
        """True when the request carries a valid, fresh v0 signature of the signing secret."""
        from slack_sdk.signature import SignatureVerifier

        return SignatureVerifier(self.settings.signing_secret).is_valid_request(request.body, dict(request.headers))

    async def customer_language(self, user_id: str) -> str | None:
        """The language of the user's Slack locale, asked once per user and process."""
        if user_id not in self._languages:
            from slack_sdk.errors import SlackApiError

            try:
                answer = await self.client.users_info(user=user_id, include_locale=True)
                self._languages[user_id] = locale_language((answer.get("user") or {}).get("locale"))
            except SlackApiError as error:
                # Without the users:read scope there is no locale; the text alone decides.
                logger.warning(
                    f"Slack users.info failed ({error.response.get('error')}); no language hint. "
                    f"Give the app the users:read scope to use the customer's locale."
                )
                self._languages[user_id] = None
        return self._languages[user_id]

    def _start_turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        user_id: str,
        channel: str,
        thread_ts: str | None,
        extra: dict[str, Any],
    ) -> None:
        async def turn() -> None:
            try:
                language = await self.customer_language(user_id)
                metadata = {"slack": {"channel": channel, "thread_ts": thread_ts, **extra}}
                if language:
                    metadata["language"] = language
                output = SlackEventsOutput(self.client, channel, thread_ts)
                await on_new_message(UserMessage(text, output, user_id, input_channel=self.name(), metadata=metadata))
            except Exception:
                # Slack was answered already; the server log is the only place left to report to.
                logger.exception(f"The Slack turn of user {user_id} in {channel} failed.")

        # Keep a reference: asyncio only keeps weak ones to running tasks.
        task = asyncio.create_task(turn())
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _event(
        self, body: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]], retry: str | None
    ) -> HTTPResponse:
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge")})
        if body.get("type") != "event_callback":
            return response.text("ignored: not an event callback")
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype"):
            return response.text("ignored: a bot message or a message change")
        is_direct = event.get("type") == "message" and event.get("channel_type") == "im"
        if not (is_direct or event.get("type") == "app_mention"):
            # Channel messages that do not mention the bot are not for it (a mention also
            # arrives as an app_mention, which is answered).
            return response.text("ignored: not a direct message or a mention")
        text = customer_text(str(event.get("text") or ""))
        user_id, channel = event.get("user"), event.get("channel")
        if not (text and user_id and channel):
            return response.text("ignored: no text, user or channel")
        event_id = str(body.get("event_id") or "")
        if not event_id:
            return response.text('The event has no "event_id".', status=HTTPStatus.BAD_REQUEST)
        refusal = self.over_rate_limit(user_id)  # before the id is seen, so Slack's retry can pass later
        if refusal:
            return refusal
        if not await asyncio.to_thread(self.seen_events.first_time, f"slack:{event_id}"):
            logger.info(f"Slack event {event_id} was already processed; copy (retry {retry}) dropped.")
            return response.text("already processed")
        thread_ts = event.get("thread_ts") or event.get("ts")
        try:
            text = checked_text(text)
        except MessageTextError as error:
            # Slack re-sends an event that gets an error status: the customer is told instead.
            await self._refuse(str(error), user_id, channel, thread_ts)
            return response.text(f"refused: {error}")
        self._start_turn(
            on_new_message, text, user_id, channel, thread_ts, {"event_id": event_id, "team": body.get("team_id")}
        )
        return response.text("")

    async def _refuse(self, reason: str, user_id: str, channel: str, thread_ts: str | None) -> None:
        """Answers a message the bot cannot take (too long, only control characters) with why."""
        from slack_sdk.errors import SlackApiError

        try:
            await SlackEventsOutput(self.client, channel, thread_ts).send_text_message(user_id, reason)
        except SlackApiError as error:
            logger.warning(f"Slack chat.postMessage of a refusal failed ({error.response.get('error')}).")

    async def _interaction(
        self, payload: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        if payload.get("type") != "block_actions":
            return response.text("ignored: not a button click")
        actions = [a for a in payload.get("actions") or [] if a.get("type") == "button" and a.get("value")]
        user_id = (payload.get("user") or {}).get("id")
        channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
        if not (actions and user_id and channel):
            return response.text("ignored: no button value, user or channel")
        message = payload.get("message") or {}
        thread_ts = message.get("thread_ts") or (payload.get("container") or {}).get("thread_ts") or message.get("ts")
        self._start_turn(
            on_new_message, actions[0]["value"], user_id, channel, thread_ts, {"action_id": actions[0].get("action_id")}
        )
        return response.text("")

    async def customer_thread(self, sender_id: str) -> tuple[str, str | None] | None:
        """Where the customer last wrote to the bot, read from the tracker store every replica
        shares (a push may reach another replica than the customer's last turn did)."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return None
        return latest_slack_thread(await agent.tracker_store.retrieve(sender_id))

    def get_output_channel(self) -> OutputChannel | None:
        """Where Rasa sends messages pushed through its HTTP API (`output_channel=latest`)."""
        return SlackPushOutput(self.client, self.customer_thread) if self.settings else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.settings is None:
            return closed_blueprint("slack_events", self.closed_reason)
        slack_webhook = Blueprint("slack_events_webhook", __name__)

        @slack_webhook.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self._app = app

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                request.body.decode("utf-8")  # Slack sends UTF-8; the signature check needs it too
            except UnicodeDecodeError:
                return response.text("The body is not UTF-8 text.", status=HTTPStatus.BAD_REQUEST)
            if not self.is_signed_by_slack(request):
                logger.warning("Refused a Slack webhook request without a valid, fresh signature.")
                return response.text(
                    "Not signed by Slack: X-Slack-Signature must be the v0 signature of this body with the app's "
                    "signing secret, and X-Slack-Request-Timestamp within 5 minutes of now.",
                    status=HTTPStatus.UNAUTHORIZED,
                )
            if request.content_type.startswith("application/x-www-form-urlencoded"):
                try:
                    payload = json.loads(request.form.get("payload") or "")
                except ValueError:
                    return response.text('The form has no JSON "payload".', status=HTTPStatus.BAD_REQUEST)
                return await self._interaction(payload, on_new_message)
            try:
                body = json.loads(request.body or b"")
            except ValueError:
                return response.text("The body is not JSON.", status=HTTPStatus.BAD_REQUEST)
            if not isinstance(body, dict):
                return response.text("The body is not a JSON object.", status=HTTPStatus.BAD_REQUEST)
            return await self._event(body, on_new_message, request.headers.get("X-Slack-Retry-Num"))

        return slack_webhook
