"""bench answers: what counts as a right answer, a wrong one, a decline, and a question taken by an intent."""

from __future__ import annotations

import pytest

from bench.answers import Question, load_questions, outcome, question_rows


def parse(intent: str, answered: bool = False, answer_id: str | None = None) -> dict:
    return {"intent": {"name": intent}, "knowledge_base": {"answered": answered, "answer_id": answer_id}}


def test_each_question_gets_the_outcome_a_customer_would_tell():
    gift = Question("knowledge_base", "how long is a gift card valid?", "en", "gift-002", "dev")
    order = Question("actions", "where is my order 10045", "en", "order_status", "dev")
    weather = Question("unanswerable", "weather tomorrow?", "en", None, "dev")
    assert outcome(gift, parse("knowledge_base_question", True, "gift-002")) == "right"
    assert outcome(gift, parse("knowledge_base_question", True, "gift-001")) == "wrong"
    assert outcome(gift, parse("knowledge_base_question")) == "declined"  # routed, no answer good enough
    assert outcome(gift, parse("nlu_fallback")) == "declined"
    assert outcome(gift, parse("payment_methods")) == "taken"
    assert outcome(order, parse("order_status")) == "kept"
    assert outcome(order, parse("knowledge_base_question", True, "ship-001")) == "lost"
    assert outcome(weather, parse("out_of_scope")) == "declined"
    assert outcome(weather, parse("knowledge_base_question", True, "ship-009")) == "answered"


def test_rows_give_shares_per_language_and_overall():
    questions = [
        Question("knowledge_base", "a", "ko", "x", "test"),
        Question("knowledge_base", "b", "ko", "y", "test"),
        Question("actions", "c", "hi", "order_status", "test"),
    ]
    rows = {r["language"]: r for r in question_rows(questions, ["right", "wrong", "kept"])}
    assert (rows["ko"]["right"], rows["ko"]["wrong"], rows["ko"]["kb_questions"]) == (0.5, 0.5, 2)
    assert rows["hi"]["kept"] == 1.0 and rows["all"]["kb_questions"] == 2


def test_a_question_without_its_fields_or_split_is_refused(tmp_path):
    path = tmp_path / "questions.yml"
    path.write_text("knowledge_base:\n- {text: hi, language: en, split: dev}\n")
    with pytest.raises(ValueError, match=r"knowledge_base\[0\] lacks \['answer'\]"):
        load_questions(path)
    path.write_text("unanswerable:\n- {text: hi, language: en, split: train}\n")
    with pytest.raises(ValueError, match="has split 'train'"):
        load_questions(path)
