"""The hand-off's processes for tests: a real Rasa server (HTTP API with a token), the action
server, the chat page, the Slack/Telegram fakes, a REST callback receiver and the console in a
process of its own; and an agent's logged-in client of the console's API."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bot.serving.processes import BotStack, ServedProcess, free_port, write_endpoints
from tests.channels.conftest import platform_env
from tests.conftest import PROJECT_DIR
from tests.helpers.fake_platforms import FakeApi, fake_slack, fake_telegram

RASA_TOKEN = "test-rasa-token"
SLACK_CUSTOMER = "UPORTUGUES"  # a Slack user whose locale is Brazilian Portuguese
ADMIN = ("admin@handoff.example", "admin-password-1")
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


class CallbackReceiver:
    """A REST customer's callback URL: records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@dataclass
class HandoffStack:
    """Everything a hand-off test talks to."""

    bot: BotStack
    console: ServedProcess
    console_port: int
    slack: FakeApi
    telegram: FakeApi
    callback: CallbackReceiver
    tracker_db: Path
    queue_url: str
    extra: list[Any] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return self.bot.rasa_url

    @property
    def rasa_token(self) -> str | None:
        return self.bot.rasa_token

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def agent(self, email: str, language: str) -> ConsoleAgent:
        """A new agent reading `language`, created by the admin and logged in."""
        admin = ConsoleAgent(self.console_url, *ADMIN)
        created = admin.session.post(
            f"{self.console_url}/api/agents",
            json={"email": email, "password": "agent-password-1", "role": "agent", "language": language},
            headers=admin.headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        return ConsoleAgent(self.console_url, email, "agent-password-1")

    def stop(self) -> None:
        self.console.stop()
        self.bot.stop()
        self.slack.stop()
        self.telegram.stop()
        self.callback.stop()


def start_handoff_stack(model: Path, work: Path, env: dict[str, str] | None = None) -> HandoffStack:
    """Starts the bot (SQLite tracker store) and the console on free loopback ports."""
    slack, telegram, callback = (
        fake_slack({SLACK_CUSTOMER: "pt-BR"}).start(),
        fake_telegram().start(),
        CallbackReceiver(),
    )
    action_port, tracker_db = free_port(), work / "tracker.db"
    endpoints = write_endpoints(PROJECT_DIR / "endpoints.yml", work / "endpoints.yml", action_port, tracker_db)
    queue_url = f"sqlite:///{work / 'handoff.db'}"
    shared = {"BRIDGE_HANDOFF_DB_URL": queue_url, "BRIDGE_HANDOFF_CLAIM_MINUTES": "60", **(env or {})}
    bot = BotStack(
        project_dir=PROJECT_DIR,
        model=model,
        endpoints=endpoints,
        rasa_port=free_port(),
        action_port=action_port,
        chat_port=free_port(),
        log_dir=work / "logs",
        env={"BRIDGE_SHOP_DB_URL": f"sqlite:///{work / 'shop.db'}", **shared, **platform_env(slack, telegram)},
        rasa_token=RASA_TOKEN,
    )
    bot.start()
    console_port = free_port()
    console = start_console(work, console_port, f"sqlite:///{tracker_db}", [bot.rasa_url], shared, callback.url)
    return HandoffStack(bot, console, console_port, slack, telegram, callback, tracker_db, queue_url)


def start_console(
    work: Path, port: int, tracker_url: str, rasa_urls: list[str], env: dict[str, str], callback_url: str = ""
) -> ServedProcess:
    """`bridge console` in its own process, pointed at the tracker store and the Rasa servers."""
    import sys

    from bot.project import project_environment

    console = ServedProcess(
        f"console:{port}",
        [sys.executable, "-m", "bot.cli.main", "console", "--port", str(port)],
        f"http://127.0.0.1:{port}/login",
        work / "logs" / f"console-{port}.log",
    )
    console_env = {
        "BRIDGE_CONSOLE_TRACKER_URL": tracker_url,
        "BRIDGE_CONSOLE_DATABASE_URL": f"sqlite:///{work / 'console.db'}",
        "BRIDGE_CONSOLE_SECRET": "test-console-secret",
        "BRIDGE_CONSOLE_ADMIN_EMAIL": ADMIN[0],
        "BRIDGE_CONSOLE_ADMIN_PASSWORD": ADMIN[1],
        "BRIDGE_RASA_URLS": ",".join(rasa_urls),
        "BRIDGE_RASA_TOKEN": RASA_TOKEN,
        "BRIDGE_HANDOFF_REST_CALLBACK_URL": callback_url,
        **env,
    }
    console.start(PROJECT_DIR, project_environment(PROJECT_DIR, console_env))
    deadline = time.monotonic() + 180
    while not console.is_ready():
        if console.process.poll() is not None or time.monotonic() > deadline:
            console.stop()
            raise RuntimeError(f"The console did not start; see {console.log_path}")
        time.sleep(0.5)
    return console


class ConsoleAgent:
    """An agent logged in to the console, using its JSON API as the agent's page does."""

    def __init__(self, console_url: str, email: str, password: str) -> None:
        self.url = console_url
        self.email = email
        self.session = requests.Session()
        login_page = self.session.get(f"{console_url}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        answer = self.session.post(
            f"{console_url}/login",
            data={"email": email, "password": password, "csrf_token": token, "next": "/handoffs"},
            timeout=30,
        )
        assert answer.ok and "/login" not in answer.url, f"login of {email} failed: {answer.status_code}"
        self.csrf = CSRF_META.search(answer.text).group(1)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.session.post(f"{self.url}{path}", json=body or {}, headers=self.headers, timeout=180)

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.url}{path}", timeout=60)

    def waiting_ticket(self, sender_id: str, timeout: float = 60) -> dict[str, Any]:
        """The queue row of `sender_id`'s conversation, once it appears."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ticket in self.get("/api/handoffs").json()["tickets"]:
                if ticket["sender_id"] == sender_id:
                    return ticket
            time.sleep(0.3)
        raise AssertionError(f"{sender_id} never appeared in the hand-off queue")

    def messages(self, ticket_id: int, after: int = 0) -> list[dict[str, Any]]:
        return self.get(f"/api/handoffs/{ticket_id}/messages?after={after}").json()["messages"]

    def wait_for_message(self, ticket_id: int, kind: str, text: str, timeout: float = 60) -> dict[str, Any]:
        """The first message of `kind` whose text is `text`, once the console shows it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages(ticket_id):
                if message["kind"] == kind and message["text"] == text:
                    return message
            time.sleep(0.3)
        raise AssertionError(f"no {kind} message {text!r} in ticket {ticket_id}: {self.messages(ticket_id)}")
