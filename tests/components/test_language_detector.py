"""LanguageDetector as a Rasa component: message properties, the slot entity, config errors."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.language_detector import LanguageDetector, channel_language_hint


def detector(**overrides) -> LanguageDetector:
    return LanguageDetector({**LanguageDetector.get_default_config(), **overrides})


def test_clear_turn_sets_language_and_emits_the_slot_entity():
    message = Message(data={"text": "Wo ist meine Bestellung?"})
    detector().process([message])
    assert message.get("language") == "de"
    assert message.get("language_method") == "model"
    assert [(e["entity"], e["value"], e["extractor"]) for e in message.get("entities")] == [
        ("language", "de", "LanguageDetector")
    ]
    assert {"language", "language_confidence", "language_method"} <= set(message.as_dict(only_output_properties=True))


def test_turn_without_evidence_emits_no_entity_so_the_slot_keeps_its_value():
    message = Message(data={"text": "10045 👍"})
    detector().process([message])
    assert message.get("language") is None
    assert message.get("language_method") == "no_evidence"
    assert not message.get("entities")


def test_channel_hint_breaks_a_tie():
    message = Message(data={"text": "hola", "metadata": {"language": "pt-BR"}})
    detector().process([message])
    assert message.get("language") == "pt"
    assert message.get("language_method") == "hint"


@pytest.mark.parametrize(
    "metadata, expected",
    [({"language": "pt-BR"}, "pt"), ({"language": "de_DE"}, "de"), ({"language": ""}, None), (None, None), ({"language": 3}, None)],
)
def test_channel_language_hint(metadata, expected):
    assert channel_language_hint(metadata) == expected


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"supported_languages": []}, "supported_languages"),
        ({"supported_languages": ["english"]}, "supported_languages"),
        ({"default_language": "xx"}, "default_language"),
        ({"min_confidence": 2}, "min_confidence"),
    ],
)
def test_bad_config_names_the_key(overrides, key):
    with pytest.raises(ValueError, match=key):
        detector(**overrides)
