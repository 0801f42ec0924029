"""Agents' corrections of customer turns, and their export as training data ready to merge.

A correction says a turn's intent was wrong and names the right one, or that its
knowledge-base answer was wrong and (if the agent knows it) names the right answer. They wait
in `bridge_console_corrections` until `bridge export corrections` writes them:
    nlu.yml                Rasa NLU YAML: the customers' texts as examples of the right intents
    knowledge_base.yml     the customers' texts as new questions of the right answers
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from bot.review.database import corrections, events

KINDS = ("intent", "kb_answer")
_NAME = re.compile(r"^[A-Za-z0-9_\-./]{1,255}$")


class CorrectionError(ValueError):
    """A correction that cannot be stored; the message says what to change."""


@dataclass(frozen=True)
class Correction:
    id: int
    sender_id: str
    event_id: int
    kind: str
    text: str
    language: str | None
    wrong_value: str | None
    right_value: str | None
    agent_id: int
    created_at: float
    exported_at: float | None


def correct_turn(
    engine_tracker: Engine,
    engine_console: Engine,
    sender_id: str,
    event_id: int,
    kind: str,
    right_value: str | None,
    agent_id: int,
) -> Correction:
    """Stores (or replaces) the correction of customer turn `event_id` of conversation `sender_id`.

    Raises:
        CorrectionError: unknown kind, a turn that is not a customer message of this
            conversation, a missing right intent, or a name with characters Rasa does not accept.
    """
    if kind not in KINDS:
        raise CorrectionError(f"Correction kind '{kind}' does not exist; choose one of: {', '.join(KINDS)}.")
    right_value = (right_value or "").strip() or None
    if kind == "intent" and right_value is None:
        raise CorrectionError("Pick the right intent for this turn.")
    if right_value is not None and not _NAME.match(right_value):
        raise CorrectionError(f"'{right_value}' is not an intent or answer id (letters, digits, _ - . / only).")
    with engine_tracker.connect() as connection:
        row = connection.execute(
            sa.select(events.c.type_name, events.c.data).where(events.c.id == event_id, events.c.sender_id == sender_id)
        ).first()
    if row is None or row.type_name != "user":
        raise CorrectionError(f"Event {event_id} is not a customer turn of conversation {sender_id}.")
    data = json.loads(row.data or "{}")
    parse = data.get("parse_data") or {}
    wrong = (
        (parse.get("intent") or {}).get("name")
        if kind == "intent"
        else (parse.get("knowledge_base") or {}).get("answer_id")
    )
    values = {
        "sender_id": sender_id,
        "event_id": event_id,
        "kind": kind,
        "text": data.get("text") or "",
        "language": parse.get("language"),
        "wrong_value": wrong,
        "right_value": right_value,
        "agent_id": agent_id,
        "created_at": time.time(),
        "exported_at": None,
    }
    with engine_console.begin() as connection:
        connection.execute(corrections.delete().where(corrections.c.event_id == event_id, corrections.c.kind == kind))
        new_id = connection.execute(corrections.insert().values(**values)).inserted_primary_key[0]
    return Correction(id=new_id, **values)


def list_corrections(engine: Engine, pending_only: bool = True, sender_id: str | None = None) -> list[Correction]:
    """Corrections, oldest first: only those not exported yet unless `pending_only` is False."""
    query = sa.select(corrections).order_by(corrections.c.id)
    if pending_only:
        query = query.where(corrections.c.exported_at.is_(None))
    if sender_id is not None:
        query = query.where(corrections.c.sender_id == sender_id)
    with engine.connect() as connection:
        return [Correction(**row._mapping) for row in connection.execute(query)]


def nlu_yaml(found: list[Correction]) -> str:
    """Rasa NLU YAML (version 3.1) with each corrected text as an example of its right intent."""
    by_intent: dict[str, list[str]] = {}
    for correction in found:
        if correction.kind == "intent" and correction.right_value and correction.text.strip():
            texts = by_intent.setdefault(correction.right_value, [])
            if correction.text not in texts:
                texts.append(correction.text)
    blocks = []
    for intent, texts in sorted(by_intent.items()):
        # Inside the literal block each example is one raw line, so line breaks are folded to spaces.
        examples = "".join(f"    - {' '.join(t.split())}\n" for t in texts)
        blocks.append(f"- intent: {intent}\n  examples: |\n{examples}")
    return 'version: "3.1"\nnlu:\n' + "".join(blocks) if blocks else 'version: "3.1"\nnlu: []\n'


def knowledge_base_yaml(found: list[Correction]) -> str:
    """The corrected texts as questions of their right answers, and the wrong answers to review."""
    questions = [
        {"answer_id": c.right_value, "question": c.text, "language": c.language}
        for c in found
        if c.kind == "kb_answer" and c.right_value
    ]
    wrong = [
        {"answer_id": c.wrong_value, "question": c.text, "language": c.language}
        for c in found
        if c.kind == "kb_answer" and c.wrong_value
    ]
    return yaml.safe_dump({"questions": questions, "wrong_answers": wrong}, allow_unicode=True, sort_keys=False)


def export_corrections(engine: Engine, output: Path, include_exported: bool = False) -> tuple[Path, Path, int]:
    """Writes nlu.yml and knowledge_base.yml into `output`, then marks the corrections exported.

    Returns the two paths and how many corrections they hold.
    """
    found = list_corrections(engine, pending_only=not include_exported)
    output.mkdir(parents=True, exist_ok=True)
    nlu_path, kb_path = output / "nlu.yml", output / "knowledge_base.yml"
    nlu_path.write_text(nlu_yaml(found), encoding="utf-8")
    kb_path.write_text(knowledge_base_yaml(found), encoding="utf-8")
    if found:
        with engine.begin() as connection:
            connection.execute(
                corrections.update()
                .where(corrections.c.id.in_([c.id for c in found]), corrections.c.exported_at.is_(None))
                .values(exported_at=time.time())
            )
    return nlu_path, kb_path, len(found)
