"""A tiny Bridge bot project trained by a real `rasa train` in seconds, for tests of serving.

One FrozenEncoderIntentClassifier on the tiny encoder of tests/helpers/tiny_encoder.py, a
rule that answers `greet` with "Hello!", a SQLite tracker store: enough for a real Rasa server
that starts in seconds, which tests can break (its encoder folder) or configure (credentials).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from bot.project import offline_environment
from tests.helpers.tiny_encoder import INTENTS, build_tiny_encoder

GREETING = "Hello!"


def train_tiny_bot(project: Path) -> Path:
    """Writes and trains the tiny bot in `project`; returns the model file."""
    build_tiny_encoder(project / "encoder")
    (project / "data").mkdir(parents=True, exist_ok=True)
    nlu = [{"intent": name, "examples": "".join(f"- {text}\n" for text in texts)} for name, texts in INTENTS.items()]
    (project / "data" / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}))
    rule = {"rule": "greet", "steps": [{"intent": "greet"}, {"action": "utter_greet"}]}
    (project / "data" / "rules.yml").write_text(yaml.safe_dump({"version": "3.1", "rules": [rule]}))
    domain = {"version": "3.1", "intents": list(INTENTS), "responses": {"utter_greet": [{"text": GREETING}]}}
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
    return project / "models" / "tiny.tar.gz"
