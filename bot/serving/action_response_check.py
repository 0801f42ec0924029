"""Rasa's check of the action server's answer, with the JSON-schema validator built once.

Rasa validates every answer of the action server against its events schema with
`jsonschema.validate`, which checks the schema itself against the metaschema and builds a new
validator on every call: for the demo's small answers that costs several times the HTTP round
trip to the action server. With `check_action_responses_with_one_validator` installed, the
schema is checked and its validator built on the first custom action, and every later answer
is validated by that validator. What is accepted and rejected, and the error Rasa raises (its
message pointing to the custom actions docs), stay Rasa's.
"""

from __future__ import annotations

import functools
from typing import Any


def check_action_responses_with_one_validator() -> None:
    """Makes RemoteAction validate action server answers with one validator built once.

    Idempotent. Called by Bridge's Rasa server entry point (bot/serving/rasa_server.py) before
    Rasa starts.
    """
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "validator_built_once", False):
        return
    original = RemoteAction._validate_action_result

    @functools.wraps(original)
    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        from jsonschema import exceptions

        error = exceptions.best_match(action_response_validator().iter_errors(result))
        if error is None:
            return True
        # Rasa's own method adds its explanation to the message of the same error.
        return original(self, result)

    validate_action_result.validator_built_once = True
    RemoteAction._validate_action_result = validate_action_result


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    """The validator of Rasa's action response schema, the schema checked once (as
    `jsonschema.validate` does on every call)."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)
