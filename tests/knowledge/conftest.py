"""Fixtures of the knowledge-base tests: small hand-made entries and the demo store, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.source import Entry, load_entries
from tests.conftest import PROJECT_DIR
from tests.helpers.knowledge_base import entry


@pytest.fixture
def small_entries() -> list[Entry]:
    return [
        entry("gift", ["Do you sell gift cards?"], "Yes, gift cards from EUR 10 to EUR 500."),
        entry("wool", ["How do I wash a wool jumper?"], "Hand-wash it in cold water and dry it flat."),
        entry("ship", ["Which countries do you ship to?"], "EU, UK, Switzerland, Norway, US and Canada."),
    ]


@pytest.fixture(scope="session")
def demo_store(encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo knowledge base built into a temporary store with the real encoder (shared, read-only)."""
    from bot.knowledge.store import KnowledgeBaseStore

    store = KnowledgeBaseStore(tmp_path_factory.mktemp("demo-kb") / "kb")
    store.build(load_entries(PROJECT_DIR / "knowledge_base" / "demo"), encoder_dir)
    return store


@pytest.fixture(scope="session")
def demo_retriever(demo_store, encoder_dir: Path):
    from bot.knowledge.retriever import AnswerRetriever

    return AnswerRetriever(demo_store, encoder_dir).open()
