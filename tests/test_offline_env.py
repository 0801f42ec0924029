"""The environment is set where Bridge starts processes, never by importing Bridge's code."""

import json
import os
import subprocess
import sys

from bot.offline_env import OFFLINE_VARIABLES, apply_to_this_process, offline_environment
from tests.conftest import PROJECT_DIR

# What those modules import from Rasa (Rasa and TensorFlow set variables of their own).
RASA_MODULES = ["rasa.engine.recipes.default_recipe", "rasa.nlu.classifiers.classifier", "rasa.core.nlg.response"]
# Every module of the intent classifiers, the models they run and the other NLU components.
MODULES = [
    "bot.components.multilingual_intent_classifier",
    "bot.components.frozen_encoder_intent_classifier",
    "bot.components.language_detector",
    "bot.components.knowledge_base_retriever",
    "bot.components.unsupported_language_classifier",
    "bot.models.encoder_network",
    "bot.models.fine_tuning",
    "bot.nlg.translating_nlg",
]


def test_processes_bridge_starts_wait_passively_and_stay_offline():
    env = offline_environment({"EXTRA": "1"})
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["HF_HUB_OFFLINE"] == "1" and env["EXTRA"] == "1"


def test_applying_to_this_process_keeps_what_the_caller_exported(monkeypatch):
    for name in OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    apply_to_this_process()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE" and os.environ["USE_TF"] == "0"


def test_importing_the_components_changes_no_environment_variable():
    script = (
        f"import importlib, json, os; [importlib.import_module(m) for m in {RASA_MODULES!r}]; "
        "before = dict(os.environ); "
        f"[importlib.import_module(m) for m in {MODULES!r}]; "
        "print(json.dumps(sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
