"""Per-language versions of a knowledge-base answer: read, checked, stored, and sent as authored."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.knowledge_base import ActionAnswerFromKnowledgeBase
from bot.knowledge.metadata import MetadataStore
from bot.knowledge.source import SourceError, load_entries, source_fingerprint
from bot.nlg.translating_nlg import TranslatingNLG
from bot.translation.protection import SpanProtector

ANSWER = "Track order 10045 at https://cobalt.example/track or ask Cobalt Shop."
SPANISH = "Sigue el pedido 10045 en https://cobalt.example/track o pregunta a Cobalt Shop."
FRENCH = "Suivez la commande 10045 sur https://cobalt.example/track ou demandez à Cobalt Shop."


def write_jsonl(path, answers):
    record = {
        "id": "track-001",
        "questions": ["Where can I track my order?"],
        "answer": ANSWER,
        "language": "en",
        "updated_at": "2024-01-01T00:00:00Z",
        "answers": answers,
    }
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_jsonl_answers_and_csv_answer_columns_give_the_same_versions(tmp_path):
    jsonl = write_jsonl(tmp_path / "a.jsonl", {"es": SPANISH})
    csv_file = tmp_path / "b.csv"
    csv_file.write_text(
        "id,questions,answer,language,updated_at,answer_es,answer_de\n"
        f'track-002,Where can I track my order?,"{ANSWER}",en,2024-01-01T00:00:00Z,"{SPANISH}",\n',
        encoding="utf-8",
    )
    [from_json], [from_csv] = load_entries(jsonl), load_entries(csv_file)
    assert from_json.versions == from_csv.versions == {"es": SPANISH}  # an empty cell is no version


def test_versions_change_the_fingerprint_so_the_bot_rebuilds(tmp_path):
    with_version = load_entries(write_jsonl(tmp_path / "a.jsonl", {"es": SPANISH}))
    without = load_entries(write_jsonl(tmp_path / "b.jsonl", {}))
    assert source_fingerprint(with_version) != source_fingerprint(without)


def test_a_version_that_drops_an_order_number_a_link_or_a_glossary_term_is_refused(tmp_path):
    broken = {
        "es": "Sigue el pedido en https://cobalt.example/track o pregunta a Cobalt Shop.",
        "de": "Verfolgen Sie Bestellung 10045 online oder fragen Sie Cobalt Shop.",
        "fr": "Suivez la commande 10045 sur https://cobalt.example/track ou demandez à la boutique.",
    }
    with pytest.raises(SourceError) as error:
        load_entries(write_jsonl(tmp_path / "a.jsonl", broken), protector=SpanProtector(["Cobalt Shop"]))
    message = str(error.value)
    assert "entry 'track-001', version 'es' lacks the protected part(s) ['10045']" in message
    assert "version 'de' lacks the protected part(s) ['https://cobalt.example/track']" in message
    assert "version 'fr' lacks the protected part(s) ['Cobalt Shop']" in message
    assert "a.jsonl:1" in message


def test_a_version_in_the_answers_own_language_or_a_bad_code_is_refused(tmp_path):
    with pytest.raises(
        SourceError, match="(?s)version 'en': the answer itself is in 'en'.*version 'spanish': the langu"
    ):
        load_entries(write_jsonl(tmp_path / "a.jsonl", {"en": ANSWER, "spanish": SPANISH}))


def test_the_metadata_store_keeps_versions_with_their_answer_and_drops_them_with_it(tmp_path):
    metadata = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    [entry] = load_entries(write_jsonl(tmp_path / "a.jsonl", {"es": SPANISH}))
    [vector_id] = metadata.insert([entry], first_vector_id=0)
    assert metadata.lookup([vector_id])[vector_id].versions == {"es": SPANISH}
    metadata.delete_vectors([vector_id])
    with metadata.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM kb_answer_versions").scalar_one() == 0


def test_the_metadata_store_keeps_each_versions_vector_for_the_retriever(tmp_path):
    metadata = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    [entry] = load_entries(write_jsonl(tmp_path / "a.jsonl", {"es": SPANISH, "fr": FRENCH}))
    spanish = np.array([0.6, 0.8], dtype=np.float32)
    [vector_id] = metadata.insert(
        [entry], first_vector_id=0, answer_vectors=np.ones((1, 2), np.float32), version_vectors=[{"es": spanish}]
    )
    record = metadata.lookup([vector_id])[vector_id]
    assert sorted(record.versions) == ["es", "fr"]
    assert list(record.version_vectors) == ["es"]  # a version stored without a vector has none
    np.testing.assert_array_equal(record.version_vectors["es"], spanish)


def found_answer() -> dict:
    hit = {"id": "track-001", "answer": ANSWER, "language": "en", "versions": {"es": SPANISH}}
    return {
        "answered": True,
        "answer_id": "track-001",
        "score": 0.91,
        "answer": ANSWER,
        "answer_language": "en",
        "hits": [hit],
    }


def run_action(language: str) -> dict:
    tracker = Tracker(
        "c1", {"language": language}, {"text": "?", "knowledge_base": found_answer()}, [], False, None, {}, ""
    )
    dispatcher = CollectingDispatcher()
    ActionAnswerFromKnowledgeBase().run(dispatcher, tracker, {})
    return dispatcher.messages[0]


def test_the_action_sends_the_version_in_the_customers_language_else_the_answer():
    spanish, korean = run_action("es"), run_action("ko")
    assert (spanish["answer"], spanish["answer_language"]) == (SPANISH, "es")
    assert (korean["answer"], korean["answer_language"]) == (ANSWER, "en")


DOMAIN = Domain.from_yaml(
    """
version: "3.1"
slots:
  language: {type: text, mappings: [{type: custom}]}
responses:
  utter_knowledge_base_answer:
  - text: "{answer}"
  utter_translation_notice:
  - text: "(This answer is only available in English.)"
"""
)


def test_the_customer_reads_the_version_as_authored_text():
    nlg = TranslatingNLG(EndpointConfig(type="bot.nlg.translating_nlg.TranslatingNLG"), DOMAIN)
    tracker = DialogueStateTracker.from_events("c1", [SlotSet("language", "es")], slots=DOMAIN.slots)
    arguments = {k: v for k, v in run_action("es").items() if k not in ("response", "text", "template")}
    message = asyncio.run(nlg.generate("utter_knowledge_base_answer", tracker, "rest", **arguments))
    assert message["text"] == SPANISH
    assert (message["translation"], message["language"], message["answer_id"]) == ("authored", "es", "track-001")


@pytest.mark.slow
def test_bridge_kb_build_refuses_a_broken_version_and_a_search_returns_the_stored_ones(tmp_path, encoder_dir, capsys):
    from bot.cli.main import main
    from bot.knowledge.retriever import AnswerRetriever
    from bot.knowledge.store import KnowledgeBaseStore

    store = ["kb", "--store", str(tmp_path / "kb"), "--encoder", str(encoder_dir)]
    broken = write_jsonl(tmp_path / "broken.jsonl", {"es": "Sigue tu pedido en la web."})
    with pytest.raises(SystemExit, match=r"entry 'track-001', version 'es' lacks the protected part\(s\) \['10045'"):
        main([*store, "build", str(broken)])
    main([*store, "build", str(write_jsonl(tmp_path / "good.jsonl", {"es": SPANISH}))])
    retriever = AnswerRetriever(KnowledgeBaseStore(tmp_path / "kb"), encoder_dir).open()
    [[hit]] = retriever.search(["¿Dónde puedo seguir mi pedido?"], k=1)
    assert hit.to_dict()["versions"] == {"es": SPANISH}
