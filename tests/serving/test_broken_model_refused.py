"""A real Rasa server on a model whose encoder folder is broken does not come up as a bot.

Rasa itself logs a model that fails to load and stays up without one (/status answers 409,
every message is ignored); `bridge run`'s stack treats that as a refusal: it stops the server,
frees the port and raises the component's own error, which names the folder and the fix.
A tiny bot (tests/serving/tiny_bot.py) is trained once by a real `rasa train`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.serving.processes import BotStack, ServerRefusedError, free_port, port_is_taken
from tests.helpers.tiny_bot import GREETING

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def stack_of(project: Path) -> BotStack:
    return BotStack(
        project,
        project / "models" / "tiny.tar.gz",
        project / "endpoints.yml",
        free_port(),
        free_port(),
        None,
        project / "logs",
    )


def test_an_intact_model_serves(tiny_bot):
    stack = stack_of(tiny_bot)
    stack.start(timeout=180)
    try:
        from tests.helpers.rasa_server import send

        assert send(stack, "intact", "hello") == [GREETING]
    finally:
        stack.stop()


@pytest.mark.parametrize("damage", ["missing", "truncated weights", "another encoder"])
def test_a_broken_encoder_folder_stops_the_server_with_its_name_and_the_fix(tiny_bot, damage, tmp_path):
    encoder = tiny_bot / "encoder"
    backup = tmp_path / "encoder"
    shutil.copytree(encoder, backup)
    if damage == "missing":
        shutil.rmtree(encoder)
        expected = rf"EncoderNotFoundError: No encoder model in '{encoder}'.*`bridge models`"
    elif damage == "truncated weights":
        weights = encoder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
        expected = rf"EncoderLoadError: The encoder in '{encoder}' cannot be loaded.*`bridge models`"
    else:
        (encoder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": "another-encoder"}))
        expected = rf"EncoderMismatchError: .*'{encoder}' holds 'another-encoder'.*Retrain with `rasa train`"
    stack = stack_of(tiny_bot)
    try:
        with pytest.raises(ServerRefusedError, match=expected):
            stack.start(timeout=180)
        assert not port_is_taken(stack.rasa_port)
        assert all(served.process.poll() is not None for served in stack.processes)
    finally:
        stack.stop()
        shutil.rmtree(encoder, ignore_errors=True)
        shutil.copytree(backup, encoder)
