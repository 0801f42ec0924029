"""Channel secrets from the environment, and the closed channel that stands in when one is unset.

Secrets never come from credentials.yml (a committed file): each channel reads its own from
the environment when the Rasa server starts. A channel missing one is not opened: start-up
logs one line naming the variables to set, and the channel's routes are only a status page
saying the same, so a webhook pointed at it gets a 404 rather than a bot that cannot answer.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

# Names the endpoints file the channels read their stores from (as the translation memory API does).
ENDPOINTS_ENV = "BRIDGE_ENDPOINTS"


def missing_variables(names: Sequence[str]) -> List[str]:
    """The variables among `names` that are unset or blank."""
    return [name for name in names if not os.environ.get(name, "").strip()]


def endpoints_path(credentials: Optional[Dict[str, Any]]) -> Path:
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
