"""Channel secrets from the environment, and the closed channel that stands in when one is unset.

`PlatformWebhookInput` is the base of the Slack and Telegram channels: it reads their settings
from the environment, or stays closed, and gives them the store of deliveries already seen and
their per-sender rate limit (bot/channels/rate_limit.py).

Secrets never come from credentials.yml (a committed file): each channel reads its own from
the environment when the Rasa server starts. A channel missing one is not opened: start-up
logs one line naming the variables to set, and the channel's routes are only a status page
saying the same, so a webhook pointed at it gets a 404 rather than a bot that cannot answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rate_limit import RateLimit, TooManyMessages, too_many_response
from bot.channels.seen_events import SeenEvents, seen_events_from_endpoints

logger = logging.getLogger(__name__)

# Names the endpoints file the channels read their stores from (as the translation memory API does).
ENDPOINTS_ENV = "BRIDGE_ENDPOINTS"


def missing_variables(names: Sequence[str]) -> list[str]:
    """The variables among `names` that are unset or blank."""
    return [name for name in names if not os.environ.get(name, "").strip()]


def endpoints_path(credentials: dict[str, Any] | None) -> Path:
    """The endpoints file: $BRIDGE_ENDPOINTS, else credentials' `endpoints`, else endpoints.yml."""
    return Path(os.environ.get(ENDPOINTS_ENV) or (credentials or {}).get("endpoints") or "endpoints.yml")


def announce_closed(channel: str, missing: Sequence[str]) -> str:
    """Logs (once, at start-up) why `channel` is not opened; returns the sentence."""
    reason = (
        f"Channel '{channel}' is not opened: set {' and '.join(missing)} in the environment "
        f"and restart the server to open it."
    )
    logger.warning(reason)
    return reason


def closed_blueprint(name: str, reason: str) -> Blueprint:
    """A blueprint with only a status route that says why the channel is closed."""
    blueprint = Blueprint(f"{name}_closed", __name__)

    @blueprint.route("/", methods=["GET"])
    async def status(_: Request) -> HTTPResponse:
        return response.json({"status": "closed", "reason": reason}, status=503)

    return blueprint


class PlatformWebhookInput(InputChannel):
    """A webhook channel of a messaging platform, opened only when its secrets are set.

    Subclasses name their `required_variables` and build their settings object in
    `settings_from_environment`; a closed channel has `settings` None and serves
    `closed_blueprint` instead of its webhook.
    """

    required_variables: Sequence[str] = ()

    @classmethod
    def settings_from_environment(cls) -> Any:
        raise NotImplementedError

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PlatformWebhookInput:
        missing = missing_variables(cls.required_variables)
        if missing:
            return cls(None, None, closed_reason=announce_closed(cls.name(), missing))
        channel = cls(cls.settings_from_environment(), seen_events_from_endpoints(endpoints_path(credentials)))
        channel.rate_limit = RateLimit.from_credentials(cls.name(), credentials, endpoints_path(credentials))
        return channel

    def __init__(self, settings: Any, seen_events: SeenEvents | None, closed_reason: str = "") -> None:
        """:param settings: the channel's settings, None when closed; :param seen_events: where
        processed deliveries are remembered; :param closed_reason: why the channel is closed."""
        self.settings = settings
        self.seen_events = seen_events
        self.closed_reason = closed_reason
        self.rate_limit = RateLimit(self.name())  # from_credentials sets the configured one

    def over_rate_limit(self, sender: Any) -> HTTPResponse | None:
        """The 429 (with Retry-After) for a sender over the rate limit, else None."""
        try:
            self.rate_limit.check(sender)
        except TooManyMessages as error:
            return too_many_response(error)
        return None
