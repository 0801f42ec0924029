"""A custom action the action server cannot run: the customer gets the apology in their language."""

from __future__ import annotations

import asyncio
import logging

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.serving.action_failures import RESPONSE, reply_when_actions_fail
from bot.serving.processes import free_port

APOLOGIES = {"en": "Sorry, our systems are slow.", "de": "Entschuldigung, unsere Systeme hängen."}


def _domain(with_apology: bool) -> Domain:
    variants = [
        {"text": text, "condition": [{"type": "slot", "name": "language", "value": language}]}
        for language, text in APOLOGIES.items()
    ]
    return Domain.from_dict(
        {
            "slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}},
            "actions": ["action_check_order_status"],
            "responses": {RESPONSE: variants} if with_apology else {"utter_greet": [{"text": "Hi"}]},
        }
    )


def _run(domain: Domain) -> list:
    """Runs a custom action against a port nobody listens on, for a German customer."""
    tracker = DialogueStateTracker.from_events("customer", [SlotSet("language", "de")], domain.slots)
    action = RemoteAction("action_check_order_status", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, domain))


def test_unreachable_action_server_sends_the_apology_in_the_conversation_language(caplog):
    reply_when_actions_fail()
    reply_when_actions_fail()  # installing twice wraps once
    with caplog.at_level(logging.ERROR, logger="bot.serving.action_failures"):
        events = _run(_domain(with_apology=True))
    assert [event.text for event in events] == [APOLOGIES["de"]]
    assert "action_check_order_status" in caplog.text and "customer" in caplog.text


def test_a_bot_without_the_apology_keeps_rasas_error():
    reply_when_actions_fail()
    with pytest.raises(RasaException, match="Couldn't connect"):
        _run(_domain(with_apology=False))
