"""Bridge's Rasa server: `rasa run` with Bridge's serving fixes installed first.

- bot/serving/action_failures.py: the customer is told, in their language, when the action
  server cannot run a custom action (Rasa says nothing);
- bot/serving/sql_tracker_store.py: a SQL tracker store rides out a database restart (Rasa
  keeps the turns it cannot save in memory only, so they are lost);
- bot/serving/action_response_check.py: the action server's answers are checked by one
  JSON-schema validator built once (Rasa builds one for every answer).

Takes Rasa's own command line (`python -m bot.serving.rasa_server run --model ... --port ...`),
so `bridge run`, the tests and the Docker image start Rasa as Rasa documents it.
"""

from __future__ import annotations


def install_serving_fixes() -> None:
    """Installs every serving fix into Rasa (idempotent); a process that serves a Bridge bot
    in-process, as `bench turn_profile` does, calls it before loading the agent."""
    from bot.serving.action_failures import reply_when_actions_fail
    from bot.serving.action_response_check import check_action_responses_with_one_validator
    from bot.serving.sql_tracker_store import reconnect_sql_tracker_stores

    reply_when_actions_fail()
    reconnect_sql_tracker_stores()
    check_action_responses_with_one_validator()


def main() -> None:
    """Installs Bridge's serving fixes, then hands the command line to Rasa."""
    install_serving_fixes()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
