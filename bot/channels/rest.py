"""The REST channel with input checks: a bad request gets a 400 that says what to fix.

Rasa's own REST channel passes empty, oversized or malformed bodies on to the bot (or fails
with a 500). This channel keeps Rasa's URL (/webhooks/rest/webhook) and response format and
refuses, before anything is processed or stored:
- a body that is not a JSON object;
- a missing or empty `sender`, or one longer than 255 characters;
- a `message` that is missing, not text, blank, or too long (bot/channels/message_text.py,
  which also removes control characters);
- `metadata` that is not an object;
- a sender over its rate limit (a 429 with Retry-After, see bot/channels/rate_limit.py).

credentials.yml:

    bot.channels.rest.BridgeRestInput:
      rate_limit: {messages: 30, per_seconds: 60}   # per sender; these are the defaults
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.environment import endpoints_path
from bot.channels.message_text import MessageTextError, checked_text
from bot.channels.rate_limit import RateLimit, TooManyMessages, too_many_response

MAX_SENDER_CHARS = 255


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception:  # sanic raises its own error type for unparsable JSON
        body = None
    if not isinstance(body, dict):
        raise InvalidUsage('The request body must be a JSON object like {"sender": "customer-1", "message": "Hello"}.')
    return body


class BridgeRestInput(RestInput):
    """Rasa's REST channel, with the request checked first (see module docstring)."""

    @classmethod
    def name(cls) -> str:
        """Same name, hence same URL, as Rasa's REST channel."""
        return "rest"

    def __init__(self, rate_limit: RateLimit | None = None) -> None:
        """:param rate_limit: the per-sender limit (bot/channels/rate_limit.py); its defaults when None."""
        self.rate_limit = rate_limit or RateLimit(self.name())

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> BridgeRestInput:
        return cls(RateLimit.from_credentials(cls.name(), credentials, endpoints_path(credentials)))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        # Rasa's error handler drops an exception's headers; the 429 needs its Retry-After.
        @webhook.exception(TooManyMessages)
        async def too_many(_: Request, error: TooManyMessages) -> HTTPResponse:
            return too_many_response(error)

        return webhook

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage('"sender" is missing or empty: send the conversation id as a non-empty string.')
        if len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f'"sender" has {len(sender)} characters; at most {MAX_SENDER_CHARS} are allowed.')
        self.rate_limit.check(sender)  # raises TooManyMessages: a 429 with Retry-After
        return sender

    def _extract_message(self, req: Request) -> str | None:
        try:
            return checked_text(_body(req).get("message"))
        except MessageTextError as error:
            raise InvalidUsage(f'"message": {error}') from error

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage('"metadata" must be a JSON object, e.g. {"language": "de"}.')
        return metadata
