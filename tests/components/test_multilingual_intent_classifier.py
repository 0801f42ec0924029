"""MultilingualIntentClassifier: trains, persists through model storage, reloads identically,
refuses a different encoder, rejects bad config; works on any BERT-style local model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.components.multilingual_intent_classifier import (
    EncoderMismatchError,
    MultilingualIntentClassifier,
    fit_temperature,
    softmax,
    stratified_split,
)
from bot.evaluation.datasets import Example, to_training_data

INTENTS: Dict[str, List[str]] = {
    "order_status": ["where is my order", "order status please", "track my order", "my order has not arrived",
                     "when does my order come", "status of order", "order tracking", "where is the order now"],
    "refund": ["i want a refund", "give my money back", "refund please", "money back for the shoes",
               "how do i get a refund", "refund my payment", "i need my money back", "refund status money"],
    "greet": ["hello", "hi there", "good morning", "hey", "hello bot", "hi", "morning hello", "hey hello"],
}
WORDS = sorted({w for examples in INTENTS.values() for text in examples for w in text.split()})


def build_tiny_encoder(folder: Path, model_type: str = "bert", seed: int = 0) -> Path:
    """A tiny random BERT or XLM-R model with a word-level WordPiece tokenizer, saved as a
    standard Hugging Face folder (what an operator's own model looks like)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "where", "is", "my", "money"]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), pad_token="[PAD]")
    settings = dict(vocab_size=len(dict.fromkeys(vocab)), hidden_size=32, num_hidden_layers=3, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=72, pad_token_id=1)
    torch.manual_seed(seed)
    if model_type == "bert":
        model = BertModel(BertConfig(**settings))
    else:
        model = XLMRobertaModel(XLMRobertaConfig(**settings))
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"), "bert", seed=0)


@pytest.fixture(scope="module")
def tiny_xlmr(tmp_path_factory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-xlmr"), "xlm-roberta", seed=1)


def config(model_path: Path, **overrides) -> Dict:
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


def training_data():
    return to_training_data([Example(t, intent, "en") for intent, texts in INTENTS.items() for t in texts])


def trained(storage_dir: Path, cfg: Dict) -> MultilingualIntentClassifier:
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(storage_dir)
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = MultilingualIntentClassifier.create(cfg, storage, Resource("intent_classifier"), context)
    classifier.train(training_data())
    return classifier


def reload(storage_dir: Path, cfg: Dict) -> MultilingualIntentClassifier:
    return MultilingualIntentClassifier.load(
        cfg, LocalModelStorage(storage_dir), Resource("intent_classifier"), ExecutionContext(GraphSchema({}), "test")
    )


def rankings(classifier: MultilingualIntentClassifier, texts: List[str]) -> List[List[Dict]]:
    messages = [Message(data={"text": t}) for t in texts]
    classifier.process(messages)
    return [m.get("intent_ranking") for m in messages]


PROBES = ["where is my order", "refund please", "hello", "my money back", "order hello refund"]


@pytest.mark.parametrize("encoder", ["tiny_bert", "tiny_xlmr"])
def test_train_persist_reload_gives_identical_predictions(encoder, request, tmp_path):
    folder = request.getfixturevalue(encoder)
    cfg = config(folder)
    fresh = trained(tmp_path, cfg)
    before = rankings(fresh, PROBES)
    stored = next(tmp_path.rglob("classifier.json")).parent
    assert {"finetuned.safetensors", "tokenizer", "classifier.json"} <= {p.name for p in stored.iterdir()}
    after = rankings(reload(tmp_path, cfg), PROBES)
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
    assert 0 < meta["training"]["typing_error_copies"] <= 18 == meta["training"]["train_examples"] - meta["training"]["typing_error_copies"]
    assert meta["temperature"] > 0 and meta["labels"] == sorted(INTENTS)
    assert classifier.training_report["suggested_fallback_threshold"] is not None


def test_refit_learns_the_held_out_validation_examples_too(tiny_bert, tmp_path):
    cfg = config(tiny_bert, epochs=6, early_stopping_patience=1)
    held_out_only = trained(tmp_path / "held-out", {**cfg, "refit_on_all_examples": False})
    refit = trained(tmp_path / "refit", cfg)
    report = refit.training_report
    assert report["refit"]["examples"] == report["train_examples"] + report["validation_examples"] == 24
    assert 1 <= report["refit"]["epochs"] <= len(report["history"]) <= 6
    assert report["temperature"] == held_out_only.training_report["temperature"]  # calibrated before the refit
    examples = [(m.get("text"), m.get("intent")) for m in training_data().intent_examples]
    _, validation = stratified_split([intent for _, intent in examples], cfg["validation_fraction"], cfg["random_seed"])

    def confidence_in_the_right_intent(classifier):
        ranked = rankings(classifier, [examples[i][0] for i in validation])
        return np.mean([next(r["confidence"] for r in ranking if r["name"] == examples[i][1]) for ranking, i in zip(ranked, validation)])

    assert confidence_in_the_right_intent(refit) > confidence_in_the_right_intent(held_out_only)


def test_typing_error_copies_join_the_training_side_only():
    texts = ["where is my order", "refund please", "hi", "注文はどこですか", "hello there"]
    targets = np.array([0, 1, 2, 0, 2])
    train_idx = [0, 1, 2, 3]  # 4 ("hello there") is held out for validation
    extended, extended_targets, extended_idx = MultilingualIntentClassifier._with_typing_errors(texts, targets, train_idx, 2, 42)
    assert extended[:5] == texts and extended_idx[:4] == train_idx and 4 not in extended_idx
    copies = extended[5:]
    # "hi" is too short to mistype and Japanese is not typed letter by letter: two copies each of the others.
    assert len(copies) == 4 and all(c not in texts for c in copies)
    assert extended_targets[5:].tolist() == [0, 1, 0, 1] and extended_idx[4:] == [5, 6, 7, 8]
    assert MultilingualIntentClassifier._with_typing_errors(texts, targets, train_idx, 0, 42) == (texts, targets, train_idx)


def test_same_seed_trains_the_same_model(tiny_bert, tmp_path):
    cfg = config(tiny_bert, epochs=3)
    first = rankings(trained(tmp_path / "a", cfg), PROBES)
    second = rankings(trained(tmp_path / "b", cfg), PROBES)
    assert first == second


def test_frozen_logistic_mode_is_the_baseline_and_also_reloads(tiny_bert, tmp_path):
    cfg = config(tiny_bert, mode="frozen_logistic")
    before = rankings(trained(tmp_path, cfg), PROBES)
    assert (next(tmp_path.rglob("head.npz"))).is_file()
    assert rankings(reload(tmp_path, cfg), PROBES) == before


def test_refuses_an_encoder_it_was_not_trained_on(tiny_bert, tiny_xlmr, tmp_path):
    trained(tmp_path, config(tiny_bert, epochs=1))
    with pytest.raises(EncoderMismatchError, match="Retrain with `rasa train`"):
        reload(tmp_path, config(tiny_xlmr))


def test_refuses_same_architecture_with_other_weights(tiny_bert, tmp_path):
    other = build_tiny_encoder(tmp_path / "other-bert", "bert", seed=7)
    trained(tmp_path / "storage", config(tiny_bert, epochs=1))
    with pytest.raises(EncoderMismatchError, match="frozen weights differ"):
        reload(tmp_path / "storage", config(other))


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
    storage = LocalModelStorage(tmp_path)
    classifier = MultilingualIntentClassifier.create(
        config(tiny_bert), storage, Resource("x"), ExecutionContext(GraphSchema({}), "t")
    )
    with pytest.raises(ValueError, match="at least two intents"):
        classifier.train(to_training_data([Example("hello", "greet"), Example("hi", "greet")]))


def test_missing_model_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="bridge models"):
        MultilingualIntentClassifier.create(
            config(tmp_path / "nowhere"), LocalModelStorage(tmp_path), Resource("x"), ExecutionContext(GraphSchema({}), "t")
        )


@pytest.mark.parametrize(
    "key, value",
    [
        ("mode", "svm"),
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
    assert repr(key)[1:-1] in str(error.value) and repr(value) in str(error.value)


def test_temperature_fit_recovers_overconfidence():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, 2000)
    true_logits = rng.normal(size=(2000, 4))
    true_logits[np.arange(2000), targets] += 1.5
    probabilities = softmax(true_logits)
    sampled = np.array([rng.choice(4, p=p) for p in probabilities])
    assert 2.5 < fit_temperature(true_logits * 3.0, sampled) < 3.6
    perfect = np.eye(4)[[0, 1, 2, 3]] * 5.0
    assert fit_temperature(perfect, np.arange(4)) == 1.0  # no error: no evidence to sharpen


def test_stratified_split_keeps_every_intent_in_training():
    labels = ["a"] * 10 + ["b"] * 3 + ["c"]
    train, validation = stratified_split(labels, 0.2, seed=1)
    assert sorted(train + validation) == list(range(14))
    assert [labels[i] for i in validation].count("a") == 2 and "c" not in [labels[i] for i in validation]
    assert stratified_split(labels, 0.2, seed=1) == (train, validation)


@pytest.mark.slow
def test_real_encoder_fine_tunes_reloads_identically_and_transfers(encoder_dir, tmp_path):
    """multilingual-e5-small, a small subset: English and Spanish examples of four intents."""
    from bot.evaluation.datasets import load_nlu_examples
    from tests.conftest import PROJECT_DIR

    keep = {"order_status", "cancel_order", "password_reset", "greet"}
    examples = [e for e in load_nlu_examples(PROJECT_DIR / "training_data" / "nlu") if e.intent in keep and e.language in {"en", "es"}]
    cfg = {**MultilingualIntentClassifier.get_default_config(), "model_path": str(encoder_dir), "epochs": 2, "trainable_layers": 2}
    storage = LocalModelStorage(tmp_path)
    classifier = MultilingualIntentClassifier.create(cfg, storage, Resource("intent_classifier"), ExecutionContext(GraphSchema({}), "t"))
    classifier.train(to_training_data(examples))
    # German and Japanese were never in the training data.
    probes = ["Wo ist meine Bestellung?", "パスワードを忘れました", "Ich möchte meine Bestellung stornieren", "Hallo!"]
    before = rankings(classifier, probes)
    expected = ["order_status", "password_reset", "cancel_order", "greet"]
    # Two epochs on 120 examples: most, not necessarily all, unseen-language probes land.
    assert sum(r[0]["name"] == e for r, e in zip(before, expected)) >= 3
    assert rankings(reload(tmp_path, cfg), probes) == before
    # bfloat16 inference (the default where the CPU has it) understands what float32 does.
    for precision in ("float32", "bfloat16"):
        ranked = rankings(reload(tmp_path, {**cfg, "inference_precision": precision}), probes)
        assert [r[0]["name"] for r in ranked] == [r[0]["name"] for r in before]
    stored = next(tmp_path.rglob("finetuned.safetensors"))
    assert stored.stat().st_size < 30_000_000  # two fp16 layers + head, not the 465 MB encoder
