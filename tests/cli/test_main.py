"""The `bridge` command itself: building its parser is light, and it lists every command."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT_DIR


def test_building_the_parser_imports_neither_rasa_nor_torch():
    probe = (
        "import json, sys; from bot.cli.main import build_parser; build_parser(); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'rasa', 'torch', 'tensorflow', 'actions'})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_help_lists_the_commands_a_project_needs():
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "--help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    for command in ("init", "models", "train", "run", "kb", "eval", "bench"):
        assert command in done.stdout
    assert "demo-db" not in done.stdout
