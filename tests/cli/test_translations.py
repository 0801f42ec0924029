"""`bridge translations export / import / status` on the demo's domain, as an operator runs them."""

from __future__ import annotations

import asyncio
import json

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from translate.storage import po

from bot.cli.main import main, translate_known_texts_ahead
from bot.nlg.translating_nlg import TranslatingNLG
from bot.translation.memory import TranslationMemory
from bot.translation.pipeline import TranslationPipeline
from bot.translation.protection import SpanProtector

TRACK = "Track order 10045 at https://shop.example.com/track, or ask Cobalt Shop."
KOREAN_TRACK = '주문 <x id="1"/>은 <x id="2"/>에서 추적하거나 <x id="3"/>에 문의하세요.'
WOOL = "Hand-wash wool in cold water."


@pytest.fixture
def operator(tmp_path):
    """Runs `bridge translations ...` on the demo domain with a small knowledge base and a fresh memory."""
    source = tmp_path / "kb.jsonl"
    records = [
        {"id": "track-001", "questions": ["Where do I track my order?"], "answer": TRACK, "language": "en"},
        {"id": "wool-001", "questions": ["How do I wash wool?"], "answer": WOOL, "language": "en", "answers": {}},
    ]
    source.write_text(
        "".join(json.dumps({**r, "updated_at": "2024-01-01T00:00:00Z"}) + "\n" for r in records), encoding="utf-8"
    )
    memory_url = f"sqlite:///{tmp_path / 'memory.db'}"

    def run(*arguments: str) -> None:
        main(["translations", "--kb-source", str(source), "--memory-url", memory_url, *arguments])

    run.memory_url = memory_url
    return run


def add_targets(path, targets: dict[str, str]) -> None:
    """Types translations into an XLIFF file as a translator's tool saves them."""
    text = path.read_text(encoding="utf-8")
    for unit_id, target in targets.items():
        start = text.index(f'id="{unit_id}"')
        end = text.index("</source>", start) + len("</source>")
        text = text[:end] + f"<target>{target}</target>" + text[end:]
    path.write_text(text, encoding="utf-8")


def customer_reads(memory_url: str, answer: str, language: str) -> dict:
    """What TranslatingNLG sends a customer in `language` for a knowledge-base answer."""
    domain = Domain.load("training_data/domain")
    translation = {"memory_url": memory_url, "glossary": "knowledge_base/glossary.txt", "backends": {}}
    nlg = TranslatingNLG(EndpointConfig(type="bot.nlg.translating_nlg.TranslatingNLG", translation=translation), domain)
    tracker = DialogueStateTracker.from_events("c1", [SlotSet("language", language)], slots=domain.slots)
    return asyncio.run(
        nlg.generate(
            "utter_knowledge_base_answer",
            tracker,
            "rest",
            answer=answer,
            answer_language="en",
            answer_id="x",
            score=0.9,
        )
    )


def test_xliff_round_trip_reaches_the_customer_from_memory_and_a_broken_unit_is_refused(operator, tmp_path, capsys):
    exported = tmp_path / "ko.xliff"
    operator("export", "--language", "ko", "--missing", "--output", str(exported))
    assert "wrote 2 units for en -> ko" in capsys.readouterr().out  # the responses have Korean variants
    add_targets(exported, {"kb:track-001": KOREAN_TRACK, "kb:wool-001": "양모는 찬물에 손세탁하세요 <x id='1'/>."})
    with pytest.raises(SystemExit) as refused:
        operator("import", str(exported), "--author", "translator")
    assert (
        "imported 1 units (en -> ko) into the translation memory; 0 not translated, 1 refused"
        in capsys.readouterr().out
    )
    assert "kb:wool-001: unknown placeholder(s) [1]" in str(refused.value)

    message = customer_reads(operator.memory_url, TRACK, "ko")
    assert message["text"] == "주문 10045은 https://shop.example.com/track에서 추적하거나 Cobalt Shop에 문의하세요."
    assert message["translation"] == "memory"
    # Now translated, the answer is no longer missing; the wool answer still is.
    operator("export", "--language", "ko", "--missing", "--format", "po", "--output", str(tmp_path / "ko.po"))
    assert [u.getcontext() for u in po.pofile.parsefile(str(tmp_path / "ko.po")).units[1:]] == ["kb:wool-001"]


def test_a_po_unit_that_drops_the_order_number_is_refused_the_rest_imported(operator, tmp_path, capsys):
    exported = tmp_path / "hi.po"
    operator("export", "--language", "hi", "--format", "po", "--output", str(exported))
    store = po.pofile.parsefile(str(exported))
    for unit in store.units[1:]:
        if unit.getcontext() == "kb:track-001":
            unit.target = "अपना ऑर्डर %(p2)s पर ट्रैक करें या %(p3)s से पूछें।"  # the order number is gone
        if unit.getcontext() == "kb:wool-001":
            unit.target = "ऊनी कपड़े ठंडे पानी में हाथ से धोएँ।"
    store.save()
    with pytest.raises(SystemExit, match=r"kb:track-001: missing placeholder\(s\) 1 \(10045\)"):
        operator("import", str(exported))
    capsys.readouterr()
    operator("status")
    table = capsys.readouterr().out.splitlines()
    hindi_answers = next(line.split() for line in table if line.startswith("hi ") and "answers" in line)
    assert hindi_answers == ["hi", "answers", "2", "0", "1", "0", "1", "50%"]
    assert customer_reads(operator.memory_url, WOOL, "hi")["text"] == "ऊनी कपड़े ठंडे पानी में हाथ से धोएँ।"


def test_a_language_the_bot_does_not_speak_is_named_with_the_ones_it_does(operator):
    with pytest.raises(SystemExit, match="'sw' is not a language the bot speaks; .* lists en, es, pt"):
        operator("export", "--language", "sw")
    with pytest.raises(SystemExit, match="'en' is the language the texts are written in"):
        operator("export", "--language", "en")


@pytest.mark.slow
def test_kb_build_translates_the_answers_ahead_so_status_counts_them_in_memory(tmp_path, encoder_dir, capsys):
    endpoints = tmp_path / "endpoints.yml"
    memory_url = f"sqlite:///{tmp_path / 'memory.db'}"
    endpoints.write_text(
        "nlg:\n  type: bot.nlg.translating_nlg.TranslatingNLG\n  translation:\n"
        f"    memory_url: {memory_url}\n    glossary: knowledge_base/glossary.txt\n"
        "    backends: {bergamot: {type: bergamot, models: {en-pt: bundled}}}\n",
        encoding="utf-8",
    )
    source = tmp_path / "kb.jsonl"
    record = {"id": "wool-001", "questions": ["How do I wash wool?"], "answer": WOOL, "language": "en"}
    source.write_text(json.dumps({**record, "updated_at": "2024-01-01T00:00:00Z"}) + "\n", encoding="utf-8")
    kb = ["kb", "--store", str(tmp_path / "kb"), "--encoder", str(encoder_dir), "--endpoints", str(endpoints)]
    main([*kb, "build", str(source)])
    assert "translated ahead into the memory: 1 new, 0 already there" in capsys.readouterr().out
    main(["translations", "--endpoints", str(endpoints), "--kb-source", str(source), "status"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["pt", "answers", "1", "0", "1", "0", "0", "100%"] in rows
    assert ["ko", "answers", "1", "0", "0", "0", "1", "0%"] in rows


def test_training_translates_the_responses_and_answers_ahead_for_every_configured_pair(tmp_path, capsys):
    (tmp_path / "config.yml").write_text(
        "pipeline:\n  - name: bot.components.language_detector.LanguageDetector\n"
        "    supported_languages: [en, pt, ko]\n"
        "  - name: bot.components.knowledge_base_retriever.KnowledgeBaseRetriever\n    source: kb\n",
        encoding="utf-8",
    )
    (tmp_path / "kb").mkdir()
    record = {"id": "wool-001", "questions": ["How do I wash wool?"], "answer": WOOL, "language": "en"}
    (tmp_path / "kb" / "answers.jsonl").write_text(
        json.dumps({**record, "updated_at": "2024-01-01T00:00:00Z"}) + "\n", encoding="utf-8"
    )
    memory_url = f"sqlite:///{tmp_path / 'memory.db'}"
    (tmp_path / "endpoints.yml").write_text(
        "nlg:\n  type: bot.nlg.translating_nlg.TranslatingNLG\n  translation:\n"
        f"    memory_url: {memory_url}\n"
        "    backends: {bergamot: {type: bergamot, models: {en-pt: bundled}}}\n",
        encoding="utf-8",
    )
    domain = tmp_path / "training_data" / "domain"
    domain.mkdir(parents=True)
    (domain / "domain.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_shipped:\n    - text: "Your order {order_id} has shipped."\n',
        encoding="utf-8",
    )
    translate_known_texts_ahead(tmp_path)
    assert "bridge train: translated ahead into the memory: 2 new, 0 already there" in capsys.readouterr().out

    # The server's NLG, in another process, finds the Portuguese text in the memory without the engine.
    protector = SpanProtector()
    server = TranslationPipeline([], protector, TranslationMemory(memory_url, protector))
    found = server.remembered("Your order {order_id} has shipped.", "en", "pt")
    assert found.cached and found.path == "mt:bergamot" and "{order_id}" in found.text
    assert server.remembered(WOOL, "en", "pt").cached
    translate_known_texts_ahead(tmp_path)
    assert "0 new, 2 already there" in capsys.readouterr().out
