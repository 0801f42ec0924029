"""A reply for the customer when the action server cannot run a custom action.

Rasa logs a failed custom action and carries on without a word to the customer, who is left
waiting for an answer that never comes. With `reply_when_actions_fail` installed, a custom
action the action server does not run (it is down, times out or answers with an error) sends
the domain's `utter_action_server_unavailable` instead, through the bot's NLG, so the customer
reads it in their own language; the failure is logged as an error naming the action. A bot
without that response keeps Rasa's behaviour. Rejections (a form's validation) are Rasa's own
control flow and pass through untouched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)

RESPONSE = "utter_action_server_unavailable"


def reply_when_actions_fail() -> None:
    """Makes Rasa's RemoteAction answer with RESPONSE when the action server fails.

    Idempotent. Called by Bridge's Rasa server entry point (bot/serving/rasa_server.py) before
    Rasa starts, so it applies to every process `bridge run`, the tests and the images start.
    """
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction.run, "replies_when_failing", False):
        return
    RemoteAction.run = _run_or_apologise(RemoteAction.run)


def _run_or_apologise(run: Any) -> Any:
    from rasa.core.actions.action import ActionBotResponse, ActionExecutionRejection
    from rasa.shared.exceptions import RasaException

    @functools.wraps(run)
    async def run_or_apologise(self, output_channel, nlg, tracker, domain) -> list:
        try:
            return await run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            if RESPONSE not in domain.responses:
                raise
            logger.error(
                "The action server did not run '%s' for conversation %s (%s); the customer was sent %s.",
                self.name(),
                tracker.sender_id,
                error or type(error).__name__,
                RESPONSE,
            )
            return await ActionBotResponse(RESPONSE).run(output_channel, nlg, tracker, domain)

    run_or_apologise.replies_when_failing = True
    return run_or_apologise
