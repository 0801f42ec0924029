"""Benchmark of the knowledge base: answer quality and index scale, side by side in one run.

Quality (real encoder):
  * bitext: the historical answers of ../shared/data/bitext are indexed with 80% of the
    customer requests (seeded split) as their questions; each held-out request is a query.
    A hit is relevant when its entry has the query's intent: the bitext answers of one intent
    are interchangeable templates, so "an answer of the same intent" is exactly "an answer
    that resolves the request". recall@1, recall@5 and MRR for our retriever and for a
    TF-IDF baseline (scikit-learn, word 1-2 grams, cosine) over the same questions.
  * cross-lingual: the demo knowledge base (knowledge_base/demo) queried with the
    paraphrases in bench/data/kb_paraphrases.yml, written in 12 languages; recall@1 per
    language against the English (same-language) paraphrases.
Scale (synthetic): vectors of the encoder's dimension from a Gaussian mixture normalised to
the unit sphere (clustered like real embeddings, so approximate search is tested honestly);
flat vs HNSW vs IVF-PQ (+ 8-bit re-ranking): build time on 2 threads, index RAM
(resident-set growth), single-query latency p50/p95 (one thread per query), recall@10
against exact search, and the time to add 10k vectors and
write the index atomically, as `bridge kb add` does.

Usage:
    bridge bench kb [--parts quality,scale] [--sizes 100000,1000000] [--queries 500]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import RESULTS_DIR, format_table, write_results
from bot.models.encoder import DEFAULT_ENCODER_DIR

DIMENSION = 384
GOALS = {"p95_ms": 5.0, "recall_at_10": 0.95, "ram_mb": 1536.0, "add_10k_s": 30.0, "crosslingual_gap_points": 5.0}


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc)."""
    with open("/proc/self/statm") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def mixture(clusters: int, rng: np.random.Generator) -> tuple:
    """Centers of a Gaussian mixture and the low-rank basis its spread lives in.

    Isotropic noise in 384 dimensions would make every point of a cluster equally far from
    every other (concentration of measure), so "the 10 nearest" would be a coin toss no
    index can reproduce. Sentence embeddings vary along few directions; so does this mixture:
    each cluster spreads along a shared 32-dimensional subspace plus a little isotropic noise.
    """
    centers = rng.standard_normal((clusters, DIMENSION), dtype=np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    basis, _ = np.linalg.qr(rng.standard_normal((DIMENSION, 32)))
    return centers, basis.T.astype(np.float32)


def clustered_vectors(count: int, rng: np.random.Generator, centers: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Points of the mixture, normalised to the unit sphere."""
    out = np.empty((count, DIMENSION), dtype=np.float32)
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        chunk = centers[rng.integers(0, len(centers), n)]
        chunk += (rng.standard_normal((n, basis.shape[0]), dtype=np.float32) * 0.12) @ basis
        chunk += rng.standard_normal((n, DIMENSION), dtype=np.float32) * (0.1 / np.sqrt(DIMENSION))
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        out[start : start + n] = chunk
    return out


def scale(sizes: list[int], queries: int) -> list[dict]:
    import faiss

    from bot.knowledge.faiss_index import IndexParams, add_vectors, build_index, write_index_atomically

    faiss.omp_set_num_threads(2)
    rng = np.random.default_rng(7)
    rows = []
    for size in sizes:
        clusters = max(100, size // 1000)
        centers, basis = mixture(clusters, rng)
        data = clustered_vectors(size, rng, centers, basis)
        extra = clustered_vectors(10_000, rng, centers, basis)
        probe = clustered_vectors(queries, rng, centers, basis)
        ids = np.arange(size, dtype=np.int64)
        truth = None
        for kind in ("flat", "hnsw", "ivfpq"):
            gc.collect()
            before = resident_mb()
            started = time.perf_counter()
            index = build_index(data, ids, IndexParams(index_type=kind), index_type=kind)
            build_s = time.perf_counter() - started
            ram = resident_mb() - before
            latencies = []
            found = np.empty((queries, 10), dtype=np.int64)
            # One query at a time on one thread, as a Rasa process serves one turn at a time:
            # OpenMP fork/join for a single query costs more than it saves on a shared box.
            faiss.omp_set_num_threads(1)
            for i in range(queries):
                t = time.perf_counter()
                _, hit = index.search(probe[i : i + 1], 10)
                latencies.append((time.perf_counter() - t) * 1000)
                found[i] = hit[0]
            faiss.omp_set_num_threads(2)
            if kind == "flat":
                truth = found
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
            with tempfile.TemporaryDirectory(dir="build") as folder:
                t = time.perf_counter()
                add_vectors(index, extra, np.arange(size, size + len(extra), dtype=np.int64))
                write_index_atomically(index, Path(folder) / "index.faiss")
                add_s = time.perf_counter() - t
            row = {
                "size": size,
                "index": kind,
                "build_s": round(build_s, 1),
                "ram_mb": round(ram),
                "p50_ms": round(float(np.percentile(latencies, 50)), 3),
                "p95_ms": round(float(np.percentile(latencies, 95)), 3),
                "recall_at_10": round(recall, 4),
                "add_10k_s": round(add_s, 2),
            }
            print(row, flush=True)
            rows.append(row)
            del index
        del data
    return rows


BITEXT = Path("..") / "shared" / "data" / "bitext" / "customer_support_sample.csv"
PARAPHRASES = Path("bench") / "data" / "kb_paraphrases.yml"
DEMO_SOURCE = Path("knowledge_base") / "demo"


def rank_metrics(ranked: list[list[bool]]) -> dict[str, float]:
    """recall@1, recall@5 and MRR@10 from per-query relevance flags, best hit first."""
    first = [next((i for i, relevant in enumerate(flags[:10]) if relevant), None) for flags in ranked]
    return {
        "recall_at_1": round(float(np.mean([f == 0 for f in first])), 4),
        "recall_at_5": round(float(np.mean([f is not None and f < 5 for f in first])), 4),
        "mrr": round(float(np.mean([1 / (f + 1) if f is not None else 0.0 for f in first])), 4),
    }


class TfidfBaseline:
    """Word 1-2 gram TF-IDF over the stored questions; an answer scores its best question."""

    def __init__(self, questions: list[str], entry_of_question: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(questions)
        self.entry_of_question = entry_of_question

    def search(self, texts: list[str], k: int = 10) -> list[list[str]]:
        scores = (self.vectorizer.transform(texts) @ self.matrix.T).toarray()
        results = []
        for row in scores:
            ranked: list[str] = []
            for i in np.argsort(-row, kind="stable"):
                entry = self.entry_of_question[i]
                if entry not in ranked:
                    ranked.append(entry)
                if len(ranked) == k:
                    break
            results.append(ranked)
        return results


# name -> (calibration data, answer weight): ours as configured, and the raw-vector baseline.
def retriever_variants() -> dict[str, tuple]:
    from bot.components.knowledge_base_retriever import KnowledgeBaseRetriever

    config = KnowledgeBaseRetriever.get_default_config()
    return {
        "bridge (e5 + FAISS, centred, answer blend)": (config["calibration"], config["answer_weight"]),
        "e5 + FAISS, raw vectors, questions only": (None, 0.0),
    }


def build_store(entries, folder: Path, encoder_dir: str, calibration=None, answer_weight: float = 0.0):
    from bot.knowledge.retriever import AnswerRetriever
    from bot.knowledge.store import KnowledgeBaseStore

    store = KnowledgeBaseStore(folder / "kb", db_url=f"sqlite:///{folder / 'kb.db'}", calibration=calibration)
    started = time.perf_counter()
    store.build(entries, encoder_dir, show_progress=True)
    return AnswerRetriever(store, encoder_dir, answer_weight=answer_weight).open(), time.perf_counter() - started


def bitext_quality(encoder_dir: str, holdout: float, seed: int) -> list[dict]:
    """Same-intent retrieval on the bitext requests (see module docstring)."""
    import csv
    from datetime import datetime, timezone

    from bot.knowledge.source import Entry

    with BITEXT.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    order = np.random.default_rng(seed).permutation(len(rows))
    cut = int(len(rows) * (1 - holdout))
    train, test = [rows[i] for i in order[:cut]], [rows[i] for i in order[cut:]]
    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc)
    entries = [
        Entry(f"bitext-{i}", (row["instruction"],), row["response"], "en", (row["intent"],), stamp)
        for i, row in zip(order[:cut], train)
    ]
    intent_of = {e.id: e.tags[0] for e in entries}
    queries = [row["instruction"] for row in test]
    wanted = [row["intent"] for row in test]
    rows_out = []
    for method, (calibration, answer_weight) in retriever_variants().items():
        with tempfile.TemporaryDirectory(dir="build") as folder:
            retriever, build_s = build_store(entries, Path(folder), encoder_dir, calibration, answer_weight)
            started = time.perf_counter()
            hits = retriever.search(queries, k=10, languages=["en"] * len(queries))
            per_query_ms = (time.perf_counter() - started) / len(queries) * 1000
            ranked = [[intent_of[h.entry_id] == w for h in row] for row, w in zip(hits, wanted)]
            rows_out.append({"method": method, **rank_metrics(ranked), "ms_per_query": round(per_query_ms, 2)})
            retriever.store.metadata.dispose()
    baseline = TfidfBaseline([e.questions[0] for e in entries], [e.id for e in entries])
    started = time.perf_counter()
    found = baseline.search(queries)
    per_query_ms = (time.perf_counter() - started) / len(queries) * 1000
    ranked = [[intent_of[e] == w for e in row] for row, w in zip(found, wanted)]
    rows_out.append({"method": "TF-IDF baseline", **rank_metrics(ranked), "ms_per_query": round(per_query_ms, 2)})
    for row in rows_out:
        row.update(indexed=len(entries), queries=len(queries))
    return rows_out


def crosslingual_quality(encoder_dir: str, decision: dict) -> dict:
    """Demo knowledge base queried with the 12-language paraphrases, per retriever variant.

    The query's language is identified from its text by the retriever, as for a turn whose
    language the conversation does not know yet.
    """
    import yaml

    from bot.components.knowledge_base_retriever import KnowledgeBaseRetriever
    from bot.knowledge.source import load_entries
    from bot.language.codes import DEMO_LANGUAGES

    data = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    entries = load_entries(DEMO_SOURCE)
    tfidf = TfidfBaseline([q for e in entries for q in e.questions], [e.id for e in entries for _ in e.questions])
    queries = {
        language: [(entry_id, texts[language]) for entry_id, texts in data["paraphrases"].items() if language in texts]
        for language in DEMO_LANGUAGES
    }
    rows = {language: {"language": language, "queries": len(pairs)} for language, pairs in queries.items()}
    for language, pairs in queries.items():
        found = tfidf.search([text for _, text in pairs])
        rows[language]["tfidf_recall_at_1"] = rank_metrics(
            [[f == e for f in row] for row, (e, _) in zip(found, pairs)]
        )["recall_at_1"]
    summary = {}
    for calibration, answer_weight in retriever_variants().values():
        ours = calibration is not None
        with tempfile.TemporaryDirectory(dir="build") as folder:
            retriever, _ = build_store(entries, Path(folder), encoder_dir, calibration, answer_weight)
            for language, pairs in queries.items():
                hits = retriever.search([text for _, text in pairs], k=10)
                metrics = rank_metrics([[h.entry_id == e for h in row] for row, (e, _) in zip(hits, pairs)])
                if not ours:
                    rows[language]["raw_recall_at_1"] = metrics["recall_at_1"]
                    continue
                confident = [KnowledgeBaseRetriever.is_confident(row, decision) for row in hits]
                rows[language].update(
                    metrics,
                    answered_correctly=round(
                        float(np.mean([c and row[0].entry_id == e for c, row, (e, _) in zip(confident, hits, pairs)])),
                        4,
                    ),
                    answered_wrongly=round(
                        float(np.mean([c and row[0].entry_id != e for c, row, (e, _) in zip(confident, hits, pairs)])),
                        4,
                    ),
                )
            if ours:
                unanswerable = data["unanswerable"]
                found = retriever.search([u["text"] for u in unanswerable], k=3)
                summary["unanswerable_declined"] = round(
                    float(np.mean([not KnowledgeBaseRetriever.is_confident(r, decision) for r in found])), 4
                )
                summary["unanswerable"] = len(unanswerable)
            retriever.store.metadata.dispose()
    table = list(rows.values())

    def gap(key: str) -> float:
        english = rows["en"][key]
        return round((english - float(np.mean([r[key] for r in table if r["language"] != "en"]))) * 100, 1)

    return {
        "rows": table,
        "threshold": decision["threshold"],
        "ambiguity_margin": decision["ambiguity_margin"],
        "gap_points": gap("recall_at_1"),
        "raw_gap_points": gap("raw_recall_at_1"),
        "tfidf_gap_points": gap("tfidf_recall_at_1"),
        **summary,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bridge bench kb", description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="quality,scale", help="comma-separated: quality, scale")
    parser.add_argument("--sizes", default="100000,1000000", help="synthetic index sizes for the scale part")
    parser.add_argument("--queries", type=int, default=500, help="queries per index in the scale part")
    parser.add_argument("--encoder", default=str(DEFAULT_ENCODER_DIR), help="encoder folder")
    parser.add_argument("--holdout", type=float, default=0.2, help="bitext share of requests held out as queries")
    parser.add_argument("--seed", type=int, default=13, help="seed of the bitext split")
    parser.add_argument("--threshold", type=float, default=None, help="answer threshold (default: the component's)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results: dict = {"goals": GOALS}
    Path("build").mkdir(exist_ok=True)
    if "quality" in parts:
        from bot.components.knowledge_base_retriever import KnowledgeBaseRetriever

        decision = KnowledgeBaseRetriever.get_default_config()
        decision["threshold"] = args.threshold or decision["threshold"]
        threshold = decision["threshold"]
        bitext = bitext_quality(args.encoder, args.holdout, args.seed)
        headers = ["method", "recall_at_1", "recall_at_5", "mrr", "ms_per_query", "indexed", "queries"]
        print(format_table(headers, [[r[h] for h in headers] for r in bitext]))
        crosslingual = crosslingual_quality(args.encoder, decision)
        headers = [
            "language",
            "queries",
            "recall_at_1",
            "recall_at_5",
            "mrr",
            "answered_correctly",
            "answered_wrongly",
            "raw_recall_at_1",
            "tfidf_recall_at_1",
        ]
        print(format_table(headers, [[r[h] for h in headers] for r in crosslingual["rows"]]))
        print(
            f"cross-lingual gap (en minus mean of the other 11), recall@1: ours {crosslingual['gap_points']} points, "
            f"raw vectors {crosslingual['raw_gap_points']}, TF-IDF {crosslingual['tfidf_gap_points']}; "
            f"at threshold {threshold} and margin {decision['ambiguity_margin']}: "
            f"{crosslingual['unanswerable_declined']:.0%} of "
            f"{crosslingual['unanswerable']} unanswerable questions declined"
        )
        results.update(bitext=bitext, crosslingual=crosslingual)
    if "scale" in parts:
        rows = scale([int(s) for s in args.sizes.split(",")], args.queries)
        results["scale"] = rows
        headers = ["size", "index", "build_s", "ram_mb", "p50_ms", "p95_ms", "recall_at_10", "add_10k_s"]
        print(format_table(headers, [[r[h] for h in headers] for r in rows]))
    # A run of only some parts keeps the other parts' latest results (marked as carried over).
    previous = RESULTS_DIR / "kb.json"
    if previous.is_file():
        old = json.loads(previous.read_text())
        for key in ("bitext", "crosslingual", "scale"):
            if key not in results and key in old:
                results[key] = old[key]
                results.setdefault("carried_over", {})[key] = old.get("measured_at")
    print(f"bridge bench kb: results in {write_results('kb', results)}")
