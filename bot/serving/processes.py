"""Starts, health-checks and stops the processes that serve a Bridge bot on loopback.

`bridge run` and the integration tests use the same code, so what the tests start is what a
user runs: a real Rasa server (REST + socket.io), a real rasa-sdk action server and the
chat page. The action server runs only for a project with custom actions (an `actions`
package, see bot/project.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.project import ACTIONS_PACKAGE, has_actions, project_environment


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_taken(port: int) -> bool:
    """True when something already listens on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def write_endpoints(base: Path, target: Path, action_port: int, tracker_db: Path) -> Path:
    """Copies endpoints.yml with another action server port and SQLite tracker file."""
    endpoints = yaml.safe_load(base.read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(tracker_db)}
    target.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return target


@dataclass
class ServedProcess:
    """One child process with the URL that tells when it is ready."""

    name: str
    command: list[str]
    ready_url: str
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self, cwd: Path, env: dict[str, str]) -> None:
        """Starts the process in its own process group, logging to `log_path`."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self) -> None:
        """Stops the process group: SIGTERM, then SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class BotStack:
    """The Rasa server, the action server and the chat page of one bot.

    Example:
        >>> stack = BotStack.for_project(Path("."), model=Path("models/bridge-demo-shop.tar.gz"))
        >>> stack.start()      # waits until every part answers
        >>> stack.rasa_url
        'http://127.0.0.1:5005'
        >>> stack.stop()
    """

    project_dir: Path
    model: Path
    endpoints: Path
    rasa_port: int
    action_port: int
    chat_port: int | None
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[ServedProcess] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def chat_url(self) -> str | None:
        return f"http://127.0.0.1:{self.chat_port}/" if self.chat_port else None

    @classmethod
    def for_project(
        cls,
        project_dir: Path,
        model: Path,
        rasa_port: int = 5005,
        action_port: int = 5055,
        chat_port: int | None = 8080,
        env: dict[str, str] | None = None,
    ) -> BotStack:
        """The stack of the project in `project_dir` with its own endpoints.yml, logging to var/logs."""
        project_dir = Path(project_dir)
        return cls(
            project_dir=project_dir,
            model=Path(model),
            endpoints=project_dir / "endpoints.yml",
            rasa_port=rasa_port,
            action_port=action_port,
            chat_port=chat_port,
            log_dir=project_dir / "var" / "logs",
            env=dict(env or {}),
        )

    @property
    def serves_actions(self) -> bool:
        """True when the project has custom actions, so an action server is started."""
        return has_actions(self.project_dir)

    def _commands(self) -> list[ServedProcess]:
        python = sys.executable
        served = []
        if self.serves_actions:
            served.append(
                ServedProcess(
                    "action server",
                    [python, "-m", "rasa_sdk", "--actions", ACTIONS_PACKAGE, "--port", str(self.action_port)],
                    f"http://127.0.0.1:{self.action_port}/health",
                    self.log_dir / "actions.log",
                )
            )
        served.append(
            ServedProcess(
                "rasa server",
                [
                    python,
                    "-m",
                    "rasa",
                    "run",
                    "--model",
                    str(self.model),
                    "--endpoints",
                    str(self.endpoints),
                    "--credentials",
                    str(self.project_dir / "credentials.yml"),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(self.rasa_port),
                    "--enable-api",
                    "--cors",
                    "*",
                ],
                f"{self.rasa_url}/status",
                self.log_dir / "rasa.log",
            )
        )
        if self.chat_port:
            served.append(
                ServedProcess(
                    "chat page",
                    [python, "-m", "bot.web.chat_page", "--port", str(self.chat_port), "--rasa-url", self.rasa_url],
                    f"http://127.0.0.1:{self.chat_port}/",
                    self.log_dir / "chat_page.log",
                )
            )
        return served

    def start(self, timeout: float = 300.0) -> None:
        """Starts every part and waits until all answer; on failure stops them and says why."""
        ports = (self.rasa_port, self.action_port if self.serves_actions else None, self.chat_port)
        taken = [port for port in ports if port and port_is_taken(port)]
        if taken:
            raise RuntimeError(
                f"Port(s) {taken} on 127.0.0.1 are already in use (is another `bridge run` still "
                f"running?). Stop that process or choose other ports."
            )
        env = project_environment(self.project_dir, self.env)
        self.processes = self._commands()
        for served in self.processes:
            served.start(self.project_dir, env)
        deadline = time.monotonic() + timeout
        for served in self.processes:
            while not served.is_ready():
                if served.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"The {served.name} did not start (exit code {served.process.poll()}); "
                        f"see {served.log_path} for why."
                    )
                time.sleep(0.5)

    def stop(self) -> None:
        """Stops every part that is running."""
        for served in reversed(self.processes):
            served.stop()
