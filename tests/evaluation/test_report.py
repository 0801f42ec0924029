"""Evaluation reports: the intent report has `rasa test nlu`'s shape; splits are fixed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.nlu import XSID, transfer_scores
from bot.evaluation.datasets import (
    Example,
    cross_validation_folds,
    held_out_split,
    load_nlu_examples,
    load_xsid,
    per_intent_sample,
    to_training_data,
)
from bot.evaluation.report import Prediction, write_report
from tests.conftest import LANGUAGES, PROJECT_DIR

PREDICTIONS = [
    Prediction("hi", "greet", "en", "greet", 0.9),
    Prediction("hola", "greet", "es", "greet", 0.8),
    Prediction("bye", "goodbye", "en", "greet", 0.4),
    Prediction("adiós", "goodbye", "es", "goodbye", 0.7),
    Prediction("where is it", "order_status", "en", "order_status", 0.2, handed_off=True),
]


def test_report_files_and_shape_match_rasa_test_nlu(tmp_path):
    summary = write_report(PREDICTIONS, tmp_path)
    report = json.loads((tmp_path / "intent_report.json").read_text())
    assert {"greet", "goodbye", "order_status", "accuracy", "macro avg", "weighted avg"} <= set(report)
    assert set(report["greet"]) == {"precision", "recall", "f1-score", "support", "confused_with"}
    assert report["goodbye"]["recall"] == 0.5 and report["accuracy"] == 0.8
    assert report["greet"]["confused_with"] == {} and report["goodbye"]["confused_with"] == {"greet": 1}
    errors = json.loads((tmp_path / "intent_errors.json").read_text())
    assert errors == [
        {
            "text": "bye",
            "intent": "goodbye",
            "language": "en",
            "intent_prediction": {"name": "greet", "confidence": 0.4},
        }
    ]
    png = (tmp_path / "intent_confusion_matrix.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert summary["per_language"] == {"en": {"accuracy": 0.6667, "support": 3}, "es": {"accuracy": 1.0, "support": 2}}
    assert summary["handed_off"] == 1 and summary["accuracy_of_answered"] == 0.75
    assert json.loads((tmp_path / "summary.json").read_text())["macro_f1"] == summary["macro_f1"]


def test_demo_split_holds_out_three_of_fifteen_per_intent_and_language():
    examples = load_nlu_examples(PROJECT_DIR / "training_data" / "nlu")
    train, test = held_out_split(examples, test_per_group=3, seed=42)
    assert len(examples) == 3960 and len(test) == 22 * 12 * 3 and len(train) == 3960 - len(test)
    assert {e.language for e in test} == set(LANGUAGES)
    assert Counter(train) + Counter(test) == Counter(examples)  # a partition: nothing seen twice
    assert held_out_split(examples, test_per_group=3, seed=42) == (train, test)  # fixed seed, same split


def test_few_shot_sample_takes_at_most_n_per_intent():
    examples = [Example(f"{intent} {i}", intent) for intent in "abc" for i in range(20 if intent != "c" else 4)]
    sample = per_intent_sample(examples, 10)
    assert [sum(e.intent == x for e in sample) for x in "abc"] == [10, 10, 4]


def test_cross_validation_tests_every_example_once_and_never_trains_on_it():
    examples = [Example(f"{intent} {i}", intent) for intent in "abc" for i in range(12 if intent != "c" else 7)]
    folds = cross_validation_folds(examples, 5, by_language=False)
    tested = [e for _, test in folds for e in test]
    assert Counter(tested) == Counter(examples)
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == len(examples)
        assert {e.intent for e in test} == set("abc")  # stratified: every intent in every fold
    assert cross_validation_folds(examples, 5, by_language=False) == folds  # fixed seed


def test_training_data_written_for_rasa_keeps_each_examples_language(tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.training_data import example_language

    examples = [Example("hello", "greet", "en"), Example("hallo", "greet", "de"), Example("olá", "greet", "pt")]
    path = tmp_path / "nlu.yml"
    RasaYAMLWriter().dump(path, to_training_data(examples))  # as train_pipeline writes it for Rasa
    read = {m.get("text").strip(): example_language(m) for m in load_data(str(path)).intent_examples}
    assert read == {"hello": "en", "hallo": "de", "olá": "pt"}


def test_cross_validation_needs_two_folds():
    with pytest.raises(ValueError, match="at least 2"):
        cross_validation_folds([Example("hi", "greet")], 1)


def test_xsid_files_give_the_requests_of_each_language_with_their_intents():
    english = load_xsid(XSID / "en.valid.conll", "en")
    german = load_xsid(XSID / "de.valid.conll", "de")
    assert len(english) == len(german) == 300
    assert english[0] == Example("cancel all alarms", "alarm_cancel_alarm", "en")  # Rasa: `/` = retrieval intent
    assert {e.intent for e in german} <= {e.intent for e in english}  # an English-only model knows them all
    assert {e.language for e in german} == {"de"} and all(e.text for e in german)


def test_transfer_scores_count_a_right_intent_handed_off_as_wrong_after_the_fallback():
    def prediction(language, right, handed_off=False):
        return Prediction(
            "t", "weather/find", language, "weather/find" if right else "alarm/set_alarm", 0.9, handed_off
        )

    scores = transfer_scores(
        [prediction("en", True), prediction("en", True), prediction("de", True), prediction("de", True, True)]
        + [prediction("zh", False), prediction("zh", True), prediction("zh", False, True)],
        ("de", "zh"),
    )
    assert scores["per_language"]["en"] == {
        "examples": 2,
        "top_intent": 1.0,
        "after_fallback": 1.0,
        "right_handed_off": 0.0,
        "wrong_handed_off": 0.0,
    }
    assert scores["per_language"]["de"]["top_intent"] == 1.0 and scores["per_language"]["de"]["after_fallback"] == 0.5
    assert scores["per_language"]["de"]["right_handed_off"] == 0.5
    assert scores["per_language"]["zh"]["wrong_handed_off"] == 0.5
    assert scores["other_languages_after_fallback"] == pytest.approx((0.5 + 1 / 3) / 2, abs=1e-3)
    assert scores["other_languages_to_english"] == pytest.approx((0.5 + 1 / 3) / 2, abs=1e-3)
