"""The demo bot's data: every intent in all 12 languages, every response authored in all 12."""

import re
from collections import Counter

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import LANGUAGES, PROJECT_DIR

MIN_EXAMPLES_PER_LANGUAGE = 10


RASA_DEFAULT_INTENTS = {"nlu_fallback", "restart", "back", "session_start", "out_of_scope_"}
# Intents a pipeline component sets instead of the classifier; they have no examples.
COMPONENT_INTENTS = {"unsupported_language", "knowledge_base_question"}


def user_intents(domain: Domain) -> list:
    return [intent for intent in domain.intents if intent not in RASA_DEFAULT_INTENTS | COMPONENT_INTENTS]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_enough_examples_in_every_language(domain, language):
    data = load_data(str(PROJECT_DIR / "training_data" / "nlu" / f"{language}.yml"))
    counts = Counter(m.get("intent") for m in data.intent_examples)
    assert set(counts) <= set(user_intents(domain)), f"{language}: intents missing from the domain"
    too_few = {i: counts.get(i, 0) for i in user_intents(domain) if counts.get(i, 0) < MIN_EXAMPLES_PER_LANGUAGE}
    assert not too_few, f"{language}: intents with fewer than {MIN_EXAMPLES_PER_LANGUAGE} examples: {too_few}"
    assert {m.get("metadata", {}).get("intent", {}).get("language") for m in data.intent_examples} == {language}


def test_at_least_twenty_intents(domain):
    assert len(user_intents(domain)) >= 20


def test_every_response_is_authored_in_every_language_with_the_same_placeholders(domain):
    problems = []
    for name, variants in domain.responses.items():
        if all(re.fullmatch(r"\s*(\{\w+\}\s*)+", v.get("text", "")) for v in variants):
            continue  # only placeholders (e.g. a knowledge-base answer): nothing to author
        by_language = {
            c["value"]: v["text"] for v in variants for c in v.get("condition", []) if c["name"] == "language"
        }
        if sorted(by_language) != sorted(LANGUAGES):
            problems.append(f"{name}: languages {sorted(by_language)}")
            continue
        placeholders = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in by_language.items()}
        if any(p != placeholders["en"] for p in placeholders.values()):
            problems.append(f"{name}: placeholders differ {placeholders}")
    assert not problems, "\n".join(problems)


def test_every_action_response_used_in_rules_exists(domain):
    rules = yaml.safe_load((PROJECT_DIR / "training_data" / "rules.yml").read_text())["rules"]
    used = {step["action"] for rule in rules for step in rule["steps"] if "action" in step}
    unknown = {a for a in used if a.startswith("utter_") and a not in domain.responses}
    assert not unknown
