"""`bridge run`'s stack starts the review console on the bot's own tracker store, and stops it with the rest."""

from __future__ import annotations

import re

import pytest
import requests

from bot.serving.processes import BotStack, free_port, port_is_taken
from tests.helpers.rasa_server import send
from tests.helpers.tiny_bot import GREETING

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ADMIN = {"BRIDGE_CONSOLE_ADMIN_EMAIL": "lead@example.com", "BRIDGE_CONSOLE_ADMIN_PASSWORD": "lead-password-1"}


def test_the_console_reads_what_the_bot_writes_and_stops_with_it(tiny_bot, tmp_path):
    stack = BotStack(
        tiny_bot,
        tiny_bot / "models" / "tiny.tar.gz",
        tiny_bot / "endpoints.yml",
        free_port(),
        free_port(),
        None,
        tmp_path / "logs",
        env=ADMIN,
        console_port=free_port(),
    )
    stack.start(timeout=180)
    try:
        assert send(stack, "stack-console-1", "hello") == [GREETING]
        console = requests.Session()
        login = console.get(f"{stack.console_url}login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        form = {"email": ADMIN["BRIDGE_CONSOLE_ADMIN_EMAIL"], "password": "lead-password-1", "csrf_token": token}
        assert console.post(f"{stack.console_url}login", data=form, timeout=10).status_code == 200
        listed = console.get(f"{stack.console_url}api/conversations", timeout=10).json()["conversations"]
        assert "stack-console-1" in [row["sender_id"] for row in listed]
    finally:
        stack.stop()
    assert not port_is_taken(stack.console_port)
