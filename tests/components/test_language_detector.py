"""LanguageDetector as a Rasa component: message properties, the slot entity, config errors;
UnsupportedLanguageClassifier: the intent of a turn the bot cannot read."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.language_detector import LanguageDetector
from bot.components.unsupported_language_classifier import UnsupportedLanguageClassifier


def detector(**overrides) -> LanguageDetector:
    return LanguageDetector({**LanguageDetector.get_default_config(), **overrides})


def detect(text: str, metadata=None) -> Message:
    message = Message(data={"text": text, **({"metadata": metadata} if metadata else {})})
    detector().process([message])
    return message


def test_clear_turn_sets_language_and_emits_the_slot_entity():
    message = detect("Wo ist meine Bestellung?")
    assert (message.get("language"), message.get("language_method"), message.get("language_supported")) == (
        "de",
        "model",
        True,
    )
    assert [(e["entity"], e["value"], e["extractor"]) for e in message.get("entities")] == [
        ("language", "de", "LanguageDetector")
    ]
    assert {"language", "language_confidence", "language_method", "language_supported", "language_detected"} <= set(
        message.as_dict(only_output_properties=True)
    )


def test_turn_without_evidence_emits_no_entity_so_the_slot_keeps_its_value():
    message = detect("10045 👍")
    assert message.get("language") is None
    assert message.get("language_method") == "no_evidence"
    assert not message.get("entities")


def test_channel_hint_breaks_a_tie():
    message = detect("si", {"language": "it-IT"})
    assert (message.get("language"), message.get("language_method")) == ("it", "hint")


def test_unsupported_turn_is_marked_and_keeps_the_slot():
    message = detect("Chcę anulować moje zamówienie, proszę")
    assert (message.get("language"), message.get("language_supported"), message.get("language_detected")) == (
        None,
        False,
        "pl",
    )
    assert message.get("language_method") == "unsupported"
    assert message.get("supported_languages") == LanguageDetector.get_default_config()["supported_languages"]
    assert not message.get("entities")


def test_unsupported_language_classifier_overrides_only_unsupported_turns():
    unsupported = detect("Chcę anulować moje zamówienie, proszę")
    supported = detect("Ich möchte meine Bestellung stornieren")
    for message in (unsupported, supported):
        message.set("intent", {"name": "cancel_order", "confidence": 0.6})
        message.set("intent_ranking", [{"name": "cancel_order", "confidence": 0.6}])
    UnsupportedLanguageClassifier(UnsupportedLanguageClassifier.get_default_config()).process([unsupported, supported])
    assert unsupported.get("intent") == {"name": "unsupported_language", "confidence": 1.0}
    assert [i["name"] for i in unsupported.get("intent_ranking")] == ["unsupported_language", "cancel_order"]
    assert supported.get("intent")["name"] == "cancel_order"


def test_a_smaller_language_set_is_respected():
    message = Message(data={"text": "Quiero cancelar mi pedido, por favor, no llegó nunca"})
    LanguageDetector({**LanguageDetector.get_default_config(), "supported_languages": ["en", "de"]}).process([message])
    assert (message.get("language_supported"), message.get("language_detected")) == (False, "es")


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"supported_languages": []}, "supported_languages"),
        ({"supported_languages": ["english"]}, "supported_languages"),
        ({"supported_languages": ["en", "xx"]}, "supported_languages"),
        ({"default_language": "xx"}, "default_language"),
        ({"min_confidence": 2}, "min_confidence"),
        ({"detectors": ["lexicon", "fasttext"]}, "detectors"),
        ({"detectors": ["lexicon", "script"]}, "detectors"),
        ({"unsupported_min_words": -1}, "unsupported_min_words"),
        ({"lexicon_weight": -1}, "lexicon_weight"),
        ({"word_frequency_weight": "high"}, "word_frequency_weight"),
        ({"single_word_frequency_weight": -1}, "single_word_frequency_weight"),
        ({"detect_unsupported": "yes"}, "detect_unsupported"),
    ],
)
def test_bad_config_names_the_key(overrides, key):
    with pytest.raises(ValueError, match=key):
        detector(**overrides)


def test_unsupported_classifier_needs_an_intent_name():
    with pytest.raises(ValueError, match="intent"):
        UnsupportedLanguageClassifier({"intent": ""})
