"""XLIFF and PO exchange files through translate-toolkit: spans locked, translations checked."""

from __future__ import annotations

import pytest
from translate.storage import po

from bot.translation.exchange import ExchangeFileError, ExchangeUnit, read_exchange, write_exchange
from bot.translation.protection import SpanProtector

PROTECTOR = SpanProtector(["Cobalt Shop"])
TRACK = ExchangeUnit("kb:track-001", "Track order 10045 at https://cobalt.example/track, 40% off at Cobalt Shop.")
CANCELLED = ExchangeUnit("response:utter_order_cancelled:0", "Order {order_id} was cancelled.", "response")
UNITS = [TRACK, CANCELLED]


def test_xliff_locks_every_span_in_an_inline_tag(tmp_path):
    data = write_exchange(UNITS, "xliff", "en", "es", PROTECTOR).decode()
    assert 'id="kb:track-001"' in data and 'source-language="en"' in data and 'target-language="es"' in data
    assert 'Track order <x id="1" equiv-text="10045"/> at <x id="2" equiv-text="https://cobalt.example/track"/>' in data
    assert 'Order <x id="1" equiv-text="{order_id}"/> was cancelled.' in data


def test_po_gives_spans_as_python_format_placeholders_with_their_values_in_a_comment(tmp_path):
    data = write_exchange(UNITS, "po", "en", "es", PROTECTOR).decode()
    assert 'msgctxt "kb:track-001"' in data
    assert "Track order %(p1)s at %(p2)s, 40%% off at %(p3)s." in data
    assert "#. %(p2)s = https://cobalt.example/track" in data and "#, python-format" in data


def translate_xliff(data: bytes, targets: dict[str, str]) -> bytes:
    """Adds <target> elements as a translator's tool would: the tags copied as they were."""
    text = data.decode()
    for unit_id, target in targets.items():
        start = text.index(f'id="{unit_id}"')
        end = text.index("</source>", start) + len("</source>")
        text = text[:end] + f"<target>{target}</target>" + text[end:]
    return text.encode()


def test_an_xliff_round_trip_gives_the_translation_with_the_spans_filled_in(tmp_path):
    path = tmp_path / "es.xliff"
    path.write_bytes(
        translate_xliff(
            write_exchange(UNITS, "xliff", "en", "es", PROTECTOR),
            {
                "kb:track-001": 'Sigue el pedido <x id="1"/> en <ph id="2">link</ph>: 40% menos en <x id="3"/>.',
                "response:utter_order_cancelled:0": 'Pedido <x id="1"/> cancelado; <x id="1"/>.',
            },
        )
    )
    exchange = read_exchange(path)
    assert (exchange.source_language, exchange.target_language) == ("en", "es")
    track, cancelled = exchange.units
    assert track.source_text == TRACK.text
    assert track.translation == "Sigue el pedido 10045 en https://cobalt.example/track: 40% menos en Cobalt Shop."
    assert cancelled.translation is None
    assert cancelled.problem == "repeated placeholder(s) 1 ({order_id}): keep each placeholder exactly once"


def test_a_po_unit_that_drops_the_link_is_refused_and_an_empty_one_is_untranslated(tmp_path):
    path = tmp_path / "es.po"
    path.write_bytes(write_exchange(UNITS, "po", "en", "es", PROTECTOR))
    store = po.pofile.parsefile(str(path))
    track = next(unit for unit in store.units if unit.getcontext() == "kb:track-001")
    track.target = "Sigue el pedido %(p1)s: 40%% menos en %(p3)s."
    store.save()
    track_back, cancelled_back = read_exchange(path).units
    assert track_back.problem == (
        "missing placeholder(s) 2 (https://cobalt.example/track): keep each placeholder exactly once"
    )
    assert (cancelled_back.translation, cancelled_back.problem) == (None, None)


def test_a_fuzzy_po_translation_is_not_taken(tmp_path):
    path = tmp_path / "es.po"
    path.write_bytes(write_exchange([CANCELLED], "po", "en", "es", PROTECTOR))
    store = po.pofile.parsefile(str(path))
    store.units[1].target = "Pedido %(p1)s cancelado."
    store.units[1].markfuzzy(True)
    store.save()
    [unit] = read_exchange(path).units
    assert unit.translation is None and unit.problem == "marked fuzzy: review it first"


def test_files_that_cannot_be_used_get_a_clear_error(tmp_path):
    with pytest.raises(ExchangeFileError, match="no such file"):
        read_exchange(tmp_path / "missing.po")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ExchangeFileError, match="unsupported file type '.txt'"):
        read_exchange(tmp_path / "notes.txt")
    (tmp_path / "broken.xliff").write_text("<xliff><file")
    with pytest.raises(ExchangeFileError, match="cannot be read as xliff"):
        read_exchange(tmp_path / "broken.xliff")
    with pytest.raises(ExchangeFileError, match="format 'tmx' is not supported; use one of xliff, po"):
        write_exchange(UNITS, "tmx", "en", "es", PROTECTOR)
