"""BotStack refuses busy ports up front, with a message naming them."""

import socket
from pathlib import Path

import pytest

from bot.serving.processes import BotStack, ServerStartError, free_port, port_is_taken


def test_busy_port_is_reported_before_anything_starts(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        assert port_is_taken(busy)
        stack = BotStack(Path("."), Path("model.tar.gz"), Path("endpoints.yml"), busy, free_port(), None, tmp_path)
        with pytest.raises(ServerStartError, match=f"{busy}.*already in use"):
            stack.start()
        assert stack.processes == []
