"""Loads and validates knowledge-base source files (CSV and JSONL) into `Entry` objects.

An entry is one historical support answer with the customer questions it answered. The
format is documented in knowledge_base/README.md. Every problem in a file is reported at
once, each with file, line and field, so a company importing years of tickets fixes them in
one pass instead of one error per run.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.translation.protection import SpanProtector

SOURCE_SUFFIXES = (".jsonl", ".csv")
FIELDS = ("id", "questions", "answer", "language", "tags", "updated_at", "answers")
REQUIRED = ("id", "questions", "answer", "language", "updated_at")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")
# CSV cells hold several questions or tags separated by this character.
CSV_LIST_SEPARATOR = "|"
# CSV columns holding the answer's version in one language: answer_es, answer_de ...
CSV_VERSION_COLUMN = re.compile(r"^answer_([a-z]{2})$")


@dataclass(frozen=True)
class Entry:
    """One historical answer.

    Attributes:
        id: stable identifier (letters, digits, `._:-`), unique across the knowledge base.
        questions: one or more customer questions it answered, in any languages.
        answer: the answer text as the support team wrote it.
        language: ISO 639-1 code of the answer text.
        tags: free labels (topic, product line) for filtering and reports.
        updated_at: when the answer was last checked, timezone-aware.
        versions: the answer written in other languages, {language: text}; the customer
            gets the version in their language before any translation.
    """

    id: str
    questions: tuple[str, ...]
    answer: str
    language: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    updated_at: datetime = field(default_factory=lambda: datetime.fromtimestamp(0).astimezone())
    versions: dict[str, str] = field(default_factory=dict)


class SourceError(ValueError):
    """A source file has invalid entries; `problems` lists each as 'file:line: message'."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n  ".join(self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(
            f"Knowledge base source has {len(self.problems)} problem(s):\n  {shown}{more}\n"
            f"See knowledge_base/README.md for the format."
        )


def _as_list(value: Any, where: str, name: str, problems: list[str], csv_cell: bool) -> tuple[str, ...]:
    if csv_cell and isinstance(value, str):
        value = [part for part in value.split(CSV_LIST_SEPARATOR)]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: '{name}' must be a list of strings, got {value!r}")
        return ()
    return tuple(v.strip() for v in value if v.strip())


def _versions(record: dict[str, Any], where: str, csv_cell: bool, problems: list[str]) -> dict[str, str]:
    """The `answers` object (JSONL) or the non-empty `answer_<lang>` cells (CSV) of a record."""
    if csv_cell:
        return {
            CSV_VERSION_COLUMN.match(name).group(1): value.strip()
            for name, value in record.items()
            if CSV_VERSION_COLUMN.match(name) and isinstance(value, str) and value.strip()
        }
    value = record.get("answers")
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: 'answers' must be an object {{language: text}}, got {value!r}")
        return {}
    versions: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: 'answers.{language}' must be non-empty text")
            continue
        versions[language] = text.strip()
    return versions


def version_problems(
    entry_id: str, answer: str, language: str, versions: dict[str, str], protector: SpanProtector
) -> list[str]:
    """What is wrong with an answer's per-language versions: a bad language, a lost span.

    Every protected span of the answer (order numbers, links, amounts, product names ...)
    must appear in each version as often as in the answer, since a customer reading the
    version must get the same facts.
    """
    problems = []
    spans = Counter(protector.mask(answer).spans)
    for version_language, text in sorted(versions.items()):
        name = f"entry {entry_id!r}, version '{version_language}'"
        if not LANGUAGE_PATTERN.match(version_language):
            problems.append(f"{name}: the language must be an ISO 639-1 code such as 'es'")
        elif version_language == language:
            problems.append(f"{name}: the answer itself is in '{language}'; give versions in other languages only")
        missing = sorted((spans - Counter(protector.mask(text).spans)).elements())
        if missing:
            problems.append(
                f"{name} lacks the protected part(s) {missing} of the answer: copy them unchanged into the version"
            )
    return problems


def parse_entry(
    record: dict[str, Any], where: str, csv_cell: bool = False, protector: SpanProtector | None = None
) -> tuple[Entry | None, list[str]]:
    """Validates one record; returns the entry (or None) and the problems found.

    `protector` finds the protected spans each per-language version must keep (default:
    the built-in patterns, no glossary).
    """
    problems: list[str] = []
    allowed = [name for name in FIELDS if not (csv_cell and name == "answers")]
    unknown = sorted(name for name in set(record) - set(allowed) if not (csv_cell and CSV_VERSION_COLUMN.match(name)))
    if unknown:
        extra = " and answer_<language> columns" if csv_cell else ""
        problems.append(f"{where}: unknown field(s) {unknown}; allowed: {allowed}{extra}")
    missing = [name for name in REQUIRED if record.get(name) in (None, "", [])]
    if missing:
        problems.append(f"{where}: missing required field(s) {missing}")
        return None, problems
    entry_id = str(record["id"]).strip()
    if not ID_PATTERN.match(entry_id):
        problems.append(
            f"{where}: id {entry_id!r} must be 1-128 letters, digits or ._:- (starting with a letter or digit)"
        )
    questions = _as_list(record["questions"], where, "questions", problems, csv_cell)
    if not questions and not any("'questions'" in p for p in problems):
        problems.append(f"{where}: 'questions' needs at least one non-empty question")
    answer = record["answer"]
    if not isinstance(answer, str) or not answer.strip():
        problems.append(f"{where}: 'answer' must be non-empty text")
    language = record["language"]
    if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
        problems.append(f"{where}: 'language' must be an ISO 639-1 code such as 'en' or 'es', got {language!r}")
    tags = _as_list(record.get("tags") or [], where, "tags", problems, csv_cell)
    versions = _versions(record, where, csv_cell, problems)
    if isinstance(answer, str) and answer.strip() and versions:
        found = version_problems(entry_id, answer.strip(), language, versions, protector or SpanProtector())
        problems.extend(f"{where}: {problem}" for problem in found)
    try:
        updated_at = datetime.fromisoformat(str(record["updated_at"]).replace("Z", "+00:00"))
        if updated_at.tzinfo is None:
            problems.append(
                f"{where}: 'updated_at' {record['updated_at']!r} needs a timezone, e.g. 2024-03-01T09:00:00Z"
            )
    except ValueError:
        problems.append(
            f"{where}: 'updated_at' {record['updated_at']!r} is not an ISO 8601 time, e.g. 2024-03-01T09:00:00Z"
        )
        updated_at = None
    if problems:
        return None, problems
    return Entry(entry_id, questions, answer.strip(), language, tags, updated_at, versions), []


def _records(path: Path) -> Iterable[tuple[str, dict[str, Any] | None, str | None, bool]]:
    """(where, record, parse error, csv?) for each record of a file."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    yield where, None, f"{where}: not valid JSON ({error.msg} at column {error.colno})", False
                    continue
                if not isinstance(record, dict):
                    yield where, None, f"{where}: each line must be a JSON object", False
                    continue
                yield where, record, None, False
    else:
        with path.open(encoding="utf-8", newline="") as stream:
            reader = csv.DictReader(stream)
            header = reader.fieldnames or []
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                yield (
                    f"{path}:1",
                    None,
                    f"{path}:1: CSV header lacks column(s) {missing}; expected {list(FIELDS)}",
                    True,
                )
                return
            for record in reader:
                yield f"{path}:{reader.line_num}", {k: v for k, v in record.items() if k is not None}, None, True


def source_files(path: str | Path) -> list[Path]:
    """The source files at `path`: the file itself, or every .jsonl/.csv file under a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())
        if not files:
            raise SourceError([f"{path}: no .jsonl or .csv files in this folder"])
        return files
    if not path.is_file():
        raise SourceError([f"{path}: no such file or folder"])
    if path.suffix not in SOURCE_SUFFIXES:
        raise SourceError([f"{path}: unsupported file type '{path.suffix}'; use .jsonl or .csv"])
    return [path]


def load_entries(*paths: str | Path, protector: SpanProtector | None = None) -> list[Entry]:
    """All entries of the given files or folders, validated; ids must be unique across them.

    `protector` finds the protected spans that every per-language version must keep; pass
    one built with the bot's glossary (default: the built-in patterns only).

    Raises:
        SourceError: listing every problem found, each with file and line.

    Example:
        >>> entries = load_entries("knowledge_base/demo")
        >>> entries[0].id, entries[0].language
        ('care-001', 'en')
    """
    entries: list[Entry] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        for file in source_files(path):
            for where, record, error, is_csv in _records(file):
                if error:
                    problems.append(error)
                    continue
                entry, found = parse_entry(record, where, csv_cell=is_csv, protector=protector)
                problems.extend(found)
                if entry is None:
                    continue
                if entry.id in first_seen:
                    problems.append(f"{where}: duplicate id {entry.id!r} (first at {first_seen[entry.id]})")
                    continue
                first_seen[entry.id] = where
                entries.append(entry)
    if problems:
        raise SourceError(problems)
    return entries


def source_fingerprint(entries: Sequence[Entry]) -> str:
    """A short hash of the entries' content (recorded by a build, to tell when sources changed)."""
    import hashlib

    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(
            json.dumps(
                [entry.id, entry.questions, entry.answer, entry.language, entry.tags, entry.updated_at.isoformat()]
                # Versions joined the format later: entries without them keep their old fingerprint.
                + ([sorted(entry.versions.items())] if entry.versions else []),
                ensure_ascii=False,
            ).encode()
        )
    return digest.hexdigest()[:16]
