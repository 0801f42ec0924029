"""A Bridge project on disk: where its Rasa files are, and how its processes are started.

A project is the folder `bridge init` creates (the demo shop is one too): config.yml,
credentials.yml, endpoints.yml, training_data/ (domain/, nlu/, rules and stories),
knowledge_base/ and, when it has custom actions, an `actions` package. Every command runs
with the project as its working directory, so every path in its files is project-relative.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.models.encoder import DEFAULT_ENCODER_DIR
from bot.offline_env import offline_environment

CONFIG_FILE = "config.yml"
DATA_DIR = "training_data"
DOMAIN_DIR = "training_data/domain"
ACTIONS_PACKAGE = "actions"
# The model archive's name when config.yml has no assistant_id.
DEFAULT_MODEL_NAME = "bridge-bot"
# Components whose `model_path` names the encoder folder.
ENCODER_COMPONENTS = ("MultilingualIntentClassifier", "FrozenEncoderIntentClassifier", "KnowledgeBaseRetriever")


class ProjectError(ValueError):
    """The folder is not a Bridge project, or one of its files cannot be used."""


def read_config(project_dir: Path) -> dict[str, Any]:
    """The project's config.yml, parsed.

    Raises:
        ProjectError: when config.yml is missing or is not a YAML mapping.
    """
    import yaml

    path = Path(project_dir) / CONFIG_FILE
    if not path.is_file():
        raise ProjectError(
            f"No {CONFIG_FILE} in {Path(project_dir).resolve()}: run bridge in a Bridge project, "
            f"or create one with `bridge init DIR`."
        )
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ProjectError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise ProjectError(f"{path} must be a YAML mapping with `pipeline` and `policies`.")
    return config


def pipeline_steps(config: dict[str, Any], component_names: Iterable[str]) -> list[dict[str, Any]]:
    """The pipeline entries of the named components, by class name (with or without module path).

    Example:
        >>> pipeline_steps({"pipeline": [{"name": "bot.components.language_detector.LanguageDetector"}]},
        ...                ["LanguageDetector"])
        [{'name': 'bot.components.language_detector.LanguageDetector'}]
    """
    names = set(component_names)
    return [
        step
        for step in config.get("pipeline") or []
        if isinstance(step, dict) and str(step.get("name", "")).split(".")[-1] in names
    ]


def model_name(config: dict[str, Any]) -> str:
    """The trained model's file name (without .tar.gz): the config's assistant_id, made file-safe."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(config.get("assistant_id") or "")).strip("-.")
    return name or DEFAULT_MODEL_NAME


def encoder_dirs(project_dir: Path, config: dict[str, Any]) -> list[Path]:
    """The encoder folders the pipeline names (`model_path`), project-relative ones resolved.

    A component without `model_path` uses the bundled encoder's default folder.
    """
    found: list[Path] = []
    for step in pipeline_steps(config, ENCODER_COMPONENTS):
        folder = Path(step.get("model_path") or DEFAULT_ENCODER_DIR)
        folder = folder if folder.is_absolute() else Path(project_dir) / folder
        if folder not in found:
            found.append(folder)
    return found


def is_bundled_encoder_dir(project_dir: Path, folder: Path) -> bool:
    """True when `folder` is where `bridge models` puts the bundled encoder in this project."""
    return Path(folder).absolute() == (Path(project_dir) / DEFAULT_ENCODER_DIR).absolute()


def has_actions(project_dir: Path) -> bool:
    """True when the project has custom actions (an `actions` package or module)."""
    project_dir = Path(project_dir)
    package, module = project_dir / ACTIONS_PACKAGE / "__init__.py", project_dir / f"{ACTIONS_PACKAGE}.py"
    return package.is_file() or module.is_file()


def project_environment(project_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process started for the project: offline, with the project first on
    PYTHONPATH (its `actions` package) and the caller's PYTHONPATH after it (where Bridge itself
    may come from when it is not installed)."""
    paths = [str(Path(project_dir).resolve()), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return offline_environment({**(extra or {}), "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))})
