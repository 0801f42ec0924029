"""Benchmark of answering from the knowledge base: routing, the right answer, and what it costs.

Two systems, trained in the same run through Rasa's Python API on the training side of the
demo split `bridge eval nlu` and bench nlu use (3 of 15 examples per intent and language held
out), then asked one message at a time with `Agent.parse_message`, as the server does:
  before   config.yml's pipeline, the classifier trained on the bot's intents only (the
           knowledge base gets the turns the classifier is unsure about)
  after    the same pipeline, the classifier also trained on what the knowledge base answers
           as `knowledge_base_question` (the examples KnowledgeBaseImporter adds in `rasa train`)
Both search a knowledge base built from knowledge_base/demo in this run.

The question set is bench/data/kb_answers_questions.yml (written before tuning; dev tunes,
test reports), per language:
  knowledge_base  questions one historical answer covers: right / wrong answer, declined (the
                  bot said it has no answer), taken (another intent got the turn)
  actions         questions of the bot's own intents: kept (their intent won)
  unanswerable    questions nothing answers: declined (no answer and no action intent)
Beside it, on the demo's held-out messages, the accuracy of each classifier's own intent (as
bench nlu measures it) and of the whole pipeline's (a turn the knowledge base took is wrong).

NLG latency: the time TranslatingNLG takes to deliver the found answer in the customer's
language without a model call, by the answer's per-language version (authored) or a
translation-memory hit (the memory holds an entry for every answer and language), against
the same call in the answer's own language.

Usage: bridge bench answers [--split all|dev|test] [--threads N] [--cache] [--dump FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import format_table, write_results
from bot.evaluation.datasets import Example, held_out_split, load_nlu_examples
from bot.evaluation.pipelines import FALLBACK_INTENT, project_pipeline, train_pipeline, with_options
from bot.knowledge.source import load_entries
from bot.knowledge.training_importer import DEFAULT_INTENT, knowledge_base_texts
from bot.language.codes import DEMO_LANGUAGES

PROJECT_DIR = Path(__file__).resolve().parents[1]
QUESTIONS = PROJECT_DIR / "bench" / "data" / "kb_answers_questions.yml"
SOURCE = PROJECT_DIR / "knowledge_base" / "demo"
SPLITS = ("dev", "test")
SYSTEMS = ("before", "after")
# Intents after which the bot has not acted on a question: it declined or said it cannot help.
DECLINING_INTENTS = (FALLBACK_INTENT, "out_of_scope", DEFAULT_INTENT)
SECTIONS = ("knowledge_base", "actions", "unanswerable")
GOALS = {
    "right_at_least": 0.90,
    "wrong_at_most": 0.05,
    "actions_kept_at_least": 0.95,
    "nlu_accuracy_at_least": 0.925 - 0.01,
    "nlg_p95_ms_at_most": 5.0,
}


@dataclass(frozen=True)
class Question:
    """One question of the set; `expected` is the answer id (knowledge_base), the intent
    (actions) or None (unanswerable)."""

    section: str
    text: str
    language: str
    expected: str | None
    split: str


def load_questions(path: Path, split: str | None = None) -> list[Question]:
    """The questions of one split (None: both), each section checked for the fields it needs."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    wanted = {"knowledge_base": "answer", "actions": "intent", "unanswerable": None}
    questions = []
    for section, key in wanted.items():
        for i, item in enumerate(data.get(section) or []):
            missing = [f for f in ("text", "language", "split", *([key] if key else [])) if not item.get(f)]
            if missing:
                raise ValueError(f"{path}: {section}[{i}] lacks {missing}")
            if item["split"] not in SPLITS:
                raise ValueError(f"{path}: {section}[{i}] has split {item['split']!r}; use one of {SPLITS}")
            if split is None or item["split"] == split:
                expected = item[key] if key else None
                questions.append(Question(section, item["text"], item["language"], expected, item["split"]))
    if not questions:
        raise ValueError(f"{path}: no questions in split {split!r}")
    return questions


def outcome(question: Question, parse: dict[str, Any]) -> str:
    """What the bot did with a question, as a customer would tell it."""
    found = parse.get("knowledge_base") or {}
    intent = (parse.get("intent") or {}).get("name")
    if question.section == "actions":
        return "kept" if intent == question.expected and not found.get("answered") else "lost"
    if found.get("answered"):
        if question.section == "unanswerable":
            return "answered"
        return "right" if found.get("answer_id") == question.expected else "wrong"
    if intent in DECLINING_INTENTS:
        return "declined"
    return "taken"


def classifier_intent(parse: dict[str, Any]) -> str | None:
    """The classifier's own top intent, before the knowledge base or the fallback changed it."""
    found = parse.get("knowledge_base") or {}
    if found.get("classifier_intent"):
        return found["classifier_intent"].get("name")
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK_INTENT]
    return ranking[0]["name"] if ranking else None


def shares(outcomes: Sequence[str], names: Sequence[str]) -> dict[str, float]:
    return {name: round(float(np.mean([o == name for o in outcomes])), 4) if outcomes else 0.0 for name in names}


def question_rows(questions: Sequence[Question], outcomes: Sequence[str]) -> list[dict[str, Any]]:
    """Per language (then all): the shares of each outcome, per section."""
    rows = []
    for language in [*DEMO_LANGUAGES, "all"]:
        picked = [(q, o) for q, o in zip(questions, outcomes) if language in ("all", q.language)]
        if not picked:
            continue
        kb = [o for q, o in picked if q.section == "knowledge_base"]
        actions = [o for q, o in picked if q.section == "actions"]
        unanswerable = [o for q, o in picked if q.section == "unanswerable"]
        rows.append(
            {
                "language": language,
                "kb_questions": len(kb),
                **shares(kb, ("right", "wrong", "declined", "taken")),
                "action_questions": len(actions),
                "kept": shares(actions, ("kept",))["kept"],
                "unanswerable": len(unanswerable),
                "unanswerable_declined": shares(unanswerable, ("declined",))["declined"],
            }
        )
    return rows


def pipeline_for(store_dir: Path, threads: int | None) -> list[dict[str, Any]]:
    """config.yml's pipeline, its knowledge base in `store_dir` (built from the demo source)."""
    pipeline = with_options(
        project_pipeline(PROJECT_DIR / "config.yml"), "KnowledgeBaseRetriever", store_dir=str(store_dir)
    )
    if threads:
        pipeline = with_options(pipeline, "MultilingualIntentClassifier", threads=threads)
    return pipeline


def knowledge_base_examples() -> list[Example]:
    """What KnowledgeBaseImporter adds to the training data, as examples."""
    import yaml

    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text(encoding="utf-8"))
    options = next(
        (i for i in config.get("importers") or [] if str(i.get("name", "")).endswith("KnowledgeBaseImporter")), {}
    )
    texts = knowledge_base_texts(load_entries(SOURCE), bool(options.get("include_answers", False)))
    return [Example(text, options.get("intent", DEFAULT_INTENT)) for text in texts]


def nlg_latency(parses: Sequence[dict[str, Any]], questions: Sequence[Question], repeats: int = 3) -> dict[str, Any]:
    """Milliseconds TranslatingNLG takes to deliver each found answer in the customer's language
    (see module docstring): p50/p95 per path, and the same call in the answer's own language."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot.actions.knowledge_base import answer_in_language
    from bot.nlg.translating_nlg import TranslatingNLG

    domain = Domain.load(str(PROJECT_DIR / "training_data" / "domain"))
    found = [
        (p["knowledge_base"], q.language) for p, q in zip(parses, questions) if p["knowledge_base"].get("answered")
    ]
    with tempfile.TemporaryDirectory(prefix="bridge-bench-answers-tm-") as folder:
        memory_url = f"sqlite:///{Path(folder) / 'memory.db'}"
        glossary = str(PROJECT_DIR / "knowledge_base" / "glossary.txt")
        translation = {"memory_url": memory_url, "glossary": glossary, "backends": {}}
        nlg = TranslatingNLG(
            EndpointConfig(type="bot.nlg.translating_nlg.TranslatingNLG", translation=translation), domain
        )
        memory = nlg.pipeline.memory
        for kb, language in found:
            if language != kb["answer_language"]:
                # Its content does not change the lookup's time: the answer stands in for a translation.
                memory.add_translation(kb["answer"], kb["answer"], kb["answer_language"], language, author="bench")
        times: dict[str, list[float]] = {}
        loop = asyncio.new_event_loop()
        for kb, language in found:
            for customer in (language, kb["answer_language"]):
                tracker = DialogueStateTracker.from_events("bench", [SlotSet("language", customer)], slots=domain.slots)
                for _ in range(repeats):
                    started = time.perf_counter()
                    text, text_language = answer_in_language(kb, customer)
                    message = loop.run_until_complete(
                        nlg.generate(
                            "utter_knowledge_base_answer",
                            tracker,
                            "rest",
                            answer=text,
                            answer_language=text_language,
                            answer_id=kb["answer_id"],
                            score=kb["score"],
                        )
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    path = "own language" if customer == kb["answer_language"] else message["translation"]
                    times.setdefault(path, []).append(elapsed)
        loop.close()
        memory.engine.dispose()
    return {
        path: {
            "calls": len(values),
            "p50_ms": round(float(np.percentile(values, 50)), 3),
            "p95_ms": round(float(np.percentile(values, 95)), 3),
        }
        for path, values in sorted(times.items())
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="bridge bench answers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--split",
        default="all",
        choices=(*SPLITS, "all"),
        help="questions to ask: dev (tune on it), test (report it) or all (both, in one run, tables for each)",
    )
    parser.add_argument("--questions", default=str(QUESTIONS), help="the question set (YAML)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of the classifier while training")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo split (bench nlu's default)")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="let Rasa reuse classifiers it trained before on the same data (tuning the knowledge base's settings)",
    )
    parser.add_argument(
        "--dump", default=None, help="also write every question's parse result to this JSON file (tuning on dev)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    questions = load_questions(Path(args.questions), None if args.split == "all" else args.split)
    splits = [s for s in SPLITS if any(q.split == s for q in questions)]
    demo = load_nlu_examples(PROJECT_DIR / "training_data" / "nlu")
    demo_train, demo_test = held_out_split(demo, test_per_group=3, seed=args.seed)
    added = knowledge_base_examples()
    results: dict[str, Any] = {
        "split": args.split,
        "goals": GOALS,
        "sizes": {
            "questions": {
                s: sum(q.section == s for q in questions) for s in ("knowledge_base", "actions", "unanswerable")
            },
            "demo_train": len(demo_train),
            "demo_held_out": len(demo_test),
            "knowledge_base_examples": len(added),
        },
        "systems": {},
    }
    work = Path(tempfile.mkdtemp(prefix="bridge-bench-answers-"))
    pipeline = pipeline_for(work / "knowledge_base", args.threads)
    parses: dict[str, list[dict[str, Any]]] = {}
    for system, examples in (("before", demo_train), ("after", [*demo_train, *added])):
        trained = train_pipeline(f"answers-{system}", pipeline, examples, work / system, cache=args.cache)
        trained.parse("warm up")
        parses[system] = [trained.parse(q.text) for q in questions]
        held_out = [trained.parse(e.text) for e in demo_test]
        trained.close()
        outcomes = [outcome(q, p) for q, p in zip(questions, parses[system])]
        rows = {
            split: question_rows(
                [q for q in questions if q.split == split], [o for q, o in zip(questions, outcomes) if q.split == split]
            )
            for split in splits
        }
        nlu = {
            "classifier_accuracy": round(
                float(np.mean([classifier_intent(p) == e.intent for p, e in zip(held_out, demo_test)])), 4
            ),
            "pipeline_accuracy": round(
                float(np.mean([(p.get("intent") or {}).get("name") == e.intent for p, e in zip(held_out, demo_test)])),
                4,
            ),
            "kb_took_held_out": int(sum(bool((p.get("knowledge_base") or {}).get("answered")) for p in held_out)),
        }
        results["systems"][system] = {
            "train_examples": len(examples),
            "train_seconds": round(trained.train_seconds, 1),
            "rows": rows,
            "nlu": nlu,
        }
        write_results("answers", results)
    if args.dump:
        rows = [{"question": vars(q), **{s: parses[s][i] for s in SYSTEMS}} for i, q in enumerate(questions)]
        Path(args.dump).write_text(json.dumps(rows, ensure_ascii=False, default=str))
    results["nlg_latency"] = nlg_latency(parses["after"], questions)
    write_results("answers", results)

    headers = [
        "language",
        "kb_questions",
        "right",
        "wrong",
        "declined",
        "taken",
        "action_questions",
        "kept",
        "unanswerable",
        "unanswerable_declined",
    ]
    for split in splits:
        for system in SYSTEMS:
            print(f"\n{system}: questions of the {split} split, share per language")
            print(format_table(headers, [[r[h] for h in headers] for r in results["systems"][system]["rows"][split]]))
    print(f"\nDemo held-out messages ({len(demo_test)}): accuracy of the classifier's own intent and of the pipeline's")
    print(
        format_table(
            ["system", "train examples", "classifier accuracy", "pipeline accuracy", "held-out turns the KB took"],
            [[s, results["systems"][s]["train_examples"], *results["systems"][s]["nlu"].values()] for s in SYSTEMS],
        )
    )
    print("\nNLG: delivering the found answer in the customer's language (no model call)")
    print(
        format_table(
            ["path", "calls", "p50 ms", "p95 ms"], [[k, *v.values()] for k, v in results["nlg_latency"].items()]
        )
    )
    path = write_results("answers", results)
    print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
