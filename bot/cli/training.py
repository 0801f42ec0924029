"""Trains the Rasa model of a Bridge project, skipping the work when nothing changed.

A hash of every input is stored beside the model; an unchanged project reuses the model
without even starting Rasa. The inputs are the project's config, domain and training data,
the knowledge-base source files an importer in config.yml trains on (`importers:` entries
with a `source`, such as KnowledgeBaseImporter), Bridge's own trainable code (from the
installed package, so a project made by `bridge init` is covered as much as the demo) and
the encoder's identity. YAML files are hashed as parsed data, so editing a comment does not
retrain; other files by their bytes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import bot
from bot.project import DATA_DIR, DOMAIN_DIR, model_name, project_environment, read_config

# Bridge's code that shapes a trained model: the components and what they are built from.
FRAMEWORK_INPUTS = (
    "components",
    "language",
    "models",
    "message_keys.py",
    "knowledge/source.py",
    "knowledge/training_importer.py",
)
YAML_SUFFIXES = {".yml", ".yaml"}


class TrainingError(RuntimeError):
    """`rasa train` failed; Rasa has already printed why."""


def _files(root: Path, entries: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for entry in entries:
        path = root / entry
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            found.append(path)
    return found


def _canonical_yaml(path: Path) -> bytes:
    """The file's parsed content as canonical JSON: comments and layout do not count."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        # Rasa reports the error when it trains; until then the bytes identify the file.
        return path.read_bytes()
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()


def importer_sources(config: dict) -> list[str]:
    """The project-relative `source` of every importer in config.yml that has one.

    Example:
        >>> importer_sources({"importers": [{"name": "KnowledgeBaseImporter", "source": "knowledge_base/demo"}]})
        ['knowledge_base/demo']
    """
    return [
        str(entry["source"])
        for entry in config.get("importers") or []
        if isinstance(entry, dict) and isinstance(entry.get("source"), str)
    ]


def _hashed_inputs(project_dir: Path) -> list[tuple[str, Path]]:
    """(name in the hash, file) of every training input: project files, then Bridge's code."""
    framework = Path(bot.__file__).resolve().parent
    entries = ("config.yml", DATA_DIR, *importer_sources(read_config(project_dir)))
    project = [(str(p.relative_to(project_dir)), p) for p in _files(project_dir, entries)]
    code = [(f"bot/{p.relative_to(framework)}", p) for p in _files(framework, FRAMEWORK_INPUTS) if p.suffix == ".py"]
    return project + code


def inputs_hash(project_dir: Path, encoder_identity: str) -> str:
    """SHA-256 over the training inputs' names and contents plus the encoder identity."""
    project_dir = Path(project_dir)
    digest = hashlib.sha256(encoder_identity.encode())
    for name, path in _hashed_inputs(project_dir):
        digest.update(name.encode() + b"\0")
        digest.update(_canonical_yaml(path) if path.suffix in YAML_SUFFIXES else path.read_bytes())
    return digest.hexdigest()


def train_if_changed(project_dir: Path, encoder_identity: str, models_dir: Path | None = None) -> Path:
    """Returns the trained model archive, training it first only if an input changed.

    The archive is models/<assistant_id>.tar.gz (config.yml's assistant_id).

    Example:
        >>> train_if_changed(Path("."), encoder_fingerprint("build/encoders/multilingual-e5-small"))
        PosixPath('models/bridge-demo-shop.tar.gz')
    """
    project_dir = Path(project_dir)
    name = model_name(read_config(project_dir))
    models_dir = models_dir or project_dir / "models"
    model = models_dir / f"{name}.tar.gz"
    stamp = models_dir / f"{name}.inputs-sha256"
    current = inputs_hash(project_dir, encoder_identity)
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == current:
        print(f"bridge: {model} is up to date; not retraining.")
        return model
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--config",
        "config.yml",
        "--domain",
        DOMAIN_DIR,
        "--data",
        DATA_DIR,
        "--out",
        str(models_dir),
        "--fixed-model-name",
        name,
    ]
    print(f"bridge: training {model} ...", flush=True)
    try:
        subprocess.run(command, cwd=project_dir, env=project_environment(project_dir), check=True)
    except subprocess.CalledProcessError as error:
        raise TrainingError(
            f"rasa train failed (exit code {error.returncode}); its output above says why. "
            "Fix the project files it names and run `bridge train` again."
        ) from None
    stamp.write_text(current + "\n")
    return model
