"""Translators' exchange files: XLIFF 1.1 and PO, written and read through translate-toolkit.

One unit per text to translate, each with a stable id (`response:<name>:<variant>` or
`kb:<entry id>`). Protected spans (order numbers, links, `{slots}`, product names ...)
are never shown as text the translator could break:

- XLIFF: each span is an inline `<x id="N" equiv-text="..."/>` element, which CAT tools
  show as a locked tag (`<ph id="N">` is read back as well);
- PO (`python-format`): each span is a `%(pN)s` placeholder, listed with its value in the
  translator comment; a literal `%` is written `%%`, as gettext tools expect.

Reading a file back gives, for each unit, the source and the translation as a customer
reads them (spans filled in), or the reason it cannot be used: a placeholder missing,
repeated or unknown, or nothing translated yet.

Example:
    >>> data = write_exchange([ExchangeUnit("kb:track-001", "Track order 10045.")], "po", "en", "es", SpanProtector())
    >>> b"%(p1)s" in data
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from translate.storage import po, xliff
from translate.storage.placeables import StringElem
from translate.storage.placeables import xliff as xliff_placeables

from bot.translation.protection import MEMORY_PATTERN, SpanProtector, split_on_tokens, token_regex

FORMATS = ("xliff", "po")
SUFFIXES = {"xliff": ".xliff", "po": ".po"}
SOURCE_LANGUAGE_HEADER = "X-Bridge-Source-Language"
_PO_PLACEHOLDER = re.compile(r"%\(p(\d+)\)s|%%")
_PO_SPAN_LINE = re.compile(r"^%\(p(\d+)\)s = (.*)$")
_MEMORY_TOKEN = token_regex(MEMORY_PATTERN)


class ExchangeFileError(ValueError):
    """An exchange file cannot be read at all (format, languages); the message names the fix."""


@dataclass(frozen=True)
class ExchangeUnit:
    """One text for the translator.

    Attributes:
        id: stable id, e.g. `response:utter_greet:0` or `kb:gift-002`.
        text: the source text as a customer reads it.
        note: where the text is used, for the translator.
        translation: the current translation, if any (shown for revising; masked like the
            memory stores it, with ⟦N⟧ for the source's spans).
    """

    id: str
    text: str
    note: str = ""
    translation: str = ""


@dataclass(frozen=True)
class ReturnedUnit:
    """One unit read back: the texts with their spans filled in, or why it is unusable."""

    id: str
    source_text: str
    translation: str | None
    problem: str | None = None
    span_positions: tuple[tuple[int, int], ...] = ()  # (start, end) of each span in `translation`


@dataclass(frozen=True)
class ExchangeFile:
    source_language: str
    target_language: str
    units: list[ReturnedUnit]


def _pieces(masked_text: str) -> list[str | int]:
    """Text pieces and span numbers (ints) of a text masked with MEMORY_PATTERN."""
    pieces: list[str | int] = []
    for index, piece in enumerate(split_on_tokens(masked_text, MEMORY_PATTERN)):
        if index % 2:
            pieces.append(int(_MEMORY_TOKEN.match(piece).group(1)))
        elif piece:
            pieces.append(piece)
    return pieces


def write_exchange(
    units: Sequence[ExchangeUnit],
    file_format: str,
    source_language: str,
    target_language: str,
    protector: SpanProtector,
) -> bytes:
    """The units as an XLIFF or PO file for translating `source_language` -> `target_language`."""
    if file_format not in FORMATS:
        raise ExchangeFileError(f"format '{file_format}' is not supported; use one of {', '.join(FORMATS)}.")
    writer = _xliff_unit if file_format == "xliff" else _po_unit
    if file_format == "xliff":
        store = xliff.xlifffile(sourcelanguage=source_language)
        store.settargetlanguage(target_language)
    else:
        store = po.pofile()
        store.updateheader(add=True, Language=target_language, **{SOURCE_LANGUAGE_HEADER: source_language})
    for unit in units:
        masked = protector.mask(unit.text, MEMORY_PATTERN)
        writer(store, unit, masked.text, masked.spans)
    return bytes(store)


def _rich(masked_text: str, spans: Sequence[str]) -> list[StringElem]:
    parts = [
        piece
        if isinstance(piece, str)
        else xliff_placeables.X(id=str(piece), xml_attrib={"id": str(piece), "equiv-text": spans[piece - 1]})
        for piece in _pieces(masked_text)
    ]
    return [StringElem(parts)]


def _xliff_unit(store: xliff.xlifffile, unit: ExchangeUnit, masked_text: str, spans: Sequence[str]) -> None:
    entry = store.addsourceunit("")
    entry.setid(unit.id)
    entry.rich_source = _rich(masked_text, spans)
    if unit.translation:
        entry.rich_target = _rich(unit.translation, spans)
    note = unit.note
    if spans:
        note += f"{' ' if note else ''}Keep each of the {len(spans)} placeholder tag(s) exactly once."
    if note:
        entry.addnote(note, origin="developer")


def _po_text(masked_text: str) -> str:
    return "".join(
        piece.replace("%", "%%") if isinstance(piece, str) else f"%(p{piece})s" for piece in _pieces(masked_text)
    )


def _po_unit(store: po.pofile, unit: ExchangeUnit, masked_text: str, spans: Sequence[str]) -> None:
    entry = store.addsourceunit(_po_text(masked_text))
    entry.setcontext(unit.id)
    if unit.translation:
        entry.target = _po_text(unit.translation)
    lines = [unit.note] if unit.note else []
    if spans:
        lines.append("Keep each placeholder exactly once; each stands for text that must not change:")
        lines += [f"%(p{n})s = {span}" for n, span in enumerate(spans, start=1)]
    if lines:
        entry.addnote("\n".join(lines), origin="developer")
    if spans or "%" in masked_text:
        entry.settypecomment("python-format")


def read_exchange(path: str | Path) -> ExchangeFile:
    """The units of an XLIFF (.xliff, .xlf) or PO (.po) file, each checked for its spans.

    Raises:
        ExchangeFileError: the file is missing, of another type, or lacks its languages.
    """
    path = Path(path)
    if not path.is_file():
        raise ExchangeFileError(f"{path}: no such file.")
    data = path.read_bytes()
    try:
        if path.suffix in (".xliff", ".xlf"):
            return _read_xliff(data, path)
        if path.suffix in (".po", ".pot"):
            return _read_po(data, path)
    except ExchangeFileError:
        raise
    except Exception as error:  # translate-toolkit raises lxml and its own parse errors
        raise ExchangeFileError(f"{path}: cannot be read as {path.suffix[1:]} ({error}).") from error
    raise ExchangeFileError(f"{path}: unsupported file type '{path.suffix}'; use .xliff, .xlf or .po.")


def _languages(path: Path, source: str | None, target: str | None) -> tuple[str, str]:
    if not source or not target:
        raise ExchangeFileError(
            f"{path}: the file does not name its source and target languages; "
            "export it again with `bridge translations export --language xx`."
        )
    return source, target


def _read_xliff(data: bytes, path: Path) -> ExchangeFile:
    store = xliff.xlifffile.parsestring(data)
    source, target = _languages(path, store.getsourcelanguage(), store.gettargetlanguage())
    units = []
    for entry in store.units:
        if entry.isheader():
            continue
        unit_id = entry.xmlelement.get("id") or ""
        spans: dict[int, str] = {}
        source_pieces = _flatten(entry.rich_source, spans, collect=True)
        target_pieces = _flatten(entry.rich_target, spans, collect=False) if entry.target else []
        units.append(_returned(unit_id, source_pieces, target_pieces, spans))
    return ExchangeFile(source, target, units)


def _flatten(rich: Sequence[StringElem], spans: dict[int, str], collect: bool) -> list[str | int]:
    """Text pieces and placeholder numbers of a rich text; `collect` reads spans from equiv-text."""
    pieces: list[str | int] = []

    def walk(element) -> None:
        identifier = getattr(element, "id", None)
        if identifier is not None and type(element) is not StringElem:
            number = int(identifier) if str(identifier).isdigit() else -1
            if collect:
                spans[number] = (getattr(element, "xml_attrib", None) or {}).get("equiv-text", "")
            pieces.append(number)
            return
        for sub in element.sub:
            if isinstance(sub, str):
                pieces.append(sub)
            else:
                walk(sub)

    for element in rich:
        walk(element)
    return pieces


def _read_po(data: bytes, path: Path) -> ExchangeFile:
    store = po.pofile.parsestring(data)
    header = store.parseheader()
    source, target = _languages(path, header.get(SOURCE_LANGUAGE_HEADER), header.get("Language"))
    units = []
    for entry in store.units:
        if entry.isheader() or entry.isobsolete():
            continue
        spans = {}
        for line in entry.getnotes(origin="developer").splitlines():
            match = _PO_SPAN_LINE.match(line)
            if match:
                spans[int(match.group(1))] = match.group(2)
        unit_id = entry.getcontext()
        source_pieces = _po_pieces(entry.source)
        if entry.isfuzzy() and entry.target:
            units.append(ReturnedUnit(unit_id, _fill(source_pieces, spans), None, "marked fuzzy: review it first"))
            continue
        units.append(_returned(unit_id, source_pieces, _po_pieces(entry.target or ""), spans))
    return ExchangeFile(source, target, units)


def _po_pieces(text: str) -> list[str | int]:
    pieces: list[str | int] = []
    position = 0
    for match in _PO_PLACEHOLDER.finditer(text):
        pieces.append(text[position : match.start()])
        pieces.append(int(match.group(1)) if match.group(1) else "%")
        position = match.end()
    pieces.append(text[position:])
    return [piece for piece in pieces if piece != ""]


def _fill(pieces: Sequence[str | int], spans: dict[int, str]) -> str:
    return "".join(piece if isinstance(piece, str) else spans.get(piece, "") for piece in pieces)


def _returned(
    unit_id: str, source_pieces: list[str | int], target_pieces: list[str | int], spans: dict[int, str]
) -> ReturnedUnit:
    """Checks the translation's placeholders against the source's and fills both in."""
    source_text = _fill(source_pieces, spans)
    wanted = sorted(p for p in source_pieces if isinstance(p, int))
    if missing_value := [n for n in wanted if not spans.get(n)]:
        return ReturnedUnit(unit_id, source_text, None, f"placeholder(s) {missing_value} have no value in the file")
    if not any(isinstance(p, int) or p.strip() for p in target_pieces):
        return ReturnedUnit(unit_id, source_text, None, None)  # not translated yet
    found = sorted(p for p in target_pieces if isinstance(p, int))
    if found != wanted:
        lost = [f"{n} ({spans[n]})" for n in sorted(set(wanted)) if found.count(n) < wanted.count(n)]
        repeated = [f"{n} ({spans[n]})" for n in sorted(set(found) & set(wanted)) if found.count(n) > wanted.count(n)]
        unknown = sorted(set(found) - set(wanted))
        details = "; ".join(
            text
            for text in (
                f"missing placeholder(s) {', '.join(lost)}" if lost else "",
                f"repeated placeholder(s) {', '.join(repeated)}" if repeated else "",
                f"unknown placeholder(s) {unknown}" if unknown else "",
            )
            if text
        )
        return ReturnedUnit(unit_id, source_text, None, f"{details}: keep each placeholder exactly once")
    translation, positions = _fill_with_positions(target_pieces, spans)
    return ReturnedUnit(unit_id, source_text, translation, span_positions=positions)


def _fill_with_positions(pieces: Sequence[str | int], spans: dict[int, str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The filled, stripped text and where each span landed in it."""
    lead = len(_fill(pieces, spans)) - len(_fill(pieces, spans).lstrip())
    text, positions = "", []
    for piece in pieces:
        value = piece if isinstance(piece, str) else spans[piece]
        if not isinstance(piece, str):
            positions.append((len(text) - lead, len(text) - lead + len(value)))
        text += value
    return text.strip(), tuple(positions)
