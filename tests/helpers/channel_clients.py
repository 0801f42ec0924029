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
