"""Build, add, remove, crash safety and encoder checks of the knowledge-base store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import pytest

import bot.knowledge.store as store_module
from bot.knowledge.faiss_index import IndexParams
from bot.knowledge.retriever import AnswerRetriever
from bot.knowledge.store import EncoderMismatchError, KnowledgeBaseNotBuiltError, KnowledgeBaseStore, StoreFormatError
from tests.knowledge.conftest import entry

pytestmark = pytest.mark.slow


def best(retriever: AnswerRetriever, text: str):
    return retriever.search([text], k=1)[0][0]


def test_build_then_search_finds_the_answer(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    manifest = store.build(small_entries, encoder_dir)
    assert (manifest["entries"], manifest["vectors"], manifest["index_type"]) == (3, 3, "flat")
    hit = best(AnswerRetriever(store, encoder_dir).open(), "Can I buy a gift card?")
    assert (hit.entry_id, hit.answer, hit.language) == ("gift", "Yes, gift cards from EUR 10 to EUR 500.", "en")


def test_add_extends_the_index_without_re_embedding_the_rest(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    store.build(small_entries, encoder_dir)
    before = store.open_index()
    old_ids = set(faiss.vector_to_array(before.id_map))
    manifest = store.add([entry("student", ["Is there a student discount?", "¿Hay descuento para estudiantes?"], "15% off.")], encoder_dir)
    index = store.open_index()
    assert (manifest["entries"], manifest["vectors"]) == (4, 5)
    assert old_ids < set(faiss.vector_to_array(index.id_map))  # the old vectors kept their ids
    assert best(AnswerRetriever(store, encoder_dir).open(), "Rabatt für Studenten?").entry_id == "student"


def test_adding_an_existing_id_replaces_the_answer(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    store.build(small_entries, encoder_dir)
    manifest = store.add([entry("gift", ["Do you sell gift cards?"], "Yes, from EUR 5 now.")], encoder_dir)
    assert (manifest["entries"], manifest["vectors"]) == (3, 3)
    assert best(AnswerRetriever(store, encoder_dir).open(), "gift cards?").answer == "Yes, from EUR 5 now."


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_remove_makes_an_answer_unfindable(tmp_path, small_entries, encoder_dir, index_type):
    store = KnowledgeBaseStore(tmp_path / "kb", params=IndexParams(index_type=index_type))
    store.build(small_entries, encoder_dir)
    retriever = AnswerRetriever(store, encoder_dir).open()
    assert best(retriever, "gift card please").entry_id == "gift"
    manifest = store.remove(["gift"])
    assert manifest["entries"] == 2
    # HNSW cannot delete vectors: it keeps a tombstone that the retriever skips.
    assert manifest["tombstones"] == (1 if index_type == "hnsw" else 0)
    assert [h.entry_id for h in retriever.search(["gift card please"], k=5)[0]] and "gift" not in [
        h.entry_id for h in retriever.search(["gift card please"], k=5)[0]
    ]


def test_removing_an_unknown_id_changes_nothing_and_names_it(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    before = store.build(small_entries, encoder_dir)
    with pytest.raises(KeyError, match="No entry with id 'nope'"):
        store.remove(["gift", "nope"])
    assert store.manifest()["entries"] == before["entries"] == 3


def test_a_store_never_built_says_how_to_build_it(tmp_path, encoder_dir):
    with pytest.raises(KnowledgeBaseNotBuiltError, match="bridge kb build"):
        AnswerRetriever(KnowledgeBaseStore(tmp_path / "empty"), encoder_dir).open()


class Crash(RuntimeError):
    pass


@pytest.mark.parametrize("crash_point", ["index file", "manifest"])
def test_a_crash_mid_write_leaves_the_previous_knowledge_base_usable(tmp_path, small_entries, encoder_dir, monkeypatch, crash_point):
    store = KnowledgeBaseStore(tmp_path / "kb")
    store.build(small_entries, encoder_dir)
    committed = store.manifest_path.read_text()

    if crash_point == "index file":
        def crash(index, path):  # half a file on disk, then the process dies
            Path(path).write_bytes(b"\x00" * 100)
            raise Crash()
        monkeypatch.setattr(faiss, "write_index", crash)
    else:
        monkeypatch.setattr(store_module, "write_text_atomically", lambda path, text: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        store.build([entry("other", ["Something else entirely?"], "A different answer.")], encoder_dir)
    monkeypatch.undo()

    assert store.manifest_path.read_text() == committed
    fresh = AnswerRetriever(KnowledgeBaseStore(tmp_path / "kb"), encoder_dir).open()
    assert best(fresh, "Do you sell gift cards?").entry_id == "gift"
    # The next write clears what the crashed one left behind.
    store.add([entry("wool", ["How do I wash wool?"], "Cold water.")], encoder_dir)
    assert len(list((tmp_path / "kb").glob("index-*.faiss"))) == 1
    assert not list((tmp_path / "kb").glob(".*.tmp"))
    assert store.metadata.entry_count() == 3


def other_encoder(encoder_dir: Path, folder: Path) -> Path:
    """The same weights under another identity, as a differently provisioned encoder would be."""
    folder.mkdir()
    for item in Path(encoder_dir).iterdir():
        if item.name != "bridge_encoder.json":
            os.symlink(item.resolve(), folder / item.name)
    (folder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": "another-encoder"}))
    return folder


def test_an_index_built_by_another_encoder_is_refused(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    store.build(small_entries, encoder_dir)
    another = other_encoder(encoder_dir, tmp_path / "other-encoder")
    with pytest.raises(EncoderMismatchError, match="was built with encoder .* Rebuild it with `bridge kb build`"):
        AnswerRetriever(store, another).open()
    with pytest.raises(EncoderMismatchError):
        store.add([entry("x", ["question?"], "answer")], another)
    assert store.manifest()["entries"] == 3
    # Rebuilding with the new encoder is the way out.
    assert store.build(small_entries, another)["encoder"] == "another-encoder"


def test_metadata_can_live_in_another_database(tmp_path, small_entries, encoder_dir):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    store = KnowledgeBaseStore(tmp_path / "kb", db_url=url)
    store.build(small_entries, encoder_dir)
    assert (tmp_path / "elsewhere.db").is_file() and not (tmp_path / "kb" / "metadata.db").exists()
    assert best(AnswerRetriever(store, encoder_dir).open(), "ship to which countries").entry_id == "ship"


def make_format_1(store: KnowledgeBaseStore) -> None:
    """Turns a store into what Bridge's first store format left on disk."""
    import sqlalchemy as sa

    manifest = json.loads(store.manifest_path.read_text())
    manifest["format"] = 1
    manifest.pop("language_centroids")
    store.manifest_path.write_text(json.dumps(manifest))
    with store.metadata.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE kb_answers DROP COLUMN vector"))
    store.metadata.dispose()


def test_a_store_of_an_older_format_is_refused_until_rebuilt(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")
    store.build(small_entries, encoder_dir)
    make_format_1(store)
    with pytest.raises(StoreFormatError, match="has format 1; this Bridge reads format 2. Rebuild it with `bridge kb build`"):
        AnswerRetriever(store, encoder_dir).open()
    with pytest.raises(StoreFormatError):
        store.add([entry("student", ["Student discount?"], "15% off.")], encoder_dir)
    store.build(small_entries, encoder_dir)
    assert best(AnswerRetriever(store, encoder_dir).open(), "gift cards?").entry_id == "gift"
