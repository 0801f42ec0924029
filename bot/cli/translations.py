"""`bridge translations`: exchange files for translators, and what reaches customers how.

Usage:
    bridge translations export --language es [--missing] [--format xliff|po] [--output FILE]
    bridge translations import FILE [--author NAME]
    bridge translations status

`export` writes the bot's responses (the domain's texts in the source language) and the
knowledge base's answers as XLIFF or PO, one unit per text with a stable id, protected
spans as placeholders the translator cannot break; `--missing` keeps only the texts with
neither an authored version nor a human translation in that language. `import` puts the
translations into the translation memory as human entries: a unit whose placeholders do
not match is refused with its id, the rest are imported. `status` prints, per language,
how many responses and answers reach a customer authored, from memory, by MT or only as
the fallback.

The project's files are read from the current folder: config.yml (languages, knowledge-base
source), endpoints.yml (`nlg: translation:`: memory, glossary, backends) and the domain.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOMAIN_PATH = Path("training_data/domain")
EXPORT_DIR = Path("var/translations")


class _Project:
    """The project's texts, languages and translation memory, read once per command."""

    def __init__(self, args: argparse.Namespace) -> None:
        from bot.cli.kb import component_settings
        from bot.knowledge.source import load_entries
        from bot.translation.catalog import answer_texts, response_texts
        from bot.translation.memory import TranslationMemory
        from bot.translation.project_settings import read_project_languages

        self.settings = read_project_languages(Path(args.config), Path(args.endpoints))
        self.protector = self.settings.protector()
        if args.memory_url:
            self.memory = TranslationMemory(args.memory_url, self.protector)
        else:
            self.memory = self.settings.memory()
        if self.memory is None:
            raise _UserError(
                "the bot has no translation memory: set `nlg: translation: memory_url:` in endpoints.yml "
                "or pass --memory-url."
            )
        self.responses = _domain_responses(Path(args.domain))
        self.texts = response_texts(self.responses, self.settings.source_language)
        source = args.kb_source or component_settings(Path(args.config)).get("source")
        if source:
            self.texts += answer_texts(load_entries(source, protector=self.protector))

    def check_language(self, language: str) -> str:
        if language not in self.settings.languages:
            raise _UserError(
                f"'{language}' is not a language the bot speaks; config.yml's LanguageDetector lists "
                f"{', '.join(self.settings.languages)}."
            )
        return language


class _UserError(Exception):
    """A mistake the user can fix; printed as one line."""


def _domain_responses(path: Path) -> dict:
    from bot.translation.catalog import domain_responses

    if not path.exists():
        raise _UserError(f"no domain at {path}; pass --domain with the domain file or folder.")
    return domain_responses(path)


def cmd_export(args: argparse.Namespace) -> None:
    from bot.translation.catalog import human_translation
    from bot.translation.exchange import SUFFIXES, ExchangeUnit, write_exchange

    project = _Project(args)
    language = project.check_language(args.language)
    source_language = project.settings.source_language
    if language == source_language:
        raise _UserError(f"'{language}' is the language the texts are written in; export another language.")
    units, skipped = [], 0
    for text in project.texts:
        if text.language != source_language:
            skipped += 1  # an exchange file has one source language
            continue
        human = human_translation(project.memory, text, language)
        if args.missing and (human is not None or language in text.authored):
            continue
        units.append(ExchangeUnit(text.id, text.text, text.note, human.target_key if human else ""))
    output = Path(args.output) if args.output else EXPORT_DIR / f"{language}{SUFFIXES[args.format]}"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(write_exchange(units, args.format, source_language, language, project.protector))
    note = f" ({skipped} answers not written in {source_language} left out)" if skipped else ""
    print(f"bridge translations: wrote {len(units)} units for {source_language} -> {language} to {output}{note}")


def cmd_import(args: argparse.Namespace) -> None:
    from bot.translation.exchange import read_exchange

    project = _Project(args)
    exchange = read_exchange(args.file)
    project.check_language(exchange.target_language)
    imported, untranslated, refused = 0, 0, []
    for unit in exchange.units:
        if unit.problem:
            refused.append(f"{unit.id}: {unit.problem}")
            continue
        if unit.translation is None:
            untranslated += 1
            continue
        try:
            project.memory.add_translation(
                unit.source_text,
                unit.translation,
                exchange.source_language,
                exchange.target_language,
                author=args.author,
                origin="import",
                span_positions=unit.span_positions,
            )
        except ValueError as error:
            refused.append(f"{unit.id}: {error}")
            continue
        imported += 1
    pair = f"{exchange.source_language} -> {exchange.target_language}"
    print(
        f"bridge translations: imported {imported} units ({pair}) into the translation memory; "
        f"{untranslated} not translated, {len(refused)} refused"
    )
    if refused:
        sys.exit(
            "bridge translations: refused units (fix them in the file and import it again):\n  " + "\n  ".join(refused)
        )


def cmd_status(args: argparse.Namespace) -> None:
    from bot.translation.catalog import ANSWER, RESPONSE, ROUTES, coverage
    from bot.translation.pipeline import TranslationPipeline

    project = _Project(args)
    pipeline = TranslationPipeline.from_settings(project.settings.translation) if project.settings.translation else None

    def has_mt(source: str, target: str) -> bool:
        return pipeline is not None and pipeline.route(source, target) is not None

    table = coverage(project.texts, project.settings.languages, project.memory, has_mt)
    print(format_status(table, project.settings.languages, (RESPONSE, ANSWER), ROUTES))


def format_status(table: dict, languages, kinds, routes) -> str:
    """The coverage table as text: one row per language and kind of text, counts per route."""
    header = ["language", "texts", "total", *routes, "in language"]
    rows = []
    for language in languages:
        for kind in kinds:
            counts = table.get((language, kind)) or dict.fromkeys(routes, 0)
            total = sum(counts.values())
            reached = total - counts.get("fallback", 0)
            share = f"{100 * reached / total:.0f}%" if total else "-"
            rows.append([language, f"{kind}s", str(total), *(str(counts[r]) for r in routes), share])
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in [header, *rows]]
    return "\n".join(lines)


def _run(handler):
    def run(args: argparse.Namespace) -> None:
        from bot.knowledge.source import SourceError
        from bot.translation.base import TranslationConfigError
        from bot.translation.exchange import ExchangeFileError

        try:
            handler(args)
        except (_UserError, SourceError, TranslationConfigError, ExchangeFileError) as error:
            sys.exit(f"bridge translations: {error}")

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bridge translations export|import|status` to the main parser's subcommands."""
    translations = subparsers.add_parser(
        "translations", help="export texts for translators (XLIFF, PO), import their work, show coverage"
    )
    translations.add_argument("--config", default="config.yml", help="the bot's config.yml (languages, KB source)")
    translations.add_argument("--endpoints", default="endpoints.yml", help="endpoints.yml with `nlg: translation:`")
    translations.add_argument("--domain", default=str(DOMAIN_PATH), help="the domain file or folder")
    translations.add_argument("--kb-source", help="knowledge-base source (default: source in config.yml)")
    translations.add_argument("--memory-url", help="translation memory URL (default: memory_url in endpoints.yml)")
    commands = translations.add_subparsers(dest="translations_command", required=True)
    export = commands.add_parser("export", help="write the texts of one language as XLIFF or PO")
    export.add_argument("--language", required=True, help="the customers' language, e.g. es")
    export.add_argument("--missing", action="store_true", help="only texts with no authored or human translation")
    export.add_argument("--format", choices=["xliff", "po"], default="xliff", help="exchange format (default xliff)")
    export.add_argument("--output", help="file to write (default: var/translations/<language>.<format>)")
    export.set_defaults(handler=_run(cmd_export))
    imported = commands.add_parser("import", help="load a translated XLIFF or PO file into the translation memory")
    imported.add_argument("file", help="the translated .xliff / .xlf / .po file")
    imported.add_argument("--author", help="who translated it (stored with each entry)")
    imported.set_defaults(handler=_run(cmd_import))
    status = commands.add_parser("status", help="per language: how responses and answers reach customers")
    status.set_defaults(handler=_run(cmd_status))
