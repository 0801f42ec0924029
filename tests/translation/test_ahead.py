"""Machine translation ahead of time: known answers are in the memory before a customer asks."""

from __future__ import annotations

import pytest

from bot.knowledge.source import Entry
from bot.translation.ahead import translate_ahead
from bot.translation.base import create_backend
from bot.translation.catalog import answer_texts
from bot.translation.memory import TranslationMemory
from bot.translation.pipeline import TranslationPipeline
from bot.translation.protection import SpanProtector

SHIPPED = "Your order 10045 has shipped."
PORTUGUESE_VERSION = "Os cartões-presente valem 3 anos."


@pytest.fixture(scope="module")
def bergamot():
    return create_backend("bergamot", {"type": "bergamot"})


def pipeline_with(backends, tmp_path) -> TranslationPipeline:
    protector = SpanProtector()
    return TranslationPipeline(backends, protector, TranslationMemory(f"sqlite:///{tmp_path / 'tm.db'}", protector))


def test_answers_are_translated_for_every_pair_a_backend_reaches_and_only_once(bergamot, tmp_path):
    texts = answer_texts(
        [
            Entry("ship-001", ("Has my order shipped?",), SHIPPED, "en"),
            Entry(
                "gift-002",
                ("How long is a gift card valid?",),
                "Gift cards are valid for 3 years.",
                "en",
                versions={"pt": PORTUGUESE_VERSION},
            ),
        ]
    )
    pipeline = pipeline_with([bergamot], tmp_path)
    report = translate_ahead(texts, ["en", "pt", "es", "ko"], pipeline, show_progress=False)
    assert (report.translated, report.remembered, report.failed) == (1, 0, 0)  # pt has a version; es, ko no engine
    assert translate_ahead(texts, ["en", "pt"], pipeline, show_progress=False).remembered == 1

    # A later process (the Rasa server) finds it in the shared memory, for any order number, without the engine.
    server = pipeline_with([], tmp_path)
    found = server.remembered("Your order 20077 has shipped.", "en", "pt")
    assert found.path == "mt:bergamot" and found.cached and "20077" in found.text
