"""Trains the Rasa model of a Bridge project, skipping the work when nothing changed.

A hash of every input (config, domain, training data, Bridge's own components and the
encoder's identity) is stored beside the model; an unchanged project reuses the model
without even starting Rasa.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List

from bot.offline_env import offline_environment

MODEL_NAME = "bridge-demo"
TRAINING_INPUTS = ("config.yml", "training_data", "bot/components", "bot/language", "bot/models")


def _files(project_dir: Path, inputs: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for entry in inputs:
        path = project_dir / entry
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            found.append(path)
    return found


def inputs_hash(project_dir: Path, encoder_identity: str) -> str:
    """SHA-256 over the training inputs' paths and contents plus the encoder identity."""
    digest = hashlib.sha256(encoder_identity.encode())
    for path in _files(project_dir, TRAINING_INPUTS):
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train_if_changed(project_dir: Path, encoder_identity: str, models_dir: Path | None = None) -> Path:
    """Returns the trained model archive, training it first only if an input changed."""
    models_dir = models_dir or project_dir / "models"
    model = models_dir / f"{MODEL_NAME}.tar.gz"
    stamp = models_dir / f"{MODEL_NAME}.inputs-sha256"
    current = inputs_hash(project_dir, encoder_identity)
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == current:
        print(f"bridge: {model} is up to date; not retraining.")
        return model
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml",
        "--domain", "training_data/domain",
        "--data", "training_data",
        "--out", str(models_dir),
        "--fixed-model-name", MODEL_NAME,
    ]
    print(f"bridge: training {model} ...", flush=True)
    subprocess.run(command, cwd=project_dir, env=offline_environment({"PYTHONPATH": str(project_dir)}), check=True)
    stamp.write_text(current + "\n")
    return model
