"""The answer classifier: tells neighbouring answers apart where one question's similarity cannot."""

from __future__ import annotations

import numpy as np
import pytest

from bot.knowledge.answer_classifier import AnswerClassifier


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_message_goes_to_the_answer_whose_vectors_surround_it():
    vectors = np.vstack([unit(1, 0.1), unit(1, -0.3), unit(0.1, 1), unit(-0.3, 1), unit(-1, -1)])
    labels = ["sell", "sell", "valid", "valid", "other"]
    classifier = AnswerClassifier.fit(vectors, labels, C=100.0)
    log_probabilities = classifier.log_probabilities(np.vstack([unit(1, 0), unit(0, 1)]))
    assert [classifier.entry_ids[int(i)] for i in log_probabilities.argmax(axis=1)] == ["sell", "valid"]
    assert np.exp(log_probabilities).sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-6)


def test_one_answer_has_nothing_to_tell_apart():
    assert AnswerClassifier.fit(np.eye(2, dtype=np.float32), ["only", "only"]) is None


@pytest.mark.slow
def test_a_korean_gift_card_question_gets_the_validity_answer_not_its_neighbour(demo_store, encoder_dir):
    from bot.components.knowledge_base_retriever import KnowledgeBaseRetriever
    from bot.knowledge.retriever import AnswerRetriever

    # Neither gift-002 (validity) nor gift-006 (scheduling an e-gift card) has this wording;
    # gift-006 has the only Korean question about gift cards, so the nearest question is its.
    question = ["기프트 카드는 얼마 동안 유효한가요?"]
    weight = KnowledgeBaseRetriever.get_default_config()["classifier_weight"]
    questions_only = AnswerRetriever(demo_store, encoder_dir, answer_weight=0.0).open()
    similarity_only = questions_only.search(question, k=3, languages=["ko"])[0]
    with_classifier = AnswerRetriever(demo_store, encoder_dir, classifier_weight=weight).open()
    hits = with_classifier.search(question, k=3, languages=["ko"])[0]
    print([(h.entry_id, round(h.score, 3), h.answer_probability) for h in hits])
    assert similarity_only[0].entry_id == "gift-006"
    assert hits[0].entry_id == "gift-002"
    assert all(0.0 <= h.answer_probability <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
