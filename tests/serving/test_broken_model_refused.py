"""A real Rasa server on a model whose encoder folder is broken does not come up as a bot.

Rasa itself logs a model that fails to load and stays up without one (/status answers 409,
every message is ignored); `bridge run`'s stack treats that as a refusal: it stops the server,
frees the port and raises the component's own error, which names the folder and the fix.
A tiny bot (tests/helpers/tiny_encoder.py) is trained once by a real `rasa train`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.project import offline_environment
from bot.serving.processes import BotStack, ServerRefusedError, free_port, port_is_taken
from tests.helpers.tiny_encoder import INTENTS, build_tiny_encoder

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def tiny_bot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project dir with a tiny encoder, a FrozenEncoderIntentClassifier model trained on it,
    credentials for the REST channel and an endpoints.yml with a SQLite tracker store."""
    project = tmp_path_factory.mktemp("tiny-bot")
    build_tiny_encoder(project / "encoder")
    (project / "data").mkdir()
    nlu = [{"intent": name, "examples": "".join(f"- {text}\n" for text in texts)} for name, texts in INTENTS.items()]
    (project / "data" / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}))
    rule = {"rule": "greet", "steps": [{"intent": "greet"}, {"action": "utter_greet"}]}
    (project / "data" / "rules.yml").write_text(yaml.safe_dump({"version": "3.1", "rules": [rule]}))
    domain = {"version": "3.1", "intents": list(INTENTS), "responses": {"utter_greet": [{"text": "Hello!"}]}}
    (project / "domain.yml").write_text(yaml.safe_dump(domain))
    classifier = {
        "name": "bot.components.frozen_encoder_intent_classifier.FrozenEncoderIntentClassifier",
        "model_path": str(project / "encoder"),
        "threads": 1,
    }
    config = {"recipe": "default.v1", "language": "en", "assistant_id": "tiny", "pipeline": [classifier]}
    (project / "config.yml").write_text(yaml.safe_dump({**config, "policies": [{"name": "RulePolicy"}]}))
    (project / "credentials.yml").write_text("rest:\n")
    (project / "endpoints.yml").write_text(
        yaml.safe_dump({"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(project / "tracker.db")}})
    )
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "tiny", "--out", "models"],
        cwd=project,
        env=offline_environment({}),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return project


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

        assert send(stack, "intact", "hello") == ["Hello!"]
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
