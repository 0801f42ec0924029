"""`bridge console add-agent` and `bridge console` serving on a real port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.review.accounts import authenticate
from bot.review.database import create_engine

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_add_agent_creates_an_agent_who_can_log_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("BRIDGE_CONSOLE_TRACKER_URL", url)
    monkeypatch.setenv("BRIDGE_CONSOLE_AGENT_PASSWORD", "cli-password-1")
    main(["console", "add-agent", "Ana@Example.com", "--role", "admin", "--language", "pt"])
    assert "admin ana@example.com (pt) can now log in" in capsys.readouterr().out
    agent = authenticate(create_engine(url), "ana@example.com", "cli-password-1", client="cli-test")
    assert agent is not None and (agent.role, agent.language) == ("admin", "pt")
    with pytest.raises(SystemExit, match="already exists"):
        main(["console", "add-agent", "ana@example.com"])
    with pytest.raises(SystemExit, match="ISO 639-1"):
        main(["console", "add-agent", "bo@example.com", "--language", "portuguese"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bridge_console_serves_the_login_page_and_guards_the_api(tmp_path: Path):
    port = _free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_DIR),
        "BRIDGE_CONSOLE_TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "BRIDGE_CONSOLE_SECRET": "serve-test-secret-0123456789",
    }
    command = [sys.executable, "-m", "bot.cli.main", "console", "--port", str(port)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    assert response.status == 200 and "Log in" in response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "the console did not start within 60 s"
                time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/conversations", timeout=2)
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
