"""Knowledge-base entries written in a line, and a store turned into an older format."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.knowledge.source import Entry

WHEN = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


def entry(entry_id: str, questions: list[str], answer: str, language: str = "en") -> Entry:
    """One historical answer with its questions, tagged "test"."""
    return Entry(entry_id, tuple(questions), answer, language, ("test",), WHEN)


def make_format_1(store) -> None:
    """Turns a built KnowledgeBaseStore into what Bridge's first store format left on disk."""
    import sqlalchemy as sa

    manifest = json.loads(store.manifest_path.read_text())
    manifest["format"] = 1
    manifest.pop("language_centroids")
    store.manifest_path.write_text(json.dumps(manifest))
    with store.metadata.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE kb_answers DROP COLUMN vector"))
    store.metadata.dispose()
