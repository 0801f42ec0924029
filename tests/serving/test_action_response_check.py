"""The action server's answers are checked by one validator, with Rasa's verdicts and errors."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.serving.action_response_check import action_response_validator, check_action_responses_with_one_validator

GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "10052"}], "responses": [{"text": "Shipped."}]}
BAD = {"events": [{"event": "slot", "name": 5}], "responses": "not a list"}


def test_valid_answers_pass_and_the_validator_is_built_once(monkeypatch):
    check_action_responses_with_one_validator()
    check_action_responses_with_one_validator()  # installing twice wraps once
    action = RemoteAction("action_check_order_status", None)
    assert action._validate_action_result(GOOD) is True  # the first answer builds the validator
    checked = []  # jsonschema.validate checks the schema on every call before it validates
    schema_class = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    monkeypatch.setattr(schema_class, "check_schema", lambda *args, **kwargs: checked.append(args))
    assert action._validate_action_result(GOOD) is True
    assert action._validate_action_result({"events": [], "responses": []}) is True
    assert checked == []  # the validator built for the first answer, not a new one per answer
    assert action_response_validator() is action_response_validator()


def test_an_invalid_answer_raises_rasas_error():
    check_action_responses_with_one_validator()
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_check_order_status", None)._validate_action_result(BAD)
