"""Build, add, remove, reload, the commit protocol and crash safety of the knowledge-base store.

These run with the tiny encoder the tests build (tests/helpers/tiny_sentence_encoder.py): its
vectors mean nothing, so a search here asks a stored question word for word and checks what
the store holds, never how well it retrieves. Retrieval quality is the one slow test at the
end and tests/knowledge/test_retrieval.py, with the real encoder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import faiss
import pytest

import bot.knowledge.store as store_module
from bot.knowledge.faiss_index import IndexParams
from bot.knowledge.language_centroids import MIN_TEXTS_PER_LANGUAGE
from bot.knowledge.retriever import AnswerRetriever
from bot.knowledge.store import EncoderMismatchError, KnowledgeBaseNotBuiltError, KnowledgeBaseStore, StoreFormatError
from tests.conftest import PROJECT_DIR
from tests.helpers.knowledge_base import entry, make_format_1


def new_store(folder: Path, **options) -> KnowledgeBaseStore:
    """A store without language centring: the centroids are one calibration pass over NLU
    data, tested once (the first test), and change nothing in how the store commits."""
    return KnowledgeBaseStore(folder, calibration=None, **options)


def retriever(store: KnowledgeBaseStore, encoder_dir: Path) -> AnswerRetriever:
    # Questions only: the tiny encoder's answer vectors would add noise, not meaning.
    return AnswerRetriever(store, encoder_dir, answer_weight=0.0).open()


def best(retriever: AnswerRetriever, text: str):
    return retriever.search([text], k=1)[0][0]


def vector_ids(store: KnowledgeBaseStore) -> set[int]:
    """The ids in the committed index (the index is held while its id map is read)."""
    index = store.open_index()
    return {int(i) for i in faiss.vector_to_array(index.id_map)}


def leftovers(folder: Path) -> list[str]:
    """Index files and temporary files beside the one the manifest names."""
    current = json.loads((folder / "manifest.json").read_text())["index_file"]
    return sorted(
        p.name for p in folder.iterdir() if p.name.endswith(".tmp") or (p.suffix == ".faiss" and p.name != current)
    )


def write_calibration(path: Path) -> Path:
    """A Rasa NLU file with just enough examples in English and German to calibrate them."""
    lines = ['version: "3.1"', "nlu:"]
    for language, text in (("en", "where is my order number"), ("de", "wo ist meine Bestellung Nummer")):
        lines += [f"- intent: order_{language}", "  metadata:", f"    language: {language}", "  examples: |"]
        lines += [f"    - {text} {i}" for i in range(MIN_TEXTS_PER_LANGUAGE)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_build_commits_a_manifest_naming_the_index_the_encoder_and_the_centroids(
    tmp_path, small_entries, tiny_encoder_dir
):
    store = KnowledgeBaseStore(tmp_path / "kb", calibration=write_calibration(tmp_path / "nlu.yml"))
    manifest = store.build(small_entries, tiny_encoder_dir)
    assert manifest == store.manifest()  # what build returns is what was committed
    assert (manifest["entries"], manifest["vectors"], manifest["index_type"], manifest["next_id"]) == (3, 3, "flat", 3)
    assert manifest["encoder"] == "tiny-sentence-encoder" and manifest["format"] == store_module.FORMAT_VERSION
    assert sorted(manifest["language_centroids"]) == ["de", "en"]
    assert [p.name for p in (tmp_path / "kb").glob("index-*.faiss")] == [manifest["index_file"]]
    hit = best(retriever(store, tiny_encoder_dir), "Do you sell gift cards?")
    assert (hit.entry_id, hit.answer, hit.language, hit.tags) == (
        "gift",
        "Yes, gift cards from EUR 10 to EUR 500.",
        "en",
        ("test",),
    )
    assert hit.question_score == pytest.approx(1.0, abs=1e-4)


def test_add_extends_the_index_without_re_embedding_the_rest(tmp_path, small_entries, tiny_encoder_dir):
    store = new_store(tmp_path / "kb")
    store.build(small_entries, tiny_encoder_dir)
    old_ids = vector_ids(store)
    student = entry("student", ["Is there a student discount?", "¿Hay descuento para estudiantes?"], "15% off.")
    manifest = store.add([student], tiny_encoder_dir)
    new_ids = vector_ids(store)
    assert (manifest["entries"], manifest["vectors"], manifest["next_id"]) == (4, 5, 5)
    assert old_ids < new_ids and new_ids - old_ids == {3, 4}  # the old vectors kept their ids
    assert best(retriever(store, tiny_encoder_dir), "¿Hay descuento para estudiantes?").entry_id == "student"


def test_adding_an_existing_id_replaces_the_answer_and_its_vectors(tmp_path, small_entries, tiny_encoder_dir):
    store = new_store(tmp_path / "kb")
    store.build(small_entries, tiny_encoder_dir)
    manifest = store.add([entry("gift", ["Are gift cards available?"], "Yes, from EUR 5 now.")], tiny_encoder_dir)
    assert (manifest["entries"], manifest["vectors"]) == (3, 3)
    search = retriever(store, tiny_encoder_dir)
    assert best(search, "Are gift cards available?").answer == "Yes, from EUR 5 now."
    # The replaced question is gone from the index and the metadata, not just outranked.
    assert store.metadata.vector_ids_of(["gift"]) == {"gift": [3]}
    assert vector_ids(store) == {1, 2, 3}


@pytest.mark.parametrize("index_type", ["flat", "hnsw"])
def test_remove_makes_an_answer_unfindable(tmp_path, small_entries, tiny_encoder_dir, index_type):
    store = new_store(tmp_path / "kb", params=IndexParams(index_type=index_type))
    store.build(small_entries, tiny_encoder_dir)
    search = retriever(store, tiny_encoder_dir)
    assert best(search, "Do you sell gift cards?").entry_id == "gift"
    manifest = store.remove(["gift"])
    assert manifest["entries"] == 2 and store.metadata.entry_count() == 2
    # HNSW cannot delete vectors: it keeps a tombstone that the retriever skips.
    assert manifest["tombstones"] == (1 if index_type == "hnsw" else 0)
    found = [h.entry_id for h in search.search(["Do you sell gift cards?"], k=5)[0]]
    assert sorted(found) == ["ship", "wool"]


def test_removing_an_unknown_id_changes_nothing_and_names_it(tmp_path, small_entries, tiny_encoder_dir):
    store = new_store(tmp_path / "kb")
    before = store.build(small_entries, tiny_encoder_dir)
    with pytest.raises(KeyError, match="No entry with id 'nope'"):
        store.remove(["gift", "nope"])
    assert store.manifest() == before and store.metadata.entry_count() == 3


def test_a_store_never_built_says_how_to_build_it(tmp_path, tiny_encoder_dir):
    with pytest.raises(KnowledgeBaseNotBuiltError, match="bridge kb build"):
        AnswerRetriever(new_store(tmp_path / "empty"), tiny_encoder_dir).open()
    with pytest.raises(KnowledgeBaseNotBuiltError, match="bridge kb build"):
        new_store(tmp_path / "empty").remove(["gift"])


def test_an_open_retriever_follows_what_another_writer_commits(tmp_path, small_entries, tiny_encoder_dir):
    """A running bot reloads after `bridge kb add/remove` in another process: no restart."""
    new_store(tmp_path / "kb").build(small_entries, tiny_encoder_dir)
    search = retriever(new_store(tmp_path / "kb"), tiny_encoder_dir)
    writer = new_store(tmp_path / "kb")
    writer.add([entry("student", ["Is there a student discount?"], "15% off.")], tiny_encoder_dir)
    assert best(search, "Is there a student discount?").entry_id == "student"
    writer.remove(["student"])
    assert "student" not in [h.entry_id for h in search.search(["Is there a student discount?"], k=5)[0]]
    assert search.manifest["entries"] == 3


class Crash(RuntimeError):
    pass


@pytest.mark.parametrize("crash_point", ["index file", "manifest"])
@pytest.mark.parametrize("write", ["build", "add"])
def test_a_write_failing_before_its_commit_leaves_the_previous_knowledge_base_usable(
    tmp_path, small_entries, tiny_encoder_dir, monkeypatch, crash_point, write
):
    store = new_store(tmp_path / "kb")
    store.build(small_entries, tiny_encoder_dir)
    committed = store.manifest_path.read_text()

    if crash_point == "index file":

        def crash(index, path):  # half a file on disk, then the write fails
            Path(path).write_bytes(b"\x00" * 100)
            raise Crash()

        monkeypatch.setattr(faiss, "write_index", crash)
    else:
        monkeypatch.setattr(store_module, "write_text_atomically", lambda path, text: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        getattr(store, write)([entry("other", ["Something else entirely?"], "A different answer.")], tiny_encoder_dir)
    monkeypatch.undo()

    assert store.manifest_path.read_text() == committed
    fresh = retriever(new_store(tmp_path / "kb"), tiny_encoder_dir)
    assert best(fresh, "Do you sell gift cards?").entry_id == "gift"
    assert "other" not in [h.entry_id for h in fresh.search(["Something else entirely?"], k=5)[0]]
    # The next write clears what the failed one left behind (its rows and files).
    store.add([entry("wool", ["How do I wash wool?"], "Cold water.")], tiny_encoder_dir)
    assert leftovers(tmp_path / "kb") == []
    assert store.metadata.entry_count() == 3 and store.metadata.vector_ids_of(["other"]) == {}


# A `bridge kb remove` that the kernel kills mid-write: no exception handler or `finally` runs.
KILLED_WRITER = """
import os, signal, sys
import faiss
from bot.knowledge.store import KnowledgeBaseStore

folder, crash_point = sys.argv[1], sys.argv[2]
if crash_point == "index file":
    def write_half_then_die(index, path):
        with open(path, "wb") as stream:
            stream.write(b"\\x00" * 100)
        os.kill(os.getpid(), signal.SIGKILL)
    faiss.write_index = write_half_then_die
else:
    replace = os.replace
    def die_before_the_manifest_lands(source, target):
        if os.path.basename(target) == "manifest.json":
            os.kill(os.getpid(), signal.SIGKILL)
        replace(source, target)
    os.replace = die_before_the_manifest_lands
KnowledgeBaseStore(folder, calibration=None).remove(["gift"])
"""


@pytest.mark.parametrize("crash_point", ["index file", "manifest"])
def test_a_writer_killed_mid_write_leaves_the_previous_knowledge_base_usable(
    tmp_path, small_entries, tiny_encoder_dir, crash_point
):
    folder = tmp_path / "kb"
    store = new_store(folder)
    store.build(small_entries, tiny_encoder_dir)
    committed = store.manifest_path.read_text()

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(folder), crash_point],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert leftovers(folder)  # the killed writer got as far as writing files

    assert store.manifest_path.read_text() == committed
    fresh = retriever(new_store(folder), tiny_encoder_dir)
    assert best(fresh, "Do you sell gift cards?").entry_id == "gift"
    # The next write takes the lock the dead writer held (the kernel released it) and cleans up.
    store.remove(["wool"])
    assert leftovers(folder) == []
    assert sorted(h.entry_id for h in fresh.search(["Do you sell gift cards?"], k=5)[0]) == ["gift", "ship"]


def other_encoder(encoder_dir: Path, folder: Path) -> Path:
    """The same weights under another identity, as a differently provisioned encoder would be."""
    folder.mkdir()
    for item in Path(encoder_dir).iterdir():
        if item.name != "bridge_encoder.json":
            os.symlink(item.resolve(), folder / item.name)
    (folder / "bridge_encoder.json").write_text(json.dumps({"source_sha256": "another-encoder"}))
    return folder


def test_an_index_built_by_another_encoder_is_refused(tmp_path, small_entries, tiny_encoder_dir):
    store = new_store(tmp_path / "kb")
    store.build(small_entries, tiny_encoder_dir)
    another = other_encoder(tiny_encoder_dir, tmp_path / "other-encoder")
    with pytest.raises(EncoderMismatchError, match="was built with encoder .* Rebuild it with `bridge kb build`"):
        AnswerRetriever(store, another).open()
    with pytest.raises(EncoderMismatchError):
        store.add([entry("x", ["question?"], "answer")], another)
    assert store.manifest()["entries"] == 3
    # Rebuilding with the new encoder is the way out.
    assert store.build(small_entries, another)["encoder"] == "another-encoder"


def test_metadata_can_live_in_another_database(tmp_path, small_entries, tiny_encoder_dir):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    store = new_store(tmp_path / "kb", db_url=url)
    store.build(small_entries, tiny_encoder_dir)
    assert (tmp_path / "elsewhere.db").is_file() and not (tmp_path / "kb" / "metadata.db").exists()
    assert best(retriever(store, tiny_encoder_dir), "Which countries do you ship to?").entry_id == "ship"


def test_a_store_of_an_older_format_is_refused_until_rebuilt(tmp_path, small_entries, tiny_encoder_dir):
    store = new_store(tmp_path / "kb")
    store.build(small_entries, tiny_encoder_dir)
    make_format_1(store)
    refusal = f"has format 1; this Bridge reads format {store_module.FORMAT_VERSION}. Rebuild it with `bridge kb build`"
    with pytest.raises(StoreFormatError, match=refusal):
        AnswerRetriever(store, tiny_encoder_dir).open()
    with pytest.raises(StoreFormatError):
        store.add([entry("student", ["Student discount?"], "15% off.")], tiny_encoder_dir)
    store.build(small_entries, tiny_encoder_dir)
    assert best(retriever(store, tiny_encoder_dir), "Do you sell gift cards?").entry_id == "gift"


@pytest.mark.slow
def test_with_the_real_encoder_an_added_answer_is_found_in_another_language(tmp_path, small_entries, encoder_dir):
    store = KnowledgeBaseStore(tmp_path / "kb")  # centred, as the bot builds it
    store.build(small_entries, encoder_dir)
    student = entry("student", ["Is there a student discount?", "¿Hay descuento para estudiantes?"], "15% off.")
    store.add([student], encoder_dir)
    search = AnswerRetriever(store, encoder_dir).open()
    assert best(search, "Rabatt für Studenten?").entry_id == "student"
    assert best(search, "Can I buy a gift card?").entry_id == "gift"
