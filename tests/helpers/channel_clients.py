"""Clients of the Rasa server's public channels as customers' software talks to them."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any


class SocketIOCustomer:
    """A browser's socket.io connection to the widget's events (python-socketio's client)."""

    def __init__(self, url: str) -> None:
        import socketio

        self.events: list[tuple[str, Any]] = []
        self.arrived = threading.Event()
        self.client = socketio.Client(reconnection=False)
        for name in ("bot_uttered", "bridge_error", "session_confirm"):
            self.client.on(name, self._recorder(name))
        self.client.connect(url, transports=["websocket"], wait_timeout=30)
        self.session_id = uuid.uuid4().hex
        self.client.emit("session_request", {"session_id": self.session_id})
        self.wait_for("session_confirm")

    def _recorder(self, name: str):
        def record(data: Any = None) -> None:
            self.events.append((name, data))
            self.arrived.set()

        return record

    def wait_for(self, *names: str, timeout: float = 120.0) -> tuple[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event[0] in names:
                    return event
            self.arrived.wait(0.2)
            self.arrived.clear()
        return None

    def say(self, message: str, language: str | None = None) -> None:
        """Sends a customer's message, with the widget's language hint when given."""
        payload: dict[str, Any] = {"message": message, "session_id": self.session_id}
        if language:
            payload["customData"] = {"language": language}
        self.client.emit("user_uttered", payload)

    def bot_texts(self) -> list[str]:
        """The texts of the bot's messages pushed to this socket so far."""
        return [data["text"] for name, data in self.events if name == "bot_uttered" and "text" in data]

    def wait_for_texts(self, count: int, timeout: float = 90, settle: float = 0.0) -> list[str]:
        """The bot's texts once there are `count` (or at the timeout), after `settle` seconds
        more, so that a copy arriving late is counted too."""
        deadline = time.monotonic() + timeout
        while len(self.bot_texts()) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(settle)
        return self.bot_texts()

    def close(self) -> None:
        self.client.disconnect()


def post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """POSTs `body` as JSON; the status, the body and the headers of the answer."""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)
