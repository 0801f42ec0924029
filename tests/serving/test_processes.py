"""BotStack refuses busy ports up front, with a message naming them."""

import socket
from pathlib import Path

import pytest

from bot.serving.processes import ACTION_SERVER_ENV, BotStack, ServerStartError, free_port, port_is_taken


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


def test_rasa_api_runs_behind_the_token_and_only_the_console_is_given_it(tmp_path):
    stack = BotStack.for_project(Path.cwd(), tmp_path / "model.tar.gz", rasa_token="t0ken", chat_port=None)
    served = {p.name: p for p in stack._commands()}
    rasa = served["rasa server"].command
    assert rasa[rasa.index("--auth-token") + 1] == "t0ken" and "token=t0ken" in served["rasa server"].ready_url
    assert served["review console"].own_env == {"BRIDGE_RASA_URLS": stack.rasa_url, "BRIDGE_RASA_TOKEN": "t0ken"}
    assert served["action server"].own_env == ACTION_SERVER_ENV
