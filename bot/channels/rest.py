"""The REST channel with input checks: a bad request gets a 400 that says what to fix.

Rasa's own REST channel passes empty, oversized or malformed bodies on to the bot (or fails
with a 500). This channel keeps Rasa's URL (/webhooks/rest/webhook) and response format and
refuses, before anything is processed or stored:
- a body that is not a JSON object;
- a missing or empty `sender`, or one longer than 255 characters;
- a `message` that is missing, not text, blank, or longer than MAX_MESSAGE_CHARS;
- `metadata` that is not an object.

credentials.yml:

    bot.channels.rest.BridgeRestInput:
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

MAX_MESSAGE_CHARS = 2000
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

    async def _extract_sender(self, req: Request) -> str | None:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage('"sender" is missing or empty: send the conversation id as a non-empty string.')
        if len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage(f'"sender" has {len(sender)} characters; at most {MAX_SENDER_CHARS} are allowed.')
        return sender

    def _extract_message(self, req: Request) -> str | None:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" is missing or not text: send the customer\'s message as a string.')
        if not message.strip():
            raise InvalidUsage('"message" is empty: there is nothing to answer. Send the customer\'s text.')
        if len(message) > MAX_MESSAGE_CHARS:
            raise InvalidUsage(
                f'"message" has {len(message)} characters; at most {MAX_MESSAGE_CHARS} are allowed. '
                f"Split it into shorter messages."
            )
        return message

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage('"metadata" must be a JSON object, e.g. {"language": "de"}.')
        return metadata
