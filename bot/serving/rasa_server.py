"""Bridge's Rasa server: `rasa run` with two serving fixes installed first.

- bot/serving/action_failures.py: the customer is told, in their language, when the action
  server cannot run a custom action (Rasa says nothing);
- bot/serving/sql_tracker_store.py: a SQL tracker store rides out a database restart (Rasa
  keeps the turns it cannot save in memory only, so they are lost).

Takes Rasa's own command line (`python -m bot.serving.rasa_server run --model ... --port ...`),
so `bridge run`, the tests and the Docker image start Rasa as Rasa documents it.
"""

from __future__ import annotations


def main() -> None:
    """Installs Bridge's serving fixes, then hands the command line to Rasa."""
    from bot.serving.action_failures import reply_when_actions_fail
    from bot.serving.sql_tracker_store import reconnect_sql_tracker_stores

    reply_when_actions_fail()
    reconnect_sql_tracker_stores()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
