"""The console's client of Rasa's HTTP API: the only way it changes a conversation.

Every change goes through the Rasa server that owns the conversation's lock (Rasa's endpoints
take the lock store's lock), so the console never writes the tracker store behind Rasa's back.
With several replicas the URLs are tried in order and the next one is used when a server does
not answer (it is restarting); a server that answers with an error is not retried, so nothing
is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 120  # an agent's message may wait for a translation model on a cold server


class RasaUnavailable(RuntimeError):
    """No Rasa server answered, or one refused the request; the message says which and why."""


class RasaConversations:
    """Appends events to and runs actions in conversations, through any of the Rasa replicas.

    Example:
        rasa = RasaConversations(["http://127.0.0.1:5005"], token="...")
        rasa.append_events("abc", [{"event": "resume"}])
    """

    def __init__(self, urls: Sequence[str], token: str | None = None, session: requests.Session | None = None) -> None:
        if not urls:
            raise ValueError("RasaConversations needs at least one Rasa server URL (BRIDGE_RASA_URLS).")
        self.urls = [url.rstrip("/") for url in urls]
        self.token = token
        self.session = session or requests.Session()

    def _post(self, path: str, body: Any, params: dict[str, str]) -> dict[str, Any]:
        params = {**params, **({"token": self.token} if self.token else {})}
        failures = []
        for url in self.urls:
            try:
                answer = self.session.post(f"{url}{path}", json=body, params=params, timeout=TIMEOUT_SECONDS)
            except requests.ConnectionError as error:
                failures.append(f"{url}: {error.__class__.__name__}")
                logger.info(f"Rasa server {url} did not answer; trying the next one.")
                continue
            if answer.status_code >= 400:
                raise RasaUnavailable(
                    f"Rasa server {url} refused {path}: HTTP {answer.status_code} {answer.text[:300]}"
                )
            return answer.json()
        raise RasaUnavailable(f"No Rasa server answered ({'; '.join(failures)}). Is `rasa run --enable-api` up?")

    def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Appends events to the conversation's tracker (POST /conversations/{id}/tracker/events)."""
        return self._post(
            f"/conversations/{quote(conversation_id, safe='')}/tracker/events",
            events,
            {"include_events": "NONE", "output_channel": "latest"},
        )

    def execute(self, conversation_id: str, action: str) -> dict[str, Any]:
        """Runs `action` now and sends what it says on the customer's latest channel; returns
        Rasa's answer, whose `messages` are those of channels without push (REST)."""
        return self._post(
            f"/conversations/{quote(conversation_id, safe='')}/execute",
            {"name": action},
            {"output_channel": "latest", "include_events": "NONE"},
        )
