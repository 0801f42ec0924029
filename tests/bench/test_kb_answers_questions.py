"""The "answers in every language" question set (bench/data/kb_answers_questions.yml) is what
its header promises: every label exists, no text is borrowed from the bot's own data, each
language and section is covered, and the dev/test split is the seeded one the header states."""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

import yaml

from bot.knowledge.source import load_entries
from bot.language.identifier import IdentifierSettings, LanguageIdentifier
from bot.training_data import load_nlu_examples
from tests.conftest import LANGUAGES, PROJECT_DIR

QUESTIONS = PROJECT_DIR / "bench" / "data" / "kb_answers_questions.yml"
KNOWLEDGE_BASE = PROJECT_DIR / "knowledge_base" / "demo"
NLU = PROJECT_DIR / "training_data" / "nlu"

SPLIT_SEED = 20261201
# Sections in the order the split visits them, with the label field each item carries.
SECTIONS = {"knowledge_base": "answer", "actions": "intent", "unanswerable": None}
MIN_PER_LANGUAGE = {"knowledge_base": 22, "actions": 12, "unanswerable": 5}
MIN_DISTINCT_ANSWERS = 60
# The requests the bot serves with its own intents and actions (greet, thanks... are not asked).
ACTION_INTENTS = {
    "order_status",
    "cancel_order",
    "change_delivery_address",
    "delivery_time",
    "return_request",
    "refund_status",
    "payment_problem",
    "payment_methods",
    "request_invoice",
    "create_account",
    "delete_account",
    "password_reset",
    "complaint",
    "talk_to_human",
}
# Topics the question set must reach, as the knowledge base tags them.
TOPIC_TAGS = {"product-care", "warranty", "shipping", "gift-cards", "sizes", "services", "seasonal"}


def normalised(text: str) -> str:
    return " ".join(text.casefold().split())


@cache
def question_set() -> dict:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


@cache
def knowledge_base() -> dict:
    return {entry.id: entry for entry in load_entries(KNOWLEDGE_BASE)}


def items(section: str) -> list[dict]:
    return question_set()[section]


def test_sections_and_fields():
    assert list(question_set()) == list(SECTIONS)
    for section, label in SECTIONS.items():
        expected = {"text", "language", "split"} | ({label} if label else set())
        wrong = [item for item in items(section) if set(item) != expected or not str(item["text"]).strip()]
        assert not wrong, f"{section}: items without exactly the fields {sorted(expected)}: {wrong[:3]}"
        assert {item["language"] for item in items(section)} == set(LANGUAGES)


def test_counts_per_language_section_and_split():
    counts = Counter((section, item["language"], item["split"]) for section in SECTIONS for item in items(section))
    rows = [
        (language, [f"{counts[s, language, 'dev']}/{counts[s, language, 'test']}" for s in SECTIONS])
        for language in LANGUAGES
    ]
    total = {
        key: sum(n for (s, _, split), n in counts.items() if (s, split) == key)
        for key in ((s, p) for s in SECTIONS for p in ("dev", "test"))
    }
    rows.append(("total", [f"{total[s, 'dev']}/{total[s, 'test']}" for s in SECTIONS]))
    print(f"\n{'language':<9}" + "".join(f"{section + ' dev/test':>26}" for section in SECTIONS))
    for language, cells in rows:
        print(f"{language:<9}" + "".join(f"{cell:>26}" for cell in cells))
    short = {
        (section, language): counts[section, language, "dev"] + counts[section, language, "test"]
        for section in SECTIONS
        for language in LANGUAGES
        if counts[section, language, "dev"] + counts[section, language, "test"] < MIN_PER_LANGUAGE[section]
    }
    assert not short, f"sections with too few items in a language: {short}"


def test_every_answer_id_exists_and_the_answers_are_spread():
    answers = [item["answer"] for item in items("knowledge_base")]
    unknown = sorted(set(answers) - set(knowledge_base()))
    assert not unknown, f"answer ids not in {KNOWLEDGE_BASE}: {unknown}"
    print(f"\ndistinct answers covered: {len(set(answers))}")
    assert len(set(answers)) >= MIN_DISTINCT_ANSWERS
    tags = {tag for answer in answers for tag in knowledge_base()[answer].tags}
    assert TOPIC_TAGS <= tags, f"topics no question reaches: {sorted(TOPIC_TAGS - tags)}"


def test_every_intent_is_an_action_intent_of_the_domain(domain):
    intents = Counter(item["intent"] for item in items("actions"))
    assert set(intents) <= set(domain.intents), f"not in the domain: {sorted(set(intents) - set(domain.intents))}"
    assert set(intents) == ACTION_INTENTS, (
        f"unused: {ACTION_INTENTS - set(intents)}, not actions: {set(intents) - ACTION_INTENTS}"
    )


def test_no_text_is_a_stored_question_a_training_example_or_repeated():
    stored = {normalised(question) for entry in knowledge_base().values() for question in entry.questions}
    examples = {normalised(example.text) for example in load_nlu_examples(NLU)}
    texts = [normalised(item["text"]) for section in SECTIONS for item in items(section)]
    assert not [text for text in texts if text in stored], "texts equal to a stored knowledge-base question"
    assert not [text for text in texts if text in examples], "texts equal to an NLU training example"
    assert not [text for text, n in Counter(texts).items() if n > 1], "texts that appear twice"


def test_most_questions_of_each_language_target_answers_with_no_stored_question_in_it():
    # Every stored question is in one of the 12 languages: no need to screen for others.
    identifier = LanguageIdentifier(LANGUAGES, IdentifierSettings(detect_unsupported=False))

    def language_of(question: str) -> str | None:
        guess = identifier.identify(question)
        return guess.language or guess.best_candidate

    stored_languages = {
        entry.id: {language_of(question) for question in entry.questions} for entry in knowledge_base().values()
    }
    unseen = Counter(
        item["language"] for item in items("knowledge_base") if item["language"] not in stored_languages[item["answer"]]
    )
    total = Counter(item["language"] for item in items("knowledge_base"))
    print(f"\nquestions whose answer has no stored question in their language: {sum(unseen.values())}/{total.total()}")
    too_few = {
        language: f"{unseen[language]}/{total[language]}"
        for language in LANGUAGES
        if unseen[language] * 2 <= total[language]
    }
    assert not too_few, f"languages where most questions target answers already asked in them: {too_few}"


def test_the_split_is_the_seeded_half_and_half_the_header_states():
    rng = random.Random(SPLIT_SEED)
    differ = []
    for section in SECTIONS:
        for language in LANGUAGES:
            mine = [item for item in items(section) if item["language"] == language]
            order = list(range(len(mine)))
            rng.shuffle(order)
            dev = set(order[: len(mine) // 2])
            expected = ["dev" if position in dev else "test" for position in range(len(mine))]
            if [item["split"] for item in mine] != expected:
                differ.append((section, language))
    assert not differ, f"splits that are not the seeded one (never re-split: the set was split once): {differ}"
