"""Starts, health-checks and stops the processes that serve a Bridge bot on loopback.

`bridge run` and the integration tests use the same code, so what the tests start is what a
user runs: a real Rasa server (REST + socket.io), a real rasa-sdk action server, the
chat page and the support team's review console. The action server runs only for a project
with custom actions (an `actions` package, see bot/project.py). However `bridge run` ends
(Ctrl-C, SIGTERM, SIGKILL, a crash), its children end with it and free their ports: `stop`
on the way out, the kernel's parent-death signal when there is no way out.
"""

from __future__ import annotations

import os
import re
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

# A Python traceback's closing line: "package.module.SomeError: what happened".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")
# "The above exception was the direct cause ..." / "During handling of the above exception, ..."
CHAINED_TRACEBACK = "above exception"
# The action server's environment. Rasa opens a new connection for every custom action, and
# its event loop can be busy with other customers' turns for seconds before it writes the
# request on it; the action server (Sanic) closes a connection that has sent nothing for its
# keep-alive timeout (5 s by default), and Rasa then fails the action with "Cannot write to
# closing transport". So the action server waits as long as Rasa waits for its answer
# (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT). Sanic reads SANIC_* variables as its config.
ACTION_SERVER_ENV = {"SANIC_KEEP_ALIVE_TIMEOUT": "300"}


class ServerStartError(RuntimeError):
    """A part of the bot could not start: its port is taken, or it exited or never answered."""


class ServerRefusedError(ServerStartError):
    """A served process came up but says it cannot serve (Rasa without a loadable model)."""


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def stop_with_parent(parent_pid: int):
    """A preexec_fn that makes the child get SIGTERM when its parent dies, however it dies.

    The children run in sessions of their own (so `stop` can end a whole process group), which
    a terminal's Ctrl-C does not reach; and a parent killed outright (SIGKILL, out of memory)
    runs no clean-up. Linux's parent-death signal covers both: the kernel sends it.
    """

    def set_parent_death_signal() -> None:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before the signal was set
            os.kill(os.getpid(), signal.SIGTERM)

    return set_parent_death_signal


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
    own_env: dict[str, str] = field(default_factory=dict)  # variables only this process gets

    def start(self, cwd: Path, env: dict[str, str]) -> None:
        """Starts the process in its own process group, logging to `log_path`; on Linux it is
        also told to stop when the process that started it dies (see `stop_with_parent`)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # The child writes through its own copy of the descriptor; ours is not needed after.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=cwd,
                env={**env, **self.own_env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=stop_with_parent(os.getpid()) if sys.platform.startswith("linux") else None,
            )

    # An HTTP status of `ready_url` that means "up, but will never serve" (Rasa's /status
    # answers 409 when the model failed to load: Rasa logs the error and stays up without one).
    refusal_status: int | None = None

    def is_ready(self) -> bool:
        """True once `ready_url` answers 200; raises ServerRefusedError on `refusal_status`."""
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as error:
            if error.code == self.refusal_status:
                raise ServerRefusedError(
                    f"The {self.name} started but cannot serve: {self.refusal_reason()} (the full log: {self.log_path})"
                ) from error
            return False
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def refusal_reason(self) -> str:
        """Why, from the log's last traceback (Rasa's own lines say only "Could not load model"
        and "Error initializing graph component")."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "see its log"
        # A chained traceback prints the cause first; its first part follows no chaining line.
        starts = [
            i
            for i, line in enumerate(lines)
            if line.startswith("Traceback (most recent call last)")
            and not any(CHAINED_TRACEBACK in earlier for earlier in lines[max(0, i - 2) : i])
        ]
        errors = [line for line in lines[starts[-1] if starts else 0 :] if EXCEPTION_LINE.match(line)]
        # The last error before Rasa's own wrappers is the component's, which names the fix.
        own = [line for line in errors if not line.startswith("rasa.")]
        return (own or errors or ["see its log"])[-1]

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


def console_process(
    endpoints: Path, port: int, log_dir: Path, rasa_url: str | None = None, rasa_token: str | None = None
) -> ServedProcess:
    """The review console (`bridge console`) on 127.0.0.1:`port`.

    It reads the same endpoints file as the Rasa server: its tracker store and its translation
    memory are the ones the bot writes. Given the Rasa server's URL and API token, agents can
    take conversations over from it (docs/handoff.md).
    """
    own_env = {"BRIDGE_RASA_URLS": rasa_url, "BRIDGE_RASA_TOKEN": rasa_token} if rasa_url and rasa_token else {}
    return ServedProcess(
        "review console",
        [sys.executable, "-m", "bot.cli.main", "console", "--port", str(port), "--endpoints", str(endpoints)],
        f"http://127.0.0.1:{port}/login",
        log_dir / "console.log",
        own_env=own_env,
    )


@dataclass
class BotStack:
    """The Rasa server, the action server, the chat page and the review console of one bot.

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
    credentials: Path | None = None  # the project's credentials.yml when None
    console_port: int | None = None  # the review console (`bridge console`) is started when set
    rasa_token: str | None = None  # the HTTP API's token (`rasa run --auth-token`); no token when None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def chat_url(self) -> str | None:
        return f"http://127.0.0.1:{self.chat_port}/" if self.chat_port else None

    @property
    def console_url(self) -> str | None:
        return f"http://127.0.0.1:{self.console_port}/" if self.console_port else None

    @classmethod
    def for_project(
        cls,
        project_dir: Path,
        model: Path,
        rasa_port: int = 5005,
        action_port: int = 5055,
        chat_port: int | None = 8080,
        env: dict[str, str] | None = None,
        console_port: int | None = 8090,
        rasa_token: str | None = None,
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
            console_port=console_port,
            rasa_token=rasa_token,
        )

    @classmethod
    def on_free_port(
        cls,
        project_dir: Path,
        model: Path,
        endpoints: Path,
        action_port: int,
        log_dir: Path,
        env: dict[str, str],
        rasa_token: str | None = None,
    ) -> BotStack:
        """A Rasa server on a free loopback port and its action server on `action_port`, with
        no chat page or console: what tests and benchmarks start beside each other."""
        return cls(
            project_dir=Path(project_dir),
            model=Path(model),
            endpoints=Path(endpoints),
            rasa_port=free_port(),
            action_port=action_port,
            chat_port=None,
            log_dir=Path(log_dir),
            env=dict(env),
            rasa_token=rasa_token,
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
                    own_env=dict(ACTION_SERVER_ENV),
                )
            )
        served.append(
            ServedProcess(
                "rasa server",
                [
                    python,
                    "-m",
                    "bot.serving.rasa_server",
                    "run",
                    "--model",
                    str(self.model),
                    "--endpoints",
                    str(self.endpoints),
                    "--credentials",
                    str(self.credentials or self.project_dir / "credentials.yml"),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(self.rasa_port),
                    "--enable-api",
                    "--cors",
                    "*",
                    *(["--auth-token", self.rasa_token] if self.rasa_token else []),
                ],
                # With a token, /status needs it too.
                f"{self.rasa_url}/status" + (f"?token={self.rasa_token}" if self.rasa_token else ""),
                self.log_dir / "rasa.log",
                refusal_status=409,
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
        if self.console_port:
            served.append(
                console_process(self.endpoints, self.console_port, self.log_dir, self.rasa_url, self.rasa_token)
            )
        return served

    def start(self, timeout: float = 300.0) -> None:
        """Starts every part and waits until all answer; on failure stops them and says why."""
        ports = (self.rasa_port, self.action_port if self.serves_actions else None, self.chat_port, self.console_port)
        taken = [port for port in ports if port and port_is_taken(port)]
        if taken:
            raise ServerStartError(
                f"Port(s) {taken} on 127.0.0.1 are already in use (is another `bridge run` still "
                f"running?). Stop that process or choose other ports."
            )
        env = project_environment(self.project_dir, self.env)
        self.processes = self._commands()
        for served in self.processes:
            served.start(self.project_dir, env)
        deadline = time.monotonic() + timeout
        for served in self.processes:
            while not self._answers(served):
                if served.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ServerStartError(
                        f"The {served.name} did not start (exit code {served.process.poll()}); "
                        f"see {served.log_path} for why."
                    )
                time.sleep(0.5)

    def _answers(self, served: ServedProcess) -> bool:
        """Whether `served` is ready; a part that refuses to serve stops the whole stack."""
        try:
            return served.is_ready()
        except ServerRefusedError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stops every part that is running."""
        for served in reversed(self.processes):
            served.stop()
