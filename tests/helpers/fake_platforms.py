"""Fake Slack Web API and Telegram Bot API servers on loopback that record every call.

They answer the few methods Bridge calls the way the real APIs do ({"ok": true, ...}), so the
real channel code, its real HTTP clients and a real Rasa server run end to end.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.serving.processes import free_port


@dataclass
class ApiCall:
    """One recorded request: the API method, its parameters and the Authorization header."""

    method: str
    params: dict[str, Any]
    authorization: str


@dataclass
class FakeApi:
    """A recording HTTP server; `answer(method, params)` gives each call's JSON result."""

    answer: Callable[[str, dict[str, Any]], dict[str, Any]]
    method_from_path: Callable[[str], str]
    calls: list[ApiCall] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                path, _, query = self.path.partition("?")
                params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if body and "json" in (self.headers.get("Content-Type") or ""):
                    params.update(json.loads(body))
                elif body:
                    params.update(urllib.parse.parse_qsl(body.decode()))
                method = fake.method_from_path(path)
                fake.calls.append(ApiCall(method, params, self.headers.get("Authorization") or ""))
                reply = json.dumps(fake.answer(method, params)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls_to(self, method: str, **matching: Any) -> list[ApiCall]:
        """Calls of `method` whose parameters include `matching`."""
        return [
            call
            for call in self.calls
            if call.method == method and all(str(call.params.get(k)) == str(v) for k, v in matching.items())
        ]

    def wait_for(self, method: str, timeout: float = 90.0, **matching: Any) -> list[ApiCall]:
        """Waits until at least one matching call came in; returns them (empty after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method, **matching)
            if found:
                return found
            time.sleep(0.2)
        return []


def fake_slack(locales: dict[str, str]) -> FakeApi:
    """Slack's Web API: chat.postMessage and users.info (with each user's locale)."""

    def answer(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "users.info":
            user = params.get("user")
            return {"ok": True, "user": {"id": user, "name": f"name-{user}", "locale": locales.get(user, "en-US")}}
        if method == "chat.postMessage":
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": f"{time.time():.6f}",
                "message": {"text": params.get("text"), "thread_ts": params.get("thread_ts")},
            }
        return {"ok": False, "error": "unknown_method"}

    return FakeApi(answer, lambda path: path.rstrip("/").rsplit("/", 1)[-1])


def fake_telegram() -> FakeApi:
    """Telegram's Bot API under /bot<token>/<method>: sendMessage, answerCallbackQuery, setWebhook."""
    counter = iter(range(1, 1_000_000))

    def answer(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "sendMessage":
            return {
                "ok": True,
                "result": {
                    "message_id": next(counter),
                    "chat": {"id": params.get("chat_id")},
                    "date": int(time.time()),
                    "text": params.get("text"),
                },
            }
        if method in ("answerCallbackQuery", "setWebhook"):
            return {"ok": True, "result": True}
        return {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    return FakeApi(answer, lambda path: path.rstrip("/").rsplit("/", 1)[-1])
