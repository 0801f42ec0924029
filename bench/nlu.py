"""Intent classification benchmark: Bridge's classifier against the other classifiers and baselines.

Systems, all trained through Rasa's Python API on the same splits in the same run:
  bridge        config.yml's NLU pipeline without the knowledge-base retriever
  fine_tuned    the bridge pipeline with MultilingualIntentClassifier (fine-tuned encoder) as
                its intent classifier
  rasa_default  the pipeline `rasa init` writes (CountVectors word + char_wb 1-4, DIET 100 epochs)
  frozen_lr     the bridge pipeline with FrozenEncoderIntentClassifier on the frozen e5 encoder
                alone (logistic regression) as its intent classifier
Sets:
  demo          the demo bot's NLU data, 3 of 15 examples per intent and language held out
  crosslingual  trained on the English examples only, tested on the other 11 languages'
                held-out examples (transfer = this accuracy / the demo model's on them)
  demo_transfer the demo's English examples only, as xsid below but on data we wrote: English
                by 5-fold cross-validation, every example of the other 11 languages by the
                model trained on all English ones; per language, as xsid (the dev signal for
                the classifier's `unseen_language_temperature`)
  bitext        Bitext customer support (27 intents), fixed 80/20 split per intent
  bitext_cv     all 4,514 Bitext requests, 5-fold cross-validation (every request tested
                once, by a model that never saw it): near the ceiling one 902-request split
                cannot tell two good systems apart, five folds test five times as many requests
  fewshot       the same test set as bitext, 10 training examples per intent
  xsid          ../shared/data/xsid-dev (public, written by others): trained on the English
                requests only, tested on the other languages' translations of them; English
                itself by 5-fold cross-validation. Accuracy of the top intent and after the
                fallback (a right intent handed off counts as wrong), per language, and the
                ratio of the bot's languages (ar de it ja zh) to English after the fallback.
                The pipeline runs without UnsupportedLanguageClassifier: da, id, nl and tr
                are not languages the bot speaks, and they are measured to see the transfer.
  oos           bench/data/nlu_out_of_scope.yml (120 requests, 12 languages) against the
                demo models: recall of hand-off (out_of_scope intent or confidence below
                the fallback threshold) and the in-scope accuracy it costs

On demo and crosslingual, fine_tuned (the one system whose training is random) is also trained
with other model seeds (--model-seeds, 3 by default): the table and the paired test use the
first; a table of errors per seed follows.

Usage: bridge bench nlu [--quick] [--sets demo,xsid] [--systems bridge,fine_tuned] [--model-seeds 3]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import format_table, write_results
from bot.components.frozen_encoder_intent_classifier import FrozenEncoderIntentClassifier
from bot.components.multilingual_intent_classifier import MultilingualIntentClassifier
from bot.evaluation.datasets import (
    Example,
    cross_validation_folds,
    held_out_split,
    load_bitext,
    load_nlu_examples,
    load_xsid,
    per_intent_sample,
    subsample,
)
from bot.evaluation.pipelines import (
    RASA_DEFAULT_PIPELINE,
    project_pipeline,
    train_pipeline,
    with_component_replaced,
    with_options,
)
from bot.evaluation.report import Prediction, summarize

PROJECT_DIR = Path(__file__).resolve().parents[1]
BITEXT = PROJECT_DIR.parent / "shared" / "data" / "bitext" / "customer_support_sample.csv"
OUT_OF_SCOPE = PROJECT_DIR / "bench" / "data" / "nlu_out_of_scope.yml"
XSID = PROJECT_DIR.parent / "shared" / "data" / "xsid-dev"
XSID_BOT_LANGUAGES = ("ar", "de", "it", "ja", "zh")
XSID_OTHER_LANGUAGES = ("da", "id", "nl", "tr")
ENGLISH_FOLDS = 5  # cross-validation of the English examples on the transfer sets
SYSTEMS = ("bridge", "fine_tuned", "rasa_default", "frozen_lr")
SETS = ("demo", "crosslingual", "demo_transfer", "bitext", "bitext_cv", "fewshot", "xsid", "oos")
BITEXT_FOLDS = 5
# On the demo-sized sets one fine-tuning run is a draw (its errors vary with the model seed), so
# fine_tuned is trained once per model seed there; the other systems' training is deterministic
# (the frozen classifiers) or far behind (DIET).
MODEL_SEED_SETS = ("demo", "crosslingual")
OOS_INTENT = "out_of_scope"
IN_SCOPE_COST_BUDGET = 0.02  # in-scope accuracy a hand-off threshold may cost
# ms/msg: the whole Rasa parse (every component); classifier ms: Bridge's intent classifier alone.
INTENT_CLASSIFIERS = (MultilingualIntentClassifier, FrozenEncoderIntentClassifier)
FROZEN_CLASSIFIER = "bot.components.frozen_encoder_intent_classifier.FrozenEncoderIntentClassifier"
FINE_TUNED_CLASSIFIER = "bot.components.multilingual_intent_classifier.MultilingualIntentClassifier"
SEEDED_SYSTEM = "fine_tuned"
# On a cross-validated set, test counts the messages of every fold, train and train s are a fold's.
HEADERS = ["set", "system", "train", "test", "accuracy", "macro-F1", "train s", "ms/msg", "classifier ms"]


def pipelines(config_file: Path, diet_epochs: int, threads: int | None) -> dict[str, list[dict[str, Any]]]:
    """The systems' NLU pipelines.

    Bridge's is config.yml's without the knowledge-base retriever: that component answers
    from the demo shop's support answers (it has its own benchmark, bench kb), and on Bitext
    it took over requests the classifier had right ("track my refund"), which measured the
    demo knowledge base on a foreign data set rather than the classifiers. The other encoder
    systems are Bridge's pipeline with another intent classifier on the same encoder folder.
    """
    bridge = [step for step in project_pipeline(config_file) if not step["name"].endswith("KnowledgeBaseRetriever")]
    classifier = next(
        (
            s["name"].split(".")[-1]
            for s in bridge
            if s["name"].split(".")[-1] in {c.__name__ for c in INTENT_CLASSIFIERS}
        ),
        None,
    )
    if classifier is None:
        raise SystemExit(f"bridge bench nlu: {config_file} has none of {[c.__name__ for c in INTENT_CLASSIFIERS]}.")
    if threads:
        bridge = with_options(bridge, classifier, threads=threads)
    keep = ("model_path", "threads")
    return {
        "bridge": bridge,
        "fine_tuned": with_component_replaced(bridge, classifier, FINE_TUNED_CLASSIFIER, keep=keep),
        "rasa_default": with_options(
            with_options(RASA_DEFAULT_PIPELINE, "DIETClassifier", epochs=diet_epochs),
            "ResponseSelector",
            epochs=diet_epochs,
        ),
        "frozen_lr": with_component_replaced(bridge, classifier, FROZEN_CLASSIFIER, keep=keep),
    }


def without_unsupported_language_step(pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`pipeline` without UnsupportedLanguageClassifier, which would answer every turn in a
    language the bot does not speak with unsupported_language instead of an intent."""
    return [step for step in pipeline if not step["name"].endswith("UnsupportedLanguageClassifier")]


def transfer_scores(predictions: Sequence[Prediction], other_languages: Sequence[str]) -> dict[str, Any]:
    """Per language: top-intent accuracy, accuracy after the fallback, the share of right top
    intents the fallback handed off and of wrong ones it caught; plus `other_languages` (the
    ones no example was written in) against English."""
    per_language: dict[str, dict[str, float]] = {}
    for language in sorted({p.language for p in predictions}):
        rows = [p for p in predictions if p.language == language]
        right = [p for p in rows if p.predicted == p.intent]
        wrong = [p for p in rows if p.predicted != p.intent]
        per_language[language] = {
            "examples": len(rows),
            "top_intent": round(len(right) / len(rows), 4),
            "after_fallback": round(sum(not p.handed_off for p in right) / len(rows), 4),
            "right_handed_off": round(sum(p.handed_off for p in right) / len(right), 4) if right else 0.0,
            "wrong_handed_off": round(sum(p.handed_off for p in wrong) / len(wrong), 4) if wrong else 0.0,
        }
    english = per_language.get("en", {}).get("after_fallback", 0.0)
    others = [per_language[lang]["after_fallback"] for lang in other_languages if lang in per_language]
    others_mean = float(np.mean(others)) if others else 0.0
    return {
        "per_language": per_language,
        "other_languages_after_fallback": round(others_mean, 4),
        "other_languages_to_english": round(others_mean / english, 4) if english else 0.0,
    }


def fallback_threshold(pipeline: Sequence[dict[str, Any]]) -> float:
    """The FallbackClassifier threshold a pipeline hands off below (0 when it has none)."""
    return next((float(s.get("threshold", 0.3)) for s in pipeline if s["name"] == "FallbackClassifier"), 0.0)


def out_of_scope_scores(
    in_scope: Sequence[Prediction], oos: Sequence[Prediction], threshold: float
) -> dict[str, float]:
    """Hand-off recall on out-of-scope requests and in-scope accuracy at `threshold`."""

    def handed_off(p: Prediction, t: float) -> bool:
        return p.predicted == OOS_INTENT or p.confidence < t

    def scores(t: float) -> dict[str, float]:
        accuracy = float(np.mean([p.predicted == p.intent and not handed_off(p, t) for p in in_scope]))
        return {
            "threshold": round(t, 3),
            "oos_recall": round(float(np.mean([handed_off(p, t) for p in oos])), 4),
            "in_scope_accuracy": round(accuracy, 4),
        }

    base = float(np.mean([p.predicted == p.intent for p in in_scope]))
    configured = {**scores(threshold), "in_scope_cost": round(base - scores(threshold)["in_scope_accuracy"], 4)}
    # The best recall any threshold reaches within the budget (an oracle sweep, for reference).
    best = scores(0.0)
    for t in np.linspace(0.0, 1.0, 201):
        candidate = scores(float(t))
        if (
            base - candidate["in_scope_accuracy"] <= IN_SCOPE_COST_BUDGET
            and candidate["oos_recall"] >= best["oos_recall"]
        ):
            best = candidate
    return {
        "configured": configured,
        f"best_within_{IN_SCOPE_COST_BUDGET:.0%}_cost": best,
        "in_scope_accuracy_without_handoff": round(base, 4),
    }


def paired_comparison(ours: Sequence[Prediction], theirs: Sequence[Prediction]) -> dict[str, Any]:
    """On the same test messages: how many only one of two systems got right, and the exact
    McNemar p-value of that split (how likely it is if both systems were equally good)."""
    from scipy.stats import binomtest

    if [p.text for p in ours] != [p.text for p in theirs]:
        raise ValueError("paired_comparison: the two systems were tested on different messages.")
    only_ours = sum(a.predicted == a.intent != b.predicted for a, b in zip(ours, theirs))
    only_theirs = sum(b.predicted == b.intent != a.predicted for a, b in zip(ours, theirs))
    discordant = only_ours + only_theirs
    p_value = binomtest(only_ours, discordant, 0.5).pvalue if discordant else 1.0
    return {"only_bridge_right": only_ours, "only_baseline_right": only_theirs, "p_value": round(float(p_value), 4)}


Fold = tuple[list[Example], list[Example]]  # (train, test)


@dataclass
class Evaluation:
    """One system on one set: the test predictions of every fold, pooled."""

    predictions: list[Prediction]
    train_examples: int  # per fold (the largest fold's)
    train_seconds: float  # mean of a fold
    ms_per_message: float  # whole Rasa parse, over every test message
    classifier_ms: float | None  # Bridge's intent classifier alone (None for other systems)
    oos_predictions: list[Prediction] | None  # of the last fold's model, when asked for


def evaluate(
    name: str,
    pipeline: list[dict[str, Any]],
    folds: Sequence[Fold],
    workdir: Path,
    oos: Sequence[Example] | None = None,
    time_classifier: bool = True,
) -> Evaluation:
    """Trains `pipeline` on each fold's training side and tests it on that fold's test side;
    `time_classifier` False skips timing the classifier alone (a second pass over the test)."""
    predictions: list[Prediction] = []
    oos_predictions = None
    train_seconds, parse_ms, classifier_ms = [], [], []
    for index, (train, test) in enumerate(folds):
        folder = workdir / f"{name}-{index}"
        trained = train_pipeline(f"{name}-{index}", pipeline, train, folder)
        run = trained.predict(test)
        texts = [e.text for e in test]
        component_ms = trained.component_ms_per_message(INTENT_CLASSIFIERS, texts) if time_classifier else None
        if oos is not None:
            oos_predictions = trained.predict(oos).predictions
        trained.close()
        shutil.rmtree(folder, ignore_errors=True)
        predictions += run.predictions
        train_seconds.append(trained.train_seconds)
        parse_ms.append(run.ms_per_message * len(test))
        if component_ms is not None:
            classifier_ms.append(component_ms * len(test))
    return Evaluation(
        predictions=predictions,
        train_examples=max(len(train) for train, _ in folds),
        train_seconds=float(np.mean(train_seconds)),
        ms_per_message=sum(parse_ms) / len(predictions),
        classifier_ms=sum(classifier_ms) / len(predictions) if classifier_ms else None,
        oos_predictions=oos_predictions,
    )


def _errors(predictions: Sequence[Prediction]) -> int:
    return sum(p.predicted != p.intent for p in predictions)


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="bridge bench nlu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="subsample: 1 test example per intent x language, 1,000 Bitext train / 270 test, DIET 30 epochs",
    )
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated subset of {','.join(SYSTEMS)}")
    parser.add_argument("--config", default=str(PROJECT_DIR / "config.yml"), help="config.yml of the bridge system")
    parser.add_argument("--diet-epochs", type=int, default=None, help="DIET epochs (rasa init: 100)")
    parser.add_argument(
        "--diet-bitext-cap", type=int, default=1500, help="max Bitext training examples for DIET (slow on large sets)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads of the encoder systems (default: config.yml's); 1 is faster on a busy machine",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the splits and of the first bridge model")
    parser.add_argument(
        "--model-seeds",
        type=int,
        default=3,
        help=f"bridge models trained (random_seed = --seed, 1, 2, ...) on {', '.join(MODEL_SEED_SETS)}",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sets = [s for s in args.sets.split(",") if s]
    systems = [s for s in args.systems.split(",") if s]
    for name, allowed in ((sets, SETS), (systems, SYSTEMS)):
        unknown = sorted(set(name) - set(allowed))
        if unknown:
            raise SystemExit(f"bridge bench nlu: unknown {unknown}; choose from {', '.join(allowed)}")
    if args.model_seeds < 1:
        raise SystemExit("bridge bench nlu: --model-seeds must be at least 1")
    diet_epochs = args.diet_epochs or (30 if args.quick else 100)
    configs = pipelines(Path(args.config), diet_epochs, args.threads)

    demo = load_nlu_examples(PROJECT_DIR / "training_data" / "nlu")
    demo_train, demo_test = held_out_split(demo, test_per_group=3, seed=args.seed)
    if args.quick:
        _, demo_test = held_out_split(demo_test, test_per_group=1, seed=args.seed)
    bitext = load_bitext(BITEXT)
    bitext_train, bitext_test = held_out_split(bitext, test_fraction=0.2, seed=args.seed, by_language=False)
    if args.quick:
        bitext_train, bitext_test = (
            subsample(bitext_train, 1000, args.seed),
            per_intent_sample(bitext_test, 10, args.seed),
        )
        bitext = subsample(bitext, 1000, args.seed)
    demo_english = [e for e in demo if e.language == "en"]  # the transfer sets' training side
    folds: dict[str, list[Fold]] = {
        "demo": [(demo_train, demo_test)],
        "crosslingual": [(demo_english, [e for e in demo_test if e.language != "en"])],
        "bitext": [(bitext_train, bitext_test)],
        "bitext_cv": cross_validation_folds(bitext, BITEXT_FOLDS, args.seed, by_language=False),
        "fewshot": [(per_intent_sample(bitext_train, 10, args.seed), bitext_test)],
    }
    if "xsid" in sets:
        english = load_xsid(XSID / "en.valid.conll", "en")
        others = [
            e
            for lang in XSID_BOT_LANGUAGES + XSID_OTHER_LANGUAGES
            for e in load_xsid(XSID / f"{lang}.valid.conll", lang)
        ]
        folds["xsid"] = cross_validation_folds(english, ENGLISH_FOLDS, args.seed, by_language=False) + [
            (english, others)
        ]
    folds["demo_transfer"] = cross_validation_folds(demo_english, ENGLISH_FOLDS, args.seed, by_language=False) + [
        (demo_english, [e for e in demo if e.language != "en"])
    ]
    # Per transfer set, the languages no training example is written in that it reports together.
    transfer_languages = {
        "xsid": XSID_BOT_LANGUAGES,
        "demo_transfer": tuple(sorted({e.language for e in demo} - {"en"})),
    }
    oos = load_nlu_examples(OUT_OF_SCOPE)
    workdir = Path(tempfile.mkdtemp(prefix="bridge-bench-nlu-"))
    results: dict[str, Any] = {
        "quick": args.quick,
        "threads": args.threads,
        "diet_epochs": diet_epochs,
        "diet_bitext_cap": args.diet_bitext_cap,
        "sets": {},
    }
    model_seeds = [args.seed] + [seed for seed in range(1, args.model_seeds + 1) if seed != args.seed][
        : args.model_seeds - 1
    ]
    rows, oos_rows, transfer_rows, seed_rows = [], [], [], []
    language_rows: dict[str, list[list[Any]]] = {name: [] for name in transfer_languages}
    language_summary_rows: dict[str, list[list[Any]]] = {name: [] for name in transfer_languages}
    set_predictions: dict[str, dict[str, list[Prediction]]] = {}
    try:
        for set_name in [s for s in SETS if s in sets and s != "oos"] + (
            ["demo"] if "oos" in sets and "demo" not in sets else []
        ):
            for system in systems:
                cap = args.diet_bitext_cap if system == "rasa_default" and set_name.startswith("bitext") else None
                system_folds = [(subsample(train, cap, args.seed), test) for train, test in folds[set_name]]
                with_oos = oos if set_name == "demo" and "oos" in sets else None
                pipeline = configs[system]
                if set_name == "xsid":
                    pipeline = without_unsupported_language_step(pipeline)
                run = evaluate(f"{set_name}-{system}", pipeline, system_folds, workdir, with_oos)
                summary = summarize(run.predictions)
                entry = {
                    "train_examples": run.train_examples,
                    "test_examples": len(run.predictions),
                    "folds": len(system_folds),
                    "accuracy": summary["accuracy"],
                    "macro_f1": summary["macro_f1"],
                    "errors": _errors(run.predictions),
                    "train_seconds": round(run.train_seconds, 1),
                    "ms_per_message": round(run.ms_per_message, 2),
                    "per_language": summary["per_language"],
                }
                if run.classifier_ms is not None:
                    entry["classifier_ms_per_message"] = round(run.classifier_ms, 2)
                if set_name in transfer_languages:
                    entry["transfer"] = transfer_scores(run.predictions, transfer_languages[set_name])
                    for language, scores in entry["transfer"]["per_language"].items():
                        language_rows[set_name].append(
                            [
                                system,
                                language,
                                scores["examples"],
                                scores["top_intent"],
                                scores["after_fallback"],
                                scores["right_handed_off"],
                                scores["wrong_handed_off"],
                            ]
                        )
                    language_summary_rows[set_name].append(
                        [
                            system,
                            entry["transfer"]["per_language"].get("en", {}).get("after_fallback"),
                            entry["transfer"]["other_languages_after_fallback"],
                            entry["transfer"]["other_languages_to_english"],
                        ]
                    )
                if set_name in MODEL_SEED_SETS and set_name in sets:
                    seeds = model_seeds if system == SEEDED_SYSTEM else model_seeds[:1]
                    errors = [entry["errors"]] + [
                        _errors(
                            evaluate(
                                f"{set_name}-{system}-seed{seed}",
                                with_options(pipeline, "MultilingualIntentClassifier", random_seed=seed),
                                system_folds,
                                workdir,
                                time_classifier=False,
                            ).predictions
                        )
                        for seed in seeds[1:]
                    ]
                    entry["model_seeds"] = {
                        "seeds": seeds,
                        "errors": errors,
                        "mean_errors": round(float(np.mean(errors)), 1),
                        "mean_accuracy": round(1 - float(np.mean(errors)) / len(run.predictions), 4),
                    }
                    seed_rows.append(
                        [
                            set_name,
                            system,
                            " / ".join(map(str, seeds)),
                            " / ".join(map(str, errors)),
                            entry["model_seeds"]["mean_errors"],
                            entry["model_seeds"]["mean_accuracy"],
                        ]
                    )
                results["sets"].setdefault(set_name, {})[system] = entry
                write_results("nlu", results)  # an interrupted run keeps what it measured
                if set_name in sets:
                    rows.append(
                        [
                            set_name,
                            system,
                            entry["train_examples"],
                            entry["test_examples"],
                            entry["accuracy"],
                            entry["macro_f1"],
                            entry["train_seconds"],
                            entry["ms_per_message"],
                            entry.get("classifier_ms_per_message", "-"),
                        ]
                    )
                    print(format_table(HEADERS, rows[-1:]), flush=True)
                set_predictions.setdefault(set_name, {})[system] = run.predictions
                if run.oos_predictions is not None:
                    in_scope = [p for p in run.predictions if p.intent != OOS_INTENT]
                    scores = out_of_scope_scores(in_scope, run.oos_predictions, fallback_threshold(configs[system]))
                    results.setdefault("oos", {})[system] = scores
                    best = scores[f"best_within_{IN_SCOPE_COST_BUDGET:.0%}_cost"]
                    oos_rows.append(
                        [
                            system,
                            scores["configured"]["threshold"],
                            scores["configured"]["oos_recall"],
                            scores["in_scope_accuracy_without_handoff"],
                            scores["configured"]["in_scope_accuracy"],
                            best["threshold"],
                            best["oos_recall"],
                        ]
                    )
        if "crosslingual" in results["sets"] and "demo" in results["sets"]:
            for system, entry in results["sets"]["crosslingual"].items():
                if system not in set_predictions.get("demo", {}):
                    continue
                in_language = float(
                    np.mean([p.predicted == p.intent for p in set_predictions["demo"][system] if p.language != "en"])
                )
                ratio = entry["accuracy"] / in_language if in_language else 0.0
                entry.update(in_language_accuracy=round(in_language, 4), transfer_ratio=round(ratio, 4))
                transfer_rows.append([system, round(in_language, 4), entry["accuracy"], round(ratio, 4)])
        paired_rows = []
        for set_name, by_system in set_predictions.items():
            for baseline in [b for b in by_system if b != "bridge" and "bridge" in by_system and set_name in sets]:
                comparison = paired_comparison(by_system["bridge"], by_system[baseline])
                results["sets"][set_name][baseline]["paired_with_bridge"] = comparison
                paired_rows.append(
                    [
                        set_name,
                        baseline,
                        comparison["only_bridge_right"],
                        comparison["only_baseline_right"],
                        comparison["p_value"],
                    ]
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\nIntent classification" + (" (--quick)" if args.quick else ""))
    print(format_table(HEADERS, rows))
    if seed_rows:
        print("\nModel seeds: fine_tuned trained once per seed (the frozen classifiers have no randomness; DIET once)")
        print(format_table(["set", "system", "random_seed", "errors", "mean errors", "mean accuracy"], seed_rows))
    if transfer_rows:
        print("\nCross-lingual transfer (the other 11 languages): English-only training vs training on all 12")
        print(format_table(["system", "in-language acc", "English-only acc", "transfer ratio"], transfer_rows))
    for set_name, title in (("demo_transfer", "demo"), ("xsid", "xSID")):
        if not language_rows[set_name]:
            continue
        print(f"\n{title}: trained on English only (English itself by 5-fold cross-validation), per language")
        print(
            format_table(
                [
                    "system",
                    "language",
                    "examples",
                    "top intent",
                    "after fallback",
                    "right handed off",
                    "wrong handed off",
                ],
                language_rows[set_name],
            )
        )
        print(f"\n{title}: {' '.join(transfer_languages[set_name])} after the fallback against English")
        print(format_table(["system", "English", "those languages (mean)", "ratio"], language_summary_rows[set_name]))
    if oos_rows:
        print(f"\nOut of scope ({len(oos)} requests, 12 languages) against the demo models")
        print(
            format_table(
                [
                    "system",
                    "threshold",
                    "OOS recall",
                    "in-scope acc (no hand-off)",
                    "in-scope acc (with)",
                    f"best t (<= {IN_SCOPE_COST_BUDGET:.0%} cost)",
                    "OOS recall at best t",
                ],
                oos_rows,
            )
        )
    if paired_rows:
        print("\nPaired with bridge, message by message (two-sided exact McNemar test)")
        print(format_table(["set", "baseline", "only bridge right", "only baseline right", "p"], paired_rows))
    path = write_results("nlu", results)
    print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
