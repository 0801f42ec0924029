"""Retrieval across languages on the demo knowledge base (English answers, any-language questions)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

# Questions written for this test (not the stored ones), one per language. Cross-lingual
# retrieval is the weak point of the small encoder (docs/benchmarks.md, kb): these are
# short, clear questions, each checked among the top 5 hits; the benchmark measures harder
# paraphrases and the decision rule.
QUESTIONS = [
    ("en", "Can I buy a gift card for my sister?", "gift-001"),
    ("es", "¿Se pueden comprar tarjetas de regalo?", "gift-001"),
    ("pt", "Vocês entregam na Austrália?", "ship-002"),
    ("fr", "Livrez-vous en Australie ?", "ship-002"),
    ("de", "Gibt es Rabatt für Studenten?", "student-001"),
    ("it", "C'è uno sconto per gli studenti?", "student-001"),
    ("ru", "Вы доставляете в Австралию?", "ship-002"),
    ("zh", "有学生折扣吗？", "student-001"),
    ("ja", "オーストラリアに発送できますか？", "ship-002"),
    ("ko", "학생 할인이 있나요?", "student-001"),
    ("ar", "كم تكلفة الشحن؟", "ship-003"),
    ("hi", "क्या आपके यहाँ गिफ्ट कार्ड मिलते हैं?", "gift-001"),
]


@pytest.mark.parametrize("language, text, expected", QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_a_question_in_any_language_finds_the_historical_answer(demo_retriever, language, text, expected):
    hits = demo_retriever.search([text], k=5)[0]
    print(f"[{language}] {text} -> {[(h.entry_id, round(h.score, 3)) for h in hits]}")
    assert expected in [h.entry_id for h in hits]


# gift-002 (how long a gift card is valid) has stored questions in en, de and ja only; its
# versions are written in every language. Questions written for this test.
VERSION_QUESTIONS = [
    ("ko", "기프트 카드 유효기간이 몇 년이에요?"),
    ("ar", "كم سنة تبقى بطاقة الهدية صالحة؟"),
    ("hi", "गिफ्ट कार्ड कितने साल तक वैध रहता है?"),
]


@pytest.mark.parametrize("language, text", VERSION_QUESTIONS, ids=[q[0] for q in VERSION_QUESTIONS])
def test_a_question_meets_the_answer_written_in_its_own_language(demo_store, encoder_dir, language, text):
    from bot.knowledge.retriever import AnswerRetriever

    answers_only = AnswerRetriever(demo_store, encoder_dir, answer_weight=1.0).open()
    hits = answers_only.search([text], k=3, languages=[language])[0]
    print(f"[{language}] {text} -> {[(h.entry_id, round(h.score, 3)) for h in hits]}")
    # Against the English answer as written these score below 0.5; against their own
    # language's version, well above.
    assert hits[0].entry_id == "gift-002"
    assert hits[0].score > 0.55


def test_the_version_in_the_customers_language_lifts_the_right_answer_over_its_neighbour(demo_retriever):
    # Matched against the English answers, gift-012 ranked first (measured); the Arabic
    # version of gift-002 puts it ahead.
    hits = demo_retriever.search(["كم سنة تبقى بطاقة الهدية صالحة؟"], k=3, languages=["ar"])[0]
    print([(h.entry_id, round(h.score, 3)) for h in hits])
    assert hits[0].entry_id == "gift-002"


def test_hits_are_distinct_answers_best_first(demo_retriever):
    hits = demo_retriever.search(["gift card"], k=5)[0]
    assert len({h.entry_id for h in hits}) == len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
