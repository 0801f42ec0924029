"""Loading and validating knowledge-base sources: what a company importing tickets sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.knowledge.source import SourceError, load_entries
from tests.conftest import PROJECT_DIR

GOOD = {
    "id": "gift-1",
    "questions": ["Do you sell gift cards?", "¿Vendéis tarjetas regalo?"],
    "answer": "Yes.",
    "language": "en",
    "tags": ["gift-cards"],
    "updated_at": "2024-01-02T09:00:00Z",
}


def write_jsonl(path: Path, *records) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def problems_of(*paths) -> str:
    with pytest.raises(SourceError) as caught:
        load_entries(*paths)
    return str(caught.value)


def test_the_demo_knowledge_base_is_valid_and_large_enough():
    entries = load_entries(PROJECT_DIR / "knowledge_base" / "demo")
    assert len(entries) >= 150
    question_scripts = {q[:1] for e in entries for q in e.questions}
    assert len({e.language for e in entries}) >= 2 and len(question_scripts) > 20
    assert sum(e.language == "en" for e in entries) > 0.8 * len(entries)


def test_jsonl_and_csv_give_the_same_entry(tmp_path):
    jsonl = write_jsonl(tmp_path / "a.jsonl", GOOD)
    csv_file = tmp_path / "b.csv"
    csv_file.write_text(
        "id,questions,answer,language,tags,updated_at\n"
        'gift-2,"Do you sell gift cards?|¿Vendéis tarjetas regalo?",Yes.,en,gift-cards,2024-01-02T09:00:00Z\n',
        encoding="utf-8",
    )
    [from_json], [from_csv] = load_entries(jsonl), load_entries(csv_file)
    assert from_json.questions == from_csv.questions == ("Do you sell gift cards?", "¿Vendéis tarjetas regalo?")
    assert from_json.tags == from_csv.tags == ("gift-cards",)
    assert from_json.updated_at == from_csv.updated_at and from_json.updated_at.tzinfo is not None


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        GOOD,
        {**GOOD, "id": "x-2", "language": "English"},
        {**GOOD, "id": "x-3", "updated_at": "yesterday"},
        {**GOOD, "id": "x-4", "questions": []},
        "{not json",
        {**GOOD, "id": "x-6", "answer_text": "typo in a field name"},
        {**GOOD, "id": "x 7"},
        {**GOOD, "id": "x-8", "updated_at": "2024-01-02T09:00:00"},
    )
    message = problems_of(path)
    assert f"{path}:2: 'language' must be an ISO 639-1 code" in message
    assert f"{path}:3: 'updated_at' 'yesterday' is not an ISO 8601 time" in message
    assert f"{path}:4: missing required field(s) ['questions']" in message
    assert f"{path}:5: not valid JSON" in message
    assert f"{path}:6: unknown field(s) ['answer_text']" in message
    assert f"{path}:7: id 'x 7'" in message
    assert f"{path}:8: 'updated_at' '2024-01-02T09:00:00' needs a timezone" in message
    assert "7 problem(s)" in message and "knowledge_base/README.md" in message


def test_duplicate_ids_across_files_are_refused(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", GOOD)
    second = write_jsonl(tmp_path / "b.jsonl", {**GOOD, "answer": "Another answer."})
    assert f"{second}:1: duplicate id 'gift-1' (first at {first}:1)" in problems_of(tmp_path)


def test_csv_without_a_required_column_names_it(tmp_path):
    path = tmp_path / "kb.csv"
    path.write_text("id,question,answer,language\nx,hello,hi,en\n", encoding="utf-8")
    assert "CSV header lacks column(s) ['questions', 'updated_at']" in problems_of(path)


@pytest.mark.parametrize(
    "name, expected", [("kb.txt", "unsupported file type '.txt'"), ("missing.jsonl", "no such file")]
)
def test_unusable_paths_say_what_is_wrong(tmp_path, name, expected):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    assert expected in problems_of(tmp_path / name)


def test_an_empty_folder_is_an_error(tmp_path):
    assert "no .jsonl or .csv files" in problems_of(tmp_path)
