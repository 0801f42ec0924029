"""KnowledgeBaseImporter: Rasa's training data holds what the knowledge base answers, in sync with its source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.shared.importers.importer import TrainingDataImporter

from bot.knowledge.source import SourceError

PROJECT_NLU = """version: "3.1"
nlu:
- intent: order_status
  examples: |
    - where is my order
    - track my parcel
"""
ENTRIES = [
    {
        "id": "gift-002",
        "questions": ["How long is a gift card valid?", "Wie lange ist ein Gutschein gültig?"],
        "answer": "Gift cards are valid for 3 years from the date of purchase.",
        "language": "en",
        "answers": {"es": "Las tarjetas regalo son válidas durante 3 años desde la fecha de compra."},
        "updated_at": "2024-01-02T09:05:00Z",
    },
    {
        "id": "ship-001",
        "questions": ["Do you ship to Norway?", "How long is a gift card valid?"],
        "answer": "Yes, we ship to Norway.",
        "language": "en",
        "updated_at": "2024-01-02T09:05:00Z",
    },
]


def project(tmp_path: Path, entries: list[dict], **options) -> TrainingDataImporter:
    """Rasa's importer for a project whose config.yml lists KnowledgeBaseImporter."""
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "nlu.yml").write_text(PROJECT_NLU)
    (tmp_path / "kb.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    importer = {"name": "bot.knowledge.training_importer.KnowledgeBaseImporter", "source": str(tmp_path / "kb.jsonl")}
    config = {"importers": [{**importer, **options}]}
    return TrainingDataImporter.load_from_dict(config, None, None, [str(tmp_path / "data")])


def examples(importer: TrainingDataImporter) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in importer.get_nlu_data().intent_examples:
        found.setdefault(message.get("intent"), []).append(message.get("text"))
    return found


def test_the_stored_questions_become_examples_of_the_knowledge_base_intent_next_to_the_projects(tmp_path):
    found = examples(project(tmp_path, ENTRIES))
    assert sorted(found["order_status"]) == ["track my parcel", "where is my order"]
    # Each text once, even when two entries list it.
    assert sorted(found["knowledge_base_question"]) == sorted(
        ["How long is a gift card valid?", "Wie lange ist ein Gutschein gültig?", "Do you ship to Norway?"]
    )


def test_answers_and_their_versions_are_learnt_when_asked_and_the_intent_is_configurable(tmp_path):
    found = examples(project(tmp_path, ENTRIES, include_answers=True, intent="faq"))
    assert "Las tarjetas regalo son válidas durante 3 años desde la fecha de compra." in found["faq"]
    assert "Yes, we ship to Norway." in found["faq"] and "knowledge_base_question" not in found


def test_a_changed_source_changes_rasas_fingerprint_of_the_training_data(tmp_path):
    before = project(tmp_path, ENTRIES).get_nlu_data().fingerprint()
    assert project(tmp_path, ENTRIES).get_nlu_data().fingerprint() == before
    changed = [ENTRIES[0], {**ENTRIES[1], "questions": ["Do you deliver to Oslo?"]}]
    assert project(tmp_path, changed).get_nlu_data().fingerprint() != before


def test_a_broken_source_stops_training_naming_the_line(tmp_path):
    importer = project(tmp_path, [{**ENTRIES[0], "language": "english"}])
    with pytest.raises(SourceError, match=r"kb.jsonl:1: .*language"):
        importer.get_nlu_data()


def test_a_bad_option_names_it(tmp_path):
    with pytest.raises(ValueError, match="'include_answers' must be true or false, got 'yes'"):
        project(tmp_path, ENTRIES, include_answers="yes")
