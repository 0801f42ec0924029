"""The action server waits for the request on a connection Rasa opened while it was busy.

Rasa opens a new connection for every custom action and, when its event loop is busy with
other customers' turns, writes the request seconds later. Sanic's default keep-alive timeout
(5 s) closed such a connection first, and the customer's turn failed with "Cannot write to
closing transport"; `bridge run` gives the action server Rasa's own wait (ACTION_SERVER_ENV).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from bot.serving.processes import ACTION_SERVER_ENV, BotStack, ServedProcess, free_port

# Longer than Sanic's default keep-alive timeout of 5 s.
SILENCE_S = 7.0


class ActionServerOnly(BotStack):
    """The demo project's action server as `bridge run` starts it, without the Rasa server."""

    def _commands(self) -> list[ServedProcess]:
        return [served for served in super()._commands() if served.name == "action server"]


def _answer_after_silence(port: int) -> bytes:
    """Opens a connection, says nothing for SILENCE_S, then asks for /health; returns the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        time.sleep(SILENCE_S)
        try:
            connection.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            return connection.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return b""


def _served(tmp_path: Path, env: dict[str, str]) -> ActionServerOnly:
    port = free_port()
    return ActionServerOnly(
        project_dir=Path.cwd(),
        model=Path("unused"),
        endpoints=Path.cwd() / "endpoints.yml",
        rasa_port=free_port(),
        action_port=port,
        chat_port=None,
        log_dir=tmp_path / "logs",
        env={"BRIDGE_SHOP_DB_URL": f"sqlite:///{tmp_path / 'shop.db'}", **env},
    )


@pytest.mark.integration
def test_a_connection_silent_for_seconds_still_gets_its_answer(tmp_path):
    stack = _served(tmp_path, {})
    stack.start()
    try:
        answer = _answer_after_silence(stack.action_port)
    finally:
        stack.stop()
    assert answer.startswith(b"HTTP/1.1 200"), answer


@pytest.mark.integration
def test_without_bridges_setting_sanic_closes_that_connection(tmp_path, monkeypatch):
    monkeypatch.setitem(ACTION_SERVER_ENV, "SANIC_KEEP_ALIVE_TIMEOUT", "5")  # Sanic's default
    stack = _served(tmp_path, {})
    stack.start()
    try:
        answer = _answer_after_silence(stack.action_port)
    finally:
        stack.stop()
    assert answer == b""
