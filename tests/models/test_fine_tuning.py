"""The fine-tuning loop: stratified split, typing-error copies on the training side only,
early stopping, calibration and refit, deterministic for a seed."""

from __future__ import annotations

import numpy as np

from bot.models.encoder_network import EncoderNetwork
from bot.models.fine_tuning import FineTuningSettings, fine_tune, stratified_split, with_typing_error_copies
from tests.helpers.tiny_encoder import INTENTS

LABELS = sorted(INTENTS)
TEXTS = [t for intent in LABELS for t in INTENTS[intent]]
TARGETS = np.array([LABELS.index(intent) for intent in LABELS for _ in INTENTS[intent]])


def settings(**overrides) -> FineTuningSettings:
    values = dict(
        epochs=4, batch_size=8, learning_rate=1e-3, head_learning_rate=1e-2, weight_decay=0.01, warmup_ratio=0.1,
        validation_fraction=0.25, early_stopping_patience=5, refit_on_all_examples=True, random_seed=42,
        calibrate_temperature=True, typing_error_copies=0, storage_dtype="float16", C=10.0, max_iter=2000,
    )
    return FineTuningSettings(**{**values, **overrides})


def tuned(folder, **overrides):
    net = EncoderNetwork(folder, len(LABELS), trainable_layers=2, max_length=16, seed=42)
    return net, fine_tune(net, list(TEXTS), TARGETS, LABELS, settings(**overrides))


def test_settings_come_from_a_component_config():
    from bot.components.multilingual_intent_classifier import MultilingualIntentClassifier

    defaults = MultilingualIntentClassifier.get_default_config()
    assert FineTuningSettings.from_config(defaults).epochs == defaults["epochs"]


def test_fine_tune_reports_history_calibration_and_refit(tiny_bert):
    net, result = tuned(tiny_bert)
    report = result.report
    assert [h["epoch"] for h in report["history"]] == [1, 2, 3, 4]
    assert report["train_examples"] == 18 and report["validation_examples"] == 6
    assert report["refit"]["examples"] == 24 and report["refit"]["epochs"] <= 4
    assert result.temperature > 0 and report["temperature"] == round(result.temperature, 4)
    assert 0 <= report["validation_accuracy"] <= 1
    # Rounded to the storage precision: storing and reloading changes nothing.
    assert all(np.array_equal(p.detach().half().float(), p.detach()) for p in net.trainable_parameters().values())


def test_without_validation_there_is_no_early_stopping_nor_calibration(tiny_bert):
    _, result = tuned(tiny_bert, validation_fraction=0.0, epochs=2)
    assert result.temperature == 1.0 and result.report["validation_examples"] == 0
    assert "refit" not in result.report and "val_loss" not in result.report["history"][0]


def test_same_seed_same_model(tiny_bert):
    first, _ = tuned(tiny_bert, epochs=2)
    second, _ = tuned(tiny_bert, epochs=2)
    assert all(np.array_equal(a.detach(), b.detach()) for a, b in zip(
        first.trainable_parameters().values(), second.trainable_parameters().values()
    ))


def test_typing_error_copies_join_the_training_side_only():
    texts = ["where is my order", "refund please", "hi", "注文はどこですか", "hello there"]
    targets = np.array([0, 1, 2, 0, 2])
    train_idx = [0, 1, 2, 3]  # 4 ("hello there") is held out for validation
    extended, extended_targets, extended_idx = with_typing_error_copies(texts, targets, train_idx, 2, 42)
    assert extended[:5] == texts and extended_idx[:4] == train_idx and 4 not in extended_idx
    copies = extended[5:]
    # "hi" is too short to mistype and Japanese is not typed letter by letter: two copies each of the others.
    assert len(copies) == 4 and all(c not in texts for c in copies)
    assert extended_targets[5:].tolist() == [0, 1, 0, 1] and extended_idx[4:] == [5, 6, 7, 8]
    assert with_typing_error_copies(texts, targets, train_idx, 0, 42) == (texts, targets, train_idx)


def test_stratified_split_keeps_every_intent_in_training():
    labels = ["a"] * 10 + ["b"] * 3 + ["c"]
    train, validation = stratified_split(labels, 0.2, seed=1)
    assert sorted(train + validation) == list(range(14))
    assert [labels[i] for i in validation].count("a") == 2 and "c" not in [labels[i] for i in validation]
    assert stratified_split(labels, 0.2, seed=1) == (train, validation)
