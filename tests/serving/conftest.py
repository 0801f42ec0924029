"""Fixtures of the serving tests: the tiny bot project, trained once for the whole folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.tiny_bot import train_tiny_bot


@pytest.fixture(scope="session")
def tiny_bot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained tiny bot project (tests/serving/tiny_bot.py); tests restore what they break."""
    project = tmp_path_factory.mktemp("tiny-bot")
    train_tiny_bot(project)
    return project
