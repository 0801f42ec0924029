"""The KnowledgeBaseRetriever graph component: config checks, first-load build, takeover rules.

What the component builds and loads runs with the tiny test encoder (uncentred, so no
calibration pass); the takeover rules and reading an update need the real encoder (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.knowledge_base_retriever import KNOWLEDGE_BASE, KnowledgeBaseRetriever
from bot.knowledge.store import FORMAT_VERSION, KnowledgeBaseStore
from tests.helpers.knowledge_base import entry

SOURCE = [
    {
        "id": "gift",
        "questions": ["Do you sell gift cards?"],
        "answer": "Yes, we sell gift cards from EUR 10 to EUR 500.",
        "language": "en",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "id": "wool",
        "questions": ["How do I wash a wool jumper?"],
        "answer": "Wash wool jumpers by hand in cold water and dry them flat.",
        "language": "en",
        "updated_at": "2024-01-01T00:00:00Z",
    },
]


def config(tmp_path: Path, encoder_dir: Path, **overrides):
    source = tmp_path / "source.jsonl"
    if not source.exists():
        source.write_text("\n".join(json.dumps(r) for r in SOURCE) + "\n")
    return {
        **KnowledgeBaseRetriever.get_default_config(),
        "store_dir": str(tmp_path / "kb"),
        "source": str(source),
        "model_path": str(encoder_dir),
        **overrides,
    }


def create(cfg, tmp_path: Path) -> KnowledgeBaseRetriever:
    storage = LocalModelStorage(tmp_path / "model")
    return KnowledgeBaseRetriever.load(cfg, storage, Resource("kb"), ExecutionContext(None))


def message(text: str, intent: str, confidence: float) -> Message:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 1 - confidence}]
    return Message(data={TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("threshold", 1.5, "'threshold' must be a number between 0 and 1, got 1.5"),
        ("top_k", 1, "'top_k' must be an integer >= 2, got 1"),
        ("ambiguity_margin", -0.1, "'ambiguity_margin' must be a number between 0 and 1, got -0.1"),
        ("store_dir", "", "'store_dir' must be a non-empty string"),
        ("takeover_intents", "out_of_scope", "'takeover_intents' must be a list of intent names"),
        ("source", 3, "'source' must be a string or null, got 3"),
    ],
)
def test_bad_config_names_the_key_and_value(key, value, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        KnowledgeBaseRetriever({**KnowledgeBaseRetriever.get_default_config(), key: value})


def tiny_config(tmp_path: Path, tiny_encoder_dir: Path, **overrides):
    return config(tmp_path, tiny_encoder_dir, calibration=None, **overrides)


def test_first_load_builds_the_store_from_the_source(tmp_path, tiny_encoder_dir):
    cfg = tiny_config(tmp_path, tiny_encoder_dir)
    assert KnowledgeBaseStore(cfg["store_dir"]).manifest() is None
    create(cfg, tmp_path)
    assert KnowledgeBaseStore(cfg["store_dir"]).manifest()["entries"] == 2


def test_a_store_of_an_older_format_is_rebuilt_from_the_source_on_load(tmp_path, tiny_encoder_dir):
    from tests.helpers.knowledge_base import make_format_1

    cfg = tiny_config(tmp_path, tiny_encoder_dir)
    create(cfg, tmp_path)
    make_format_1(KnowledgeBaseStore(cfg["store_dir"]))
    component = create(cfg, tmp_path)
    assert KnowledgeBaseStore(cfg["store_dir"]).manifest()["format"] == FORMAT_VERSION
    turn = message("Do you sell gift cards?", "payment_methods", 0.31)
    component.process([turn])
    assert turn.get(KNOWLEDGE_BASE)["answer_id"] == "gift"


def test_without_a_source_a_missing_store_is_an_error_naming_the_command(tmp_path, tiny_encoder_dir):
    with pytest.raises(FileNotFoundError, match="bridge kb build"):
        create(tiny_config(tmp_path, tiny_encoder_dir, source=None), tmp_path)


@pytest.mark.slow
def test_takes_over_only_weak_or_out_of_scope_turns_with_a_close_answer(tmp_path, encoder_dir):
    component = create(config(tmp_path, encoder_dir), tmp_path)
    weak = message("¿Vendéis tarjetas de regalo?", "payment_methods", 0.31)
    out_of_scope = message("Wie wasche ich einen Wollpullover?", "out_of_scope", 0.97)
    confident = message("Do you sell gift cards?", "payment_methods", 0.95)
    unrelated = message("What's the weather tomorrow?", "out_of_scope", 0.95)
    component.process([weak, out_of_scope, confident, unrelated])

    for taken, expected in ((weak, "gift"), (out_of_scope, "wool")):
        found = taken.get(KNOWLEDGE_BASE)
        assert found["answered"] and found["answer_id"] == expected and found["answer_language"] == "en"
        confidence = component.takeover_confidence(found["score"])
        assert taken.get(INTENT) == {
            "name": "knowledge_base_question",
            "confidence": pytest.approx(confidence, abs=1e-3),
        }
        assert 0.8 <= confidence <= 1.0  # above the FallbackClassifier's threshold (config.yml)
        ranking = taken.get(INTENT_RANKING_KEY)
        assert (
            ranking[0]["name"] == "knowledge_base_question"
            and ranking[0]["confidence"] - ranking[1]["confidence"] > 0.5
        )
    # A confident intent keeps priority; the knowledge base only records what it offered.
    assert confident.get(INTENT)["name"] == "payment_methods"
    assert confident.get(KNOWLEDGE_BASE)["answer_id"] == "gift" and not confident.get(KNOWLEDGE_BASE)["answered"]
    # A near-duplicate of a stored question beats a middling intent score.
    middling = message("Do you sell gift cards?", "payment_methods", 0.75)
    component.process([middling])
    assert middling.get(KNOWLEDGE_BASE)["answered"] and middling.get(INTENT)["name"] == "knowledge_base_question"
    # Nothing close enough: the turn is left to the classifier / fallback.
    assert unrelated.get(INTENT)["name"] == "out_of_scope" and not unrelated.get(KNOWLEDGE_BASE)["answered"]
    assert unrelated.get(KNOWLEDGE_BASE)["score"] < component.config["threshold"]


@pytest.mark.slow
def test_a_running_component_sees_answers_added_after_it_loaded(tmp_path, encoder_dir):
    cfg = config(tmp_path, encoder_dir)
    component = create(cfg, tmp_path)
    KnowledgeBaseStore(cfg["store_dir"]).add(
        [entry("student", ["Is there a student discount?"], "15% off for students.")], encoder_dir
    )
    turn = message("Do students get a discount?", "out_of_scope", 0.9)
    component.process([turn])
    assert turn.get(KNOWLEDGE_BASE)["answer_id"] == "student"


def test_load_gives_the_same_answers_as_create(tmp_path, tiny_encoder_dir):
    cfg = tiny_config(tmp_path, tiny_encoder_dir)
    storage = LocalModelStorage(tmp_path / "model")
    created = KnowledgeBaseRetriever.create(cfg, storage, Resource("kb"), ExecutionContext(None))
    loaded = KnowledgeBaseRetriever.load(cfg, storage, Resource("kb"), ExecutionContext(None))
    first, second = message("gift cards?", "out_of_scope", 0.9), message("gift cards?", "out_of_scope", 0.9)
    created.process([first])
    loaded.process([second])
    assert first.get(KNOWLEDGE_BASE) == second.get(KNOWLEDGE_BASE)


def routing_config(tmp_path: Path, tiny_encoder_dir: Path, **overrides):
    """The tiny encoder's vectors mean nothing, but a stored question finds itself: questions only."""
    return tiny_config(tmp_path, tiny_encoder_dir, answer_weight=0.0, **overrides)


def ranked(text: str, *ranking: tuple[str, float]) -> Message:
    """A turn as the classifier leaves it: its ranking, best first."""
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={TEXT: text, INTENT: entries[0], INTENT_RANKING_KEY: entries})


def test_the_knowledge_base_intent_gets_the_answer_and_declines_when_none_is_good_enough(tmp_path, tiny_encoder_dir):
    component = create(routing_config(tmp_path, tiny_encoder_dir), tmp_path)
    stored = ranked("Do you sell gift cards?", ("knowledge_base_question", 0.7), ("payment_methods", 0.2))
    component.process([stored])
    assert stored.get(KNOWLEDGE_BASE)["answered"] and stored.get(KNOWLEDGE_BASE)["answer_id"] == "gift"
    assert stored.get(KNOWLEDGE_BASE)["classifier_intent"] == {"name": "knowledge_base_question", "confidence": 0.7}
    assert stored.get(INTENT)["name"] == "knowledge_base_question"

    strict = create(routing_config(tmp_path, tiny_encoder_dir, threshold=1.0), tmp_path)
    unsure = ranked("Any gift cards?", ("knowledge_base_question", 0.7), ("payment_methods", 0.2))
    strict.process([unsure])
    # No answer good enough: the intent stays, so the rule runs the action, which declines.
    assert not unsure.get(KNOWLEDGE_BASE)["answered"] and unsure.get(KNOWLEDGE_BASE)["route"] == "knowledge_base"
    assert unsure.get(INTENT) == {"name": "knowledge_base_question", "confidence": 0.7}


@pytest.mark.parametrize(
    "priority, intent, answered",
    [
        ("classifier", "knowledge_base_question", True),
        ("intents", "payment_methods", False),
        ("knowledge_base", "knowledge_base_question", True),
    ],
)
def test_where_both_fit_the_configured_priority_decides(tmp_path, tiny_encoder_dir, priority, intent, answered):
    component = create(routing_config(tmp_path, tiny_encoder_dir, priority=priority), tmp_path)
    both = ranked("Do you sell gift cards?", ("knowledge_base_question", 0.55), ("payment_methods", 0.4))
    component.process([both])
    assert both.get(INTENT)["name"] == intent and both.get(KNOWLEDGE_BASE)["answered"] is answered
    if intent == "payment_methods":  # the bot's own intent takes the knowledge base's share
        assert both.get(INTENT)["confidence"] == pytest.approx(1.0)
        assert [r["name"] for r in both.get(INTENT_RANKING_KEY)] == ["payment_methods"]


def test_the_knowledge_base_priority_answers_a_turn_an_intent_tops_and_leaves_it_without_an_answer(
    tmp_path, tiny_encoder_dir
):
    component = create(routing_config(tmp_path, tiny_encoder_dir, priority="knowledge_base"), tmp_path)
    both = ranked("Do you sell gift cards?", ("payment_methods", 0.6), ("knowledge_base_question", 0.35))
    alone = ranked("Do you sell gift cards?", ("payment_methods", 0.9), ("knowledge_base_question", 0.05))
    component.process([both, alone])
    assert both.get(INTENT)["name"] == "knowledge_base_question" and both.get(KNOWLEDGE_BASE)["answered"]
    assert alone.get(INTENT)["name"] == "payment_methods" and not alone.get(KNOWLEDGE_BASE)["answered"]

    strict = create(routing_config(tmp_path, tiny_encoder_dir, priority="knowledge_base", threshold=1.0), tmp_path)
    unsure = ranked("Any gift cards?", ("payment_methods", 0.6), ("knowledge_base_question", 0.35))
    strict.process([unsure])
    assert unsure.get(INTENT) == {"name": "payment_methods", "confidence": 0.6}


def test_a_bad_priority_names_the_choices():
    with pytest.raises(ValueError, match=r"'priority' must be one of \['classifier', 'intents', 'knowledge_base'\]"):
        KnowledgeBaseRetriever({**KnowledgeBaseRetriever.get_default_config(), "priority": "kb"})
