"""MultilingualIntentClassifier: trains, persists through model storage, reloads identically,
refuses a different encoder, rejects bad config; works on any BERT-style local model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.components.multilingual_intent_classifier import MultilingualIntentClassifier
from bot.evaluation.datasets import Example, to_training_data
from bot.knowledge.store import EncoderMismatchError as StoreEncoderMismatchError
from bot.models.encoder import EncoderMismatchError
from bot.models.fine_tuning import stratified_split
from tests.helpers.graph_components import created, intent_rankings, reloaded
from tests.helpers.graph_components import trained as trained_component
from tests.helpers.tiny_encoder import INTENTS, build_tiny_encoder, intents_training_data

PROBES = ["where is my order", "refund please", "hello", "my money back", "order hello refund"]


def config(model_path: Path, **overrides) -> dict:
    return {
        **MultilingualIntentClassifier.get_default_config(),
        "model_path": str(model_path),
        "threads": 1,  # a tiny model gains nothing from a second thread on a busy machine
        "epochs": 25,
        "trainable_layers": 2,
        "batch_size": 8,
        "learning_rate": 1e-3,
        "head_learning_rate": 1e-2,
        "validation_fraction": 0.25,
        "early_stopping_patience": 30,
        **overrides,
    }


def trained(storage_dir: Path, cfg: dict) -> MultilingualIntentClassifier:
    return trained_component(MultilingualIntentClassifier, storage_dir, cfg, intents_training_data())


def reload(storage_dir: Path, cfg: dict) -> MultilingualIntentClassifier:
    return reloaded(MultilingualIntentClassifier, storage_dir, cfg)


@pytest.mark.parametrize("encoder", ["tiny_bert", "tiny_xlmr"])
def test_train_persist_reload_gives_identical_predictions(encoder, request, tmp_path):
    folder = request.getfixturevalue(encoder)
    cfg = config(folder)
    fresh = trained(tmp_path, cfg)
    before = intent_rankings(fresh, PROBES)
    stored = next(tmp_path.rglob("classifier.json")).parent
    assert {"finetuned.safetensors", "tokenizer", "classifier.json"} <= {p.name for p in stored.iterdir()}
    after = intent_rankings(reload(tmp_path, cfg), PROBES)
    assert after == before  # exactly: same intents, same confidences
    assert [r[0]["name"] for r in after[:3]] == ["order_status", "refund", "greet"]
    assert all(abs(sum(x["confidence"] for x in r) - 1.0) < 1e-5 for r in after)


def test_training_records_history_temperature_and_threshold(tiny_bert, tmp_path):
    classifier = trained(tmp_path, config(tiny_bert, epochs=3, early_stopping_patience=5, typing_error_copies=1))
    meta = json.loads(next(tmp_path.rglob("classifier.json")).read_text())
    assert [h["epoch"] for h in meta["training"]["history"]] == [1, 2, 3]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(meta["training"]["history"][0])
    assert meta["training"]["validation_examples"] == 6  # 2 of 8 examples per intent
    # One noisy copy of each of the 18 training examples that has a word of 3+ letters.
    copies = meta["training"]["typing_error_copies"]
    assert 0 < copies <= 18 == meta["training"]["train_examples"] - copies
    assert meta["temperature"] > 0 and meta["labels"] == sorted(INTENTS)
    assert meta["training"]["train_seconds"] > 0 and meta["training"]["temperature"] == round(meta["temperature"], 4)
    assert classifier.training_report["suggested_fallback_threshold"] is not None


def test_refit_learns_the_held_out_validation_examples_too(tiny_bert, tmp_path):
    cfg = config(tiny_bert, epochs=6, early_stopping_patience=1)
    held_out_only = trained(tmp_path / "held-out", {**cfg, "refit_on_all_examples": False})
    refit = trained(tmp_path / "refit", cfg)
    report = refit.training_report
    assert report["refit"]["examples"] == report["train_examples"] + report["validation_examples"] == 24
    assert 1 <= report["refit"]["epochs"] <= len(report["history"]) <= 6
    assert report["temperature"] == held_out_only.training_report["temperature"]  # calibrated before the refit
    examples = [(m.get("text"), m.get("intent")) for m in intents_training_data().intent_examples]
    _, validation = stratified_split([intent for _, intent in examples], cfg["validation_fraction"], cfg["random_seed"])

    def confidence_in_the_right_intent(classifier):
        ranked = intent_rankings(classifier, [examples[i][0] for i in validation])
        return np.mean(
            [
                next(r["confidence"] for r in ranking if r["name"] == examples[i][1])
                for ranking, i in zip(ranked, validation)
            ]
        )

    assert confidence_in_the_right_intent(refit) > confidence_in_the_right_intent(held_out_only)


def test_same_seed_trains_the_same_model(tiny_bert, tmp_path):
    cfg = config(tiny_bert, epochs=3)
    first = intent_rankings(trained(tmp_path / "a", cfg), PROBES)
    second = intent_rankings(trained(tmp_path / "b", cfg), PROBES)
    assert first == second


def test_refuses_an_encoder_it_was_not_trained_on(tiny_bert, tiny_xlmr, tmp_path):
    trained(tmp_path, config(tiny_bert, epochs=1))
    with pytest.raises(EncoderMismatchError, match="Retrain with `rasa train`"):
        reload(tmp_path, config(tiny_xlmr))


def test_refuses_same_architecture_with_other_weights(tiny_bert, tmp_path):
    other = build_tiny_encoder(tmp_path / "other-bert", "bert", seed=7)
    trained(tmp_path / "storage", config(tiny_bert, epochs=1))
    with pytest.raises(EncoderMismatchError, match="frozen weights differ"):
        reload(tmp_path / "storage", config(other))


def test_the_knowledge_base_raises_the_same_mismatch_error():
    assert StoreEncoderMismatchError is EncoderMismatchError


def test_untrained_classifier_and_empty_text_leave_messages_alone(tiny_bert, tmp_path):
    classifier = reload(tmp_path, config(tiny_bert))  # nothing stored yet
    message = Message(data={"text": "where is my order"})
    classifier.process([message])
    assert message.get("intent") is None
    fitted = trained(tmp_path / "t", config(tiny_bert, epochs=1))
    empty = Message(data={"text": ""})
    fitted.process([empty])
    assert empty.get("intent") is None


def test_needs_two_intents(tiny_bert, tmp_path):
    classifier = created(MultilingualIntentClassifier, tmp_path, config(tiny_bert))
    with pytest.raises(ValueError, match="at least two intents"):
        classifier.train(to_training_data([Example("hello", "greet"), Example("hi", "greet")]))


def test_missing_model_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="bridge models"):
        created(MultilingualIntentClassifier, tmp_path, config(tmp_path / "nowhere"))


def test_the_mode_option_is_gone():
    assert "mode" not in MultilingualIntentClassifier.get_default_config()


@pytest.mark.parametrize(
    "key, value",
    [
        ("model_path", ""),
        ("epochs", 0),
        ("batch_size", "32"),
        ("learning_rate", 0),
        ("head_learning_rate", -1.0),
        ("weight_decay", -0.1),
        ("warmup_ratio", 1.5),
        ("validation_fraction", 1.0),
        ("trainable_layers", -1),
        ("storage_dtype", "int8"),
        ("calibrate_temperature", "yes"),
        ("refit_on_all_examples", 1),
        ("max_length", 0),
        ("inference_threads", 0),
        ("inference_precision", "int8"),
        ("typing_error_copies", -1),
    ],
)
def test_bad_config_names_key_and_value(tiny_bert, key, value):
    with pytest.raises(ValueError) as error:
        MultilingualIntentClassifier({**config(tiny_bert), key: value}, None, Resource("x"))
    assert "MultilingualIntentClassifier" in str(error.value)
    assert repr(key)[1:-1] in str(error.value) and repr(value) in str(error.value)


@pytest.mark.slow
def test_real_encoder_fine_tunes_reloads_identically_and_transfers(encoder_dir, tmp_path):
    """multilingual-e5-small, a small subset: English and Spanish examples of four intents."""
    from bot.evaluation.datasets import load_nlu_examples
    from tests.conftest import PROJECT_DIR

    keep = {"order_status", "cancel_order", "password_reset", "greet"}
    examples = [
        e
        for e in load_nlu_examples(PROJECT_DIR / "training_data" / "nlu")
        if e.intent in keep and e.language in {"en", "es"}
    ]
    cfg = {
        **MultilingualIntentClassifier.get_default_config(),
        "model_path": str(encoder_dir),
        "epochs": 2,
        "trainable_layers": 2,
    }
    classifier = trained_component(MultilingualIntentClassifier, tmp_path, cfg, to_training_data(examples))
    # German and Japanese were never in the training data.
    probes = ["Wo ist meine Bestellung?", "パスワードを忘れました", "Ich möchte meine Bestellung stornieren", "Hallo!"]
    before = intent_rankings(classifier, probes)
    expected = ["order_status", "password_reset", "cancel_order", "greet"]
    # Two epochs on 120 examples: most, not necessarily all, unseen-language probes land.
    assert sum(r[0]["name"] == e for r, e in zip(before, expected)) >= 3
    assert intent_rankings(reload(tmp_path, cfg), probes) == before
    # bfloat16 inference (the default where the CPU has it) understands what float32 does.
    for precision in ("float32", "bfloat16"):
        ranked = intent_rankings(reload(tmp_path, {**cfg, "inference_precision": precision}), probes)
        assert [r[0]["name"] for r in ranked] == [r[0]["name"] for r in before]
    stored = next(tmp_path.rglob("finetuned.safetensors"))
    assert stored.stat().st_size < 30_000_000  # two fp16 layers + head, not the 465 MB encoder
