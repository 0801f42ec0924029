"""A trained model whose encoder folder or stored files are missing, corrupt or another
encoder's refuses to load, with an error naming the folder and the fix.

Only "nothing trained yet" loads (an untrained component that predicts nothing): a server that
started on any of the broken cases would answer every customer's turn with nlu_fallback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from bot.components.encoder_intent_classifier import StoredModelError
from bot.components.frozen_encoder_intent_classifier import FrozenEncoderIntentClassifier
from bot.components.knowledge_base_retriever import KnowledgeBaseLoadError, KnowledgeBaseRetriever
from bot.components.multilingual_intent_classifier import MultilingualIntentClassifier
from bot.models.encoder import EncoderLoadError, EncoderMismatchError, EncoderNotFoundError, forget_loaded_encoders
from tests.helpers.graph_components import reloaded, trained
from tests.helpers.tiny_encoder import build_tiny_encoder, intents_training_data

CLASSIFIERS = {
    "fine-tuned": (MultilingualIntentClassifier, {"epochs": 1, "trainable_layers": 1, "batch_size": 8}),
    "frozen": (FrozenEncoderIntentClassifier, {}),
}
STORED_FILE = {"fine-tuned": "finetuned.safetensors", "frozen": "head.npz"}


@pytest.fixture(autouse=True)
def fresh_encoder_cache():
    """Each test breaks its own encoder folder: no encoder loaded by another test may hide that."""
    forget_loaded_encoders()
    yield
    forget_loaded_encoders()


def truncate(path: Path) -> None:
    """Keeps the first half of `path`, as an interrupted copy or a full disk leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def classifier_config(kind: str, encoder: Path) -> dict:
    component, overrides = CLASSIFIERS[kind]
    return {**component.get_default_config(), "model_path": str(encoder), "threads": 1, **overrides}


def trained_classifier(kind: str, tmp_path: Path) -> tuple[type, dict, Path]:
    """A classifier trained into tmp_path/storage on its own tiny encoder folder."""
    encoder = build_tiny_encoder(tmp_path / "encoder", "bert", seed=0)
    component = CLASSIFIERS[kind][0]
    config = classifier_config(kind, encoder)
    trained(component, tmp_path / "storage", config, intents_training_data())
    forget_loaded_encoders()  # the server that loads it is another process
    return component, config, encoder


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_a_trained_classifier_loads_while_nothing_is_broken(kind, tmp_path):
    component, config, _ = trained_classifier(kind, tmp_path)
    assert reloaded(component, tmp_path / "storage", config).is_trained


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_nothing_trained_yet_is_the_one_case_that_loads_untrained(kind, tmp_path):
    encoder = build_tiny_encoder(tmp_path / "encoder", "bert", seed=0)
    component = CLASSIFIERS[kind][0]
    assert not reloaded(component, tmp_path / "empty", classifier_config(kind, encoder)).is_trained


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_a_missing_encoder_folder_is_named_with_the_fix(kind, tmp_path):
    component, config, encoder = trained_classifier(kind, tmp_path)
    shutil.rmtree(encoder)
    with pytest.raises(EncoderNotFoundError, match=rf"'{encoder}'.*`bridge models`"):
        reloaded(component, tmp_path / "storage", config)


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_a_truncated_encoder_weights_file_is_named_with_the_fix(kind, tmp_path):
    component, config, encoder = trained_classifier(kind, tmp_path)
    truncate(encoder / "model.safetensors")
    with pytest.raises(EncoderLoadError, match=rf"'{encoder}'.*incomplete or corrupt.*`bridge models`"):
        reloaded(component, tmp_path / "storage", config)


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_another_encoders_fingerprint_is_refused(kind, tmp_path):
    component, config, encoder = trained_classifier(kind, tmp_path)
    (encoder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": "another-encoder"}))
    with pytest.raises(EncoderMismatchError, match=r"'another-encoder'.*Retrain with `rasa train`"):
        reloaded(component, tmp_path / "storage", config)


@pytest.mark.parametrize("kind", CLASSIFIERS)
@pytest.mark.parametrize("broken", ["truncated", "missing"])
def test_a_broken_stored_model_names_the_fix(kind, broken, tmp_path):
    component, config, _ = trained_classifier(kind, tmp_path)
    stored = next((tmp_path / "storage").rglob(STORED_FILE[kind]))
    truncate(stored) if broken == "truncated" else stored.unlink()
    with pytest.raises(StoredModelError, match=r"cannot be read.*`rasa train`"):
        reloaded(component, tmp_path / "storage", config)


@pytest.mark.parametrize("kind", CLASSIFIERS)
def test_unreadable_classifier_metadata_names_the_fix(kind, tmp_path):
    component, config, _ = trained_classifier(kind, tmp_path)
    next((tmp_path / "storage").rglob("classifier.json")).write_text("{not json")
    with pytest.raises(StoredModelError, match=r"cannot be read.*`rasa train`"):
        reloaded(component, tmp_path / "storage", config)


# ------------------------------------------------------------------- knowledge base


def knowledge_base_config(tmp_path: Path, encoder: Path) -> dict:
    source = tmp_path / "source.jsonl"
    entry = {
        "id": "gift",
        "questions": ["Do you sell gift cards?"],
        "answer": "Yes, from EUR 10 to EUR 500.",
        "language": "en",
        "updated_at": "2024-01-01T00:00:00Z",
    }
    source.write_text(json.dumps(entry) + "\n")
    return {
        **KnowledgeBaseRetriever.get_default_config(),
        "store_dir": str(tmp_path / "kb"),
        "source": str(source),
        "model_path": str(encoder),
        "calibration": None,
        "threads": 1,
    }


def load_knowledge_base(config: dict, tmp_path: Path) -> KnowledgeBaseRetriever:
    storage = LocalModelStorage(tmp_path / "model")
    return KnowledgeBaseRetriever.load(config, storage, Resource("kb"), ExecutionContext(None))


@pytest.fixture
def built_knowledge_base(tmp_path: Path) -> tuple[dict, Path]:
    """A knowledge base built on its own tiny sentence encoder folder."""
    from tests.helpers.tiny_sentence_encoder import build_tiny_sentence_encoder

    encoder = build_tiny_sentence_encoder(tmp_path / "encoder")
    config = knowledge_base_config(tmp_path, encoder)
    load_knowledge_base(config, tmp_path)
    forget_loaded_encoders()
    return config, encoder


def test_knowledge_base_with_a_missing_encoder_folder_refuses_to_load(built_knowledge_base, tmp_path):
    config, encoder = built_knowledge_base
    shutil.rmtree(encoder)
    with pytest.raises(EncoderNotFoundError, match=rf"'{encoder}'.*`bridge models`"):
        load_knowledge_base(config, tmp_path)


def test_knowledge_base_with_a_truncated_encoder_refuses_to_load(built_knowledge_base, tmp_path):
    config, encoder = built_knowledge_base
    truncate(encoder / "model.safetensors")
    with pytest.raises(EncoderLoadError, match=rf"'{encoder}'.*incomplete or corrupt"):
        load_knowledge_base(config, tmp_path)


def test_knowledge_base_with_a_truncated_index_names_the_store_and_the_fix(built_knowledge_base, tmp_path):
    config, _ = built_knowledge_base
    manifest = json.loads((Path(config["store_dir"]) / "manifest.json").read_text())
    truncate(Path(config["store_dir"]) / manifest["index_file"])
    with pytest.raises(KnowledgeBaseLoadError, match=rf"'{config['store_dir']}'.*`bridge kb build`"):
        load_knowledge_base(config, tmp_path)


def test_knowledge_base_built_by_another_encoder_is_refused(built_knowledge_base, tmp_path):
    config, encoder = built_knowledge_base
    (encoder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": "another-encoder"}))
    with pytest.raises(EncoderMismatchError):
        load_knowledge_base(config, tmp_path)
