"""Language centring: what it needs, what it refuses, and the cross-lingual matches it brings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.knowledge.language_centroids import CalibrationError, LanguageCentroids, calibration_texts
from tests.conftest import PROJECT_DIR
from tests.helpers.knowledge_base import entry


class FakeEncoder:
    """Stands in for the encoder only where the arithmetic, not the model, is under test."""

    def embed_queries(self, texts):
        return np.array([[1.0, float(len(t))] for t in texts], dtype=np.float32)


def test_the_demo_nlu_data_calibrates_all_twelve_languages():
    texts = calibration_texts(PROJECT_DIR / "training_data" / "nlu")
    assert sorted(texts) == sorted(["en", "es", "pt", "fr", "de", "it", "ru", "zh", "ja", "ko", "ar", "hi"])
    assert min(len(v) for v in texts.values()) >= 100


def test_centring_subtracts_the_language_mean_and_normalises():
    centroids = LanguageCentroids({"de": np.array([1.0, 0.0]), "en": np.array([0.0, 1.0])})
    centred = centroids.center(np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]]), ["de", "en", None])
    assert np.allclose(centred[0], [1.0, 0.0]) and np.allclose(centred[1], [0.0, 1.0])
    # An unknown language is centred on the mean of all centroids.
    assert np.allclose(centred[2], np.array([0.5, 0.5]) / np.linalg.norm([0.5, 0.5]))
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0)


def test_centroids_survive_the_manifest_round_trip():
    centroids = LanguageCentroids({"ko": np.array([0.25, -0.5, 0.125])})
    again = LanguageCentroids.from_dict(json.loads(json.dumps(centroids.to_dict())))
    assert np.allclose(again.centroids["ko"], centroids.centroids["ko"])


def test_thin_or_missing_calibration_data_is_refused_by_name(tmp_path):
    with pytest.raises(CalibrationError, match="at least 20 texts per language.*'fr': 3"):
        LanguageCentroids.compute(FakeEncoder(), {"en": ["hello"] * 30, "fr": ["bonjour"] * 3})
    with pytest.raises(CalibrationError, match="'.*no-such-folder' not found.*set it to null"):
        calibration_texts(tmp_path / "no-such-folder")
    with pytest.raises(CalibrationError, match="got none"):
        LanguageCentroids.compute(FakeEncoder(), {})


def test_a_store_built_without_calibration_data_says_what_is_missing(tmp_path, tiny_encoder_dir):
    from bot.knowledge.store import KnowledgeBaseStore

    store = KnowledgeBaseStore(tmp_path / "kb", calibration=tmp_path / "missing-nlu")
    with pytest.raises(CalibrationError, match="missing-nlu"):
        store.build([entry("gift", ["Do you sell gift cards?"], "Yes.")], tiny_encoder_dir)
    assert store.manifest() is None


@pytest.mark.slow
def test_centring_lets_a_korean_question_find_the_english_one_it_repeats(tmp_path, encoder_dir):
    """Raw vectors rank a same-language but unrelated question first; centred ones do not."""
    from bot.knowledge.retriever import AnswerRetriever
    from bot.knowledge.store import KnowledgeBaseStore

    entries = [
        entry("wool", ["How should I wash a wool jumper?"], "Hand-wash it in cold water."),
        entry("track", ["배송 조회는 어디서 하나요?"], "Use the tracking link in your shipping e-mail."),
        entry("gift", ["Do you sell gift cards?"], "Yes, from EUR 10."),
    ]
    question = "울 스웨터는 어떻게 세탁해야 하나요?"  # "How should I wash a wool sweater?"
    scores = {}
    for name, calibration in (("raw", None), ("centred", PROJECT_DIR / "training_data" / "nlu")):
        store = KnowledgeBaseStore(tmp_path / name, calibration=calibration)
        store.build(entries, encoder_dir)
        hits = AnswerRetriever(store, encoder_dir, answer_weight=0.0).open().search([question], k=3)[0]
        scores[name] = {h.entry_id: h.score for h in hits}
    assert max(scores["centred"], key=scores["centred"].get) == "wool"
    margin = {name: s["wool"] - s["track"] for name, s in scores.items()}
    assert margin["centred"] > margin["raw"], margin
