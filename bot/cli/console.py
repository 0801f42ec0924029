"""`bridge console`: serve the support team's review console, and manage its agents.

Usage:
    bridge console [--host H] [--port P] [--endpoints FILE]
                                                     serve it (default http://127.0.0.1:8090/); the
                                                     tracker store and the translation settings come
                                                     from FILE (default endpoints.yml)
    bridge console add-agent EMAIL [--role agent|admin] [--language xx]
                                                     create an agent; the password comes from
                                                     BRIDGE_CONSOLE_AGENT_PASSWORD or a prompt
    bridge export corrections [--output DIR] [--all] write the agents' corrections waiting for export
                                                     as DIR/nlu.yml (Rasa NLU) and DIR/knowledge_base.yml

Settings come from the environment and endpoints.yml (see bot/review/settings.py and docs/console.md).
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_EXPORT_DIR = "var/corrections"
DEFAULT_ENDPOINTS = "endpoints.yml"


def _settings(serving: bool = False, endpoints: str = DEFAULT_ENDPOINTS):
    from bot.review.settings import ConsoleSettings, ConsoleSettingsError

    try:
        return ConsoleSettings.from_environment(endpoints=Path(endpoints), serving=serving)
    except ConsoleSettingsError as error:
        raise SystemExit(f"bridge console: {error}") from None


def prepare_first_admin(endpoints: str = DEFAULT_ENDPOINTS) -> str | None:
    """Makes sure someone can log in to the console (see bot/review/first_admin.py); returns what
    to tell the user. `bridge run` calls it before starting the console, so a local admin's
    password is shown on the user's terminal rather than in the console's log."""
    from bot.review.accounts import AccountError
    from bot.review.database import create_console_tables, create_engine
    from bot.review.first_admin import prepare_first_admin as prepare

    settings = _settings(endpoints=endpoints)
    engine = create_engine(settings.database_url)
    try:
        create_console_tables(engine)
        return prepare(engine, settings)
    except AccountError as error:
        raise SystemExit(f"bridge console: {error}") from None
    finally:
        engine.dispose()


def cmd_serve(args: argparse.Namespace) -> None:
    """Serves the console with uvicorn until Ctrl-C."""
    import uvicorn

    from bot.review.accounts import AccountError
    from bot.review.app import create_app

    settings = _settings(serving=True, endpoints=args.endpoints)
    notice = prepare_first_admin(args.endpoints)
    if notice:
        print(f"bridge {notice}", flush=True)
    try:
        app = create_app(settings)
    except AccountError as error:
        raise SystemExit(f"bridge console: {error}") from None
    print(f"bridge: review console on http://{args.host}:{args.port}/", flush=True)
    # The console speaks plain HTTP only; Rasa's pinned websockets is older than uvicorn's websocket layer needs.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", ws="none")


def _password() -> str:
    password = os.environ.get("BRIDGE_CONSOLE_AGENT_PASSWORD")
    if password:
        return password
    password = getpass.getpass("Password for the new agent: ")
    if getpass.getpass("Repeat it: ") != password:
        raise SystemExit("bridge console add-agent: the two passwords differ; run the command again.")
    return password


def cmd_add_agent(args: argparse.Namespace) -> None:
    """Creates an agent in the console's database."""
    from bot.review.accounts import AccountError, create_agent
    from bot.review.database import create_console_tables, create_engine

    settings = _settings()
    engine = create_engine(settings.database_url)
    create_console_tables(engine)
    try:
        agent = create_agent(engine, args.email, _password(), role=args.role, language=args.language)
    except AccountError as error:
        raise SystemExit(f"bridge console add-agent: {error}") from None
    print(f"bridge: {agent.role} {agent.email} ({agent.language}) can now log in to the console.")


def cmd_export_corrections(args: argparse.Namespace) -> None:
    """Writes the pending corrections as training data and marks them exported."""
    from pathlib import Path

    from bot.review.corrections import export_corrections
    from bot.review.database import create_console_tables, create_engine

    engine = create_engine(_settings().database_url)
    create_console_tables(engine)
    nlu, kb, count = export_corrections(engine, Path(args.output), include_exported=args.all)
    print(f"bridge: {count} corrections written to {nlu} and {kb}; review them, then merge into training_data/.")


def register(commands: argparse._SubParsersAction) -> None:
    """Adds `bridge console` (and sub-commands) and `bridge export corrections` to the `bridge` parser."""
    console = commands.add_parser("console", help="serve the review console; add-agent EMAIL creates an agent")
    console.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    console.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    console.add_argument(
        "--endpoints",
        default=DEFAULT_ENDPOINTS,
        help=f"Rasa endpoints file with the tracker store and translation settings (default {DEFAULT_ENDPOINTS})",
    )
    console.set_defaults(handler=cmd_serve)
    actions = console.add_subparsers(dest="console_command")
    add = actions.add_parser(
        "add-agent", help="create an agent (password from BRIDGE_CONSOLE_AGENT_PASSWORD or a prompt)"
    )
    add.add_argument("email", help="the agent's email, used to log in")
    add.add_argument("--role", choices=["agent", "admin"], default="agent", help="admin can also manage agents")
    add.add_argument("--language", default="en", help="ISO 639-1 code of the language the agent reads (default en)")
    add.set_defaults(handler=cmd_add_agent)
    export = commands.add_parser("export", help="export review data: bridge export corrections")
    exports = export.add_subparsers(dest="export_command", required=True)
    export_corrections = exports.add_parser("corrections", help="the agents' corrections as Rasa NLU YAML")
    export_corrections.add_argument(
        "--output", default=DEFAULT_EXPORT_DIR, help=f"folder (default {DEFAULT_EXPORT_DIR})"
    )
    export_corrections.add_argument("--all", action="store_true", help="also corrections exported before")
    export_corrections.set_defaults(handler=cmd_export_corrections)
