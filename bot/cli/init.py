"""`bridge init DIR`: create a new Bridge project from the template shipped in the package.

Like `rasa init`, it writes a small bot that trains and runs as it is: config.yml with
Bridge's pipeline, a domain whose responses are authored per language, NLU data in two
languages (en, es), rules, credentials.yml, endpoints.yml with the translating NLG, a
knowledge base of historical answers in the source format, and an `actions` package that
registers Bridge's own actions. The company then edits it into its own bot.

Example:
    bridge init my-bot && cd my-bot && bridge train && bridge run
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import bot
from bot.models.encoder import DEFAULT_ENCODER_DIR

TEMPLATE_DIR = Path(bot.__file__).resolve().parent / "project_template"
# Lines of the template's config.yml that `bridge init` fills in.
TEMPLATE_ASSISTANT_ID = "assistant_id: starter-bot"
TEMPLATE_MODEL_PATH = f"model_path: {DEFAULT_ENCODER_DIR.as_posix()}"


class ProjectExistsError(FileExistsError):
    """The target folder already holds files that `bridge init` would mix with its own."""


def template_files() -> list[Path]:
    """The template's files, relative to the template folder."""
    return sorted(
        p.relative_to(TEMPLATE_DIR)
        for p in TEMPLATE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def assistant_id_for(folder: Path) -> str:
    """A Rasa assistant_id made from the folder's name: letters, digits, '-' and '_'."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", folder.resolve().name).strip("-") or "bridge-bot"


def create_project(
    target: Path, assistant_id: str | None = None, encoder: str | None = None, force: bool = False
) -> list[Path]:
    """Copies the template into `target` and returns the files written.

    Args:
        target: the new project's folder; created if missing, and must be empty unless `force`.
        assistant_id: config.yml's assistant_id (also the model's file name); default: the folder's name.
        encoder: the encoder folder both encoder components use; default: the bundled
            encoder's place in the project (built on the first `bridge train`).
        force: write into a folder that is not empty, replacing files of the same names.

    Raises:
        ProjectExistsError: `target` is a file, or a folder with files in it and `force` is not set.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ProjectExistsError(f"'{target}' is a file. Give `bridge init` the path of a new or empty folder.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ProjectExistsError(
            f"'{target}' is not empty. Choose a new or empty folder, or pass --force to write the starter "
            f"project into it (files with the same names are replaced)."
        )
    written = []
    for relative in template_files():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATE_DIR / relative, destination)
        written.append(destination)
    config = target / "config.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(TEMPLATE_ASSISTANT_ID, f"assistant_id: {assistant_id or assistant_id_for(target)}")
    if encoder:
        # The project may be trained from another folder than the one the path was typed in.
        text = text.replace(TEMPLATE_MODEL_PATH, f"model_path: {json.dumps(str(Path(encoder).resolve()))}")
    config.write_text(text, encoding="utf-8")
    return written


def cmd_init(args: argparse.Namespace) -> None:
    """Creates the project and says what to do next."""
    try:
        written = create_project(Path(args.directory), args.assistant_id, args.encoder, args.force)
    except ProjectExistsError as error:
        sys.exit(f"bridge init: {error}")
    print(
        f"bridge init: created a Bridge project in {args.directory} ({len(written)} files).\n"
        f"Next:\n"
        f"  cd {args.directory}\n"
        f"  bridge train    # the first time it also builds the encoder (a few minutes)\n"
        f"  bridge run      # serves the bot; chat page on http://127.0.0.1:8080/"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bridge init` to the `bridge` command."""
    init = subparsers.add_parser("init", help="create a new Bridge project (a small bot in English and Spanish)")
    init.add_argument("directory", help="folder of the new project (new or empty)")
    init.add_argument("--assistant-id", default=None, help="config.yml's assistant_id (default: the folder's name)")
    init.add_argument(
        "--encoder",
        default=None,
        help=f"encoder folder for config.yml's model_path (default: {DEFAULT_ENCODER_DIR}, built on first use)",
    )
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    init.set_defaults(handler=cmd_init)
