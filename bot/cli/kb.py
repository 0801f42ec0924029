"""`bridge kb`: build, extend, prune and query the knowledge base of historical answers.

Usage:
    bridge kb build [SOURCE ...]     re-embed every entry of the sources (default: the
                                     component's `source`, e.g. knowledge_base/)
    bridge kb add FILE [FILE ...]    add or replace entries without rebuilding the index
                                     (both then machine-translate the answers into the
                                     translation memory for every configured MT pair,
                                     unless --no-translate)
    bridge kb remove ID [ID ...]     remove entries by id
    bridge kb info                   what the store holds and which encoder built it
    bridge kb search TEXT            the best answers for a question (for checking)

The store folder, database URL, source and encoder default to the KnowledgeBaseRetriever
entry of config.yml, so the command and the running bot use the same knowledge base. They
are read when a command runs, not when the parser is built: `bridge --help` and the other
commands never import Rasa for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

CONFIG_FILE = Path("config.yml")


def component_settings(config_file: Path = CONFIG_FILE) -> dict[str, Any]:
    """The KnowledgeBaseRetriever config of `config_file` merged over its defaults."""
    import yaml

    from bot.components.knowledge_base_retriever import KnowledgeBaseRetriever
    from bot.project import pipeline_steps

    settings = KnowledgeBaseRetriever.get_default_config()
    if config_file.is_file():
        config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        for step in pipeline_steps(config, [KnowledgeBaseRetriever.__name__]):
            settings.update({k: v for k, v in step.items() if k != "name"})
    return settings


def _store(args: argparse.Namespace):
    from bot.knowledge.faiss_index import IndexParams
    from bot.knowledge.store import KnowledgeBaseStore

    params = IndexParams(index_type=getattr(args, "index_type", None) or "auto")
    return KnowledgeBaseStore(args.store, db_url=args.db_url, params=params, calibration=args.calibration)


def _summary(manifest: dict[str, Any]) -> str:
    return (
        f"{manifest['entries']} answers, {manifest['vectors']} questions, index {manifest['index_type']}"
        f"{', ' + str(manifest['tombstones']) + ' tombstones' if manifest.get('tombstones') else ''}"
    )


def _load_entries(args: argparse.Namespace, *sources: str | Path):
    """The entries of `sources`, their per-language versions checked with the bot's glossary."""
    from bot.knowledge.source import load_entries
    from bot.translation.project_settings import read_project_languages

    return load_entries(*sources, protector=read_project_languages(CONFIG_FILE, Path(args.endpoints)).protector())


def _translate_ahead(args: argparse.Namespace, entries) -> None:
    """Machine-translates the answers into the memory for every configured pair (see ahead.py)."""
    from bot.translation.ahead import translate_project_texts_ahead
    from bot.translation.catalog import answer_texts
    from bot.translation.project_settings import read_project_languages

    if not args.no_translate:
        settings = read_project_languages(CONFIG_FILE, Path(args.endpoints))
        translate_project_texts_ahead(answer_texts(entries), settings, "bridge kb")


def cmd_build(args: argparse.Namespace) -> None:
    sources = args.sources or ([args.source] if args.source else [])
    if not sources:
        sys.exit(
            "bridge kb build: no source to build from: config.yml's KnowledgeBaseRetriever has `source: null`. "
            "Name the files or folders, e.g. `bridge kb build knowledge_base/`."
        )
    entries = _load_entries(args, *sources)
    manifest = _store(args).build(entries, args.encoder, args.threads, show_progress=True)
    print(f"bridge kb: built {args.store} from {', '.join(map(str, sources))}: {_summary(manifest)}")
    _translate_ahead(args, entries)


def cmd_add(args: argparse.Namespace) -> None:
    entries = _load_entries(args, *args.files)
    manifest = _store(args).add(entries, args.encoder, args.threads, show_progress=True)
    print(f"bridge kb: added or replaced {len(entries)} entries in {args.store}: {_summary(manifest)}")
    _translate_ahead(args, entries)


def cmd_remove(args: argparse.Namespace) -> None:
    manifest = _store(args).remove(args.ids)
    print(f"bridge kb: removed {', '.join(args.ids)} from {args.store}: {_summary(manifest)}")


def cmd_info(args: argparse.Namespace) -> None:
    manifest = _store(args).require_manifest()
    shown = {k: v for k, v in manifest.items() if k not in ("garbage", "language_centroids")}
    shown["centred_languages"] = sorted(manifest.get("language_centroids") or {})
    print(json.dumps(shown, indent=2, ensure_ascii=False))


def cmd_search(args: argparse.Namespace) -> None:
    from bot.knowledge.retriever import AnswerRetriever

    retriever = AnswerRetriever(
        _store(args), args.encoder, args.threads, args.answer_weight, args.classifier_weight
    ).open()
    for hit in retriever.search([args.text], k=args.k)[0]:
        print(
            f"{hit.score:.3f} (question {hit.question_score:.3f})  {hit.entry_id}  [{hit.language}]  "
            f"Q: {hit.question}\n       A: {hit.answer}"
        )


# Options whose default is the KnowledgeBaseRetriever's setting of the same name in config.yml.
CONFIG_DEFAULTS = {
    "store": "store_dir",
    "db_url": "db_url",
    "encoder": "model_path",
    "threads": "threads",
    "calibration": "calibration",
    "answer_weight": "answer_weight",
    "classifier_weight": "classifier_weight",
    "source": "source",
}


def fill_config_defaults(args: argparse.Namespace, config_file: Path = CONFIG_FILE) -> argparse.Namespace:
    """Sets every option the user left out to the component's setting in config.yml."""
    settings = component_settings(config_file)
    for option, key in CONFIG_DEFAULTS.items():
        if getattr(args, option, None) is None:
            setattr(args, option, settings[key])
    return args


def _run(handler):
    """Runs a handler, turning the errors a user can cause into one clear line and exit 1."""

    def run(args: argparse.Namespace) -> None:
        from bot.knowledge.language_centroids import CalibrationError
        from bot.knowledge.source import SourceError
        from bot.knowledge.store import EncoderMismatchError, KnowledgeBaseNotBuiltError, StoreFormatError
        from bot.models.encoder import EncoderNotFoundError
        from bot.translation.base import TranslationConfigError

        try:
            handler(fill_config_defaults(args))
        except (
            SourceError,
            EncoderMismatchError,
            KnowledgeBaseNotBuiltError,
            StoreFormatError,
            EncoderNotFoundError,
            CalibrationError,
            TranslationConfigError,
        ) as error:
            sys.exit(f"bridge kb: {error}")
        except KeyError as error:
            sys.exit(f"bridge kb: {error.args[0]}")

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bridge kb ...` to the main parser's subcommands (defaults: see CONFIG_DEFAULTS)."""
    kb = subparsers.add_parser("kb", help="build and edit the knowledge base of historical answers")
    kb.add_argument("--store", help="store folder (default: store_dir in config.yml)")
    kb.add_argument(
        "--db-url",
        help="metadata database URL (default: db_url in config.yml, $BRIDGE_KB_DB_URL or SQLite in the store)",
    )
    kb.add_argument("--encoder", help="encoder folder (default: model_path in config.yml)")
    kb.add_argument("--threads", type=int, help="torch CPU threads (default: threads in config.yml)")
    kb.add_argument(
        "--calibration",
        help="NLU data giving the per-language centroids when building (default: calibration in config.yml)",
    )
    kb.add_argument(
        "--endpoints", default="endpoints.yml", help="endpoints.yml whose `nlg: translation:` build/add translate with"
    )
    kb.add_argument("--answer-weight", type=float, help="share of the answer text's similarity in a score (search)")
    kb.add_argument(
        "--classifier-weight", type=float, help="weight of the answer classifier's log-probability in a score (search)"
    )
    commands = kb.add_subparsers(dest="kb_command", required=True)
    build = commands.add_parser("build", help="re-embed and index every entry of the sources")
    build.add_argument("sources", nargs="*", help="source files or folders (default: source in config.yml)")
    build.add_argument(
        "--index-type", choices=["auto", "flat", "hnsw", "ivfpq"], default="auto", help="index type (auto follows size)"
    )
    build.add_argument("--no-translate", action="store_true", help="skip machine-translating the answers ahead")
    build.set_defaults(handler=_run(cmd_build))
    add = commands.add_parser("add", help="add or replace entries without rebuilding")
    add.add_argument("files", nargs="+", help="source files (.jsonl or .csv)")
    add.add_argument("--no-translate", action="store_true", help="skip machine-translating the answers ahead")
    add.set_defaults(handler=_run(cmd_add))
    remove = commands.add_parser("remove", help="remove entries by id")
    remove.add_argument("ids", nargs="+", help="entry ids")
    remove.set_defaults(handler=_run(cmd_remove))
    commands.add_parser("info", help="show what the store holds").set_defaults(handler=_run(cmd_info))
    search = commands.add_parser("search", help="show the best answers for a question")
    search.add_argument("text", help="a customer question, any language")
    search.add_argument("-k", type=int, default=3, help="how many answers")
    search.set_defaults(handler=_run(cmd_search))
