"""A tiny random encoder folder, built by the test that needs it, and the intents it knows.

Tests of anything that runs an encoder (the intent classifiers, `bridge eval nlu`) build
this instead of loading multilingual-e5-small: a standard Hugging Face folder, like an
operator's own model, that trains in seconds. The fixtures `tiny_bert` and `tiny_xlmr` are
made available to a test folder by importing them in its conftest.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.training_data import TrainingData

INTENTS: dict[str, list[str]] = {
    "order_status": [
        "where is my order",
        "order status please",
        "track my order",
        "my order has not arrived",
        "when does my order come",
        "status of order",
        "order tracking",
        "where is the order now",
    ],
    "refund": [
        "i want a refund",
        "give my money back",
        "refund please",
        "money back for the shoes",
        "how do i get a refund",
        "refund my payment",
        "i need my money back",
        "refund status money",
    ],
    "greet": ["hello", "hi there", "good morning", "hey", "hello bot", "hi", "morning hello", "hey hello"],
}
WORDS = sorted({w for examples in INTENTS.values() for text in examples for w in text.split()})


def build_tiny_encoder(folder: Path, model_type: str = "bert", seed: int = 0) -> Path:
    """A tiny random BERT or XLM-R model ("bert" or "xlm-roberta") with a word-level
    WordPiece tokenizer over the words of INTENTS, saved as a standard Hugging Face folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "where", "is", "my", "money"]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), pad_token="[PAD]")
    settings = dict(
        vocab_size=len(dict.fromkeys(vocab)),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=72,
        pad_token_id=1,
    )
    torch.manual_seed(seed)
    if model_type == "bert":
        model = BertModel(BertConfig(**settings))
    else:
        model = XLMRobertaModel(XLMRobertaConfig(**settings))
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def intents_training_data() -> TrainingData:
    """INTENTS as Rasa training data (English examples)."""
    from bot.evaluation.datasets import Example, to_training_data

    return to_training_data([Example(t, intent, "en") for intent, texts in INTENTS.items() for t in texts])


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT folder, built once per test module."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-bert"), "bert", seed=0)


@pytest.fixture(scope="module")
def tiny_xlmr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-RoBERTa folder (another architecture and other weights than tiny_bert)."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-xlmr"), "xlm-roberta", seed=1)
