"""`bridge eval nlu`: train on a fixed split of the bot's NLU data, report on the rest.

Writes intent_report.json (the shape `rasa test nlu` writes), intent_errors.json,
intent_confusion_matrix.png and summary.json (accuracy, macro-F1, per-language accuracy).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_eval_nlu(args: argparse.Namespace) -> dict:
    """Runs the evaluation and prints its headline numbers."""
    from bot.evaluation.nlu import evaluate_project_nlu
    from bot.project import ENCODER_COMPONENTS

    overrides = {name: {"threads": args.threads} for name in ENCODER_COMPONENTS} if args.threads else None
    summary = evaluate_project_nlu(
        Path(args.config), Path(args.data), Path(args.out), args.test_per_group, args.seed, overrides
    )
    print(
        f"bridge eval nlu: {summary['test_examples']} held-out examples, trained on {summary['train_examples']} "
        f"in {summary['train_seconds']} s"
    )
    print(
        f"  accuracy {summary['accuracy']:.4f}   macro-F1 {summary['macro_f1']:.4f}   "
        f"{summary['ms_per_message']:.1f} ms/message   handed off {summary['handed_off']}"
    )
    print("  per language: " + "  ".join(f"{k} {v['accuracy']:.3f}" for k, v in summary["per_language"].items()))
    print(f"  report files in {args.out}/")
    return summary


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bridge eval nlu` to the `bridge` command."""
    evaluate = subparsers.add_parser("eval", help="evaluate the bot: bridge eval nlu")
    targets = evaluate.add_subparsers(dest="target", required=True)
    nlu = targets.add_parser("nlu", help="intent accuracy on a held-out split of the NLU data")
    nlu.add_argument("--config", default="config.yml", help="Rasa config whose pipeline is evaluated")
    nlu.add_argument("--data", default="training_data/nlu", help="NLU file or folder")
    nlu.add_argument("--out", default="results/eval/nlu", help="folder for the report files")
    nlu.add_argument("--test-per-group", type=int, default=3, help="held-out examples per intent and language")
    nlu.add_argument("--seed", type=int, default=42, help="seed of the split")
    nlu.add_argument(
        "--threads", type=int, default=None, help="torch threads of the classifier (default: the config's)"
    )
    nlu.set_defaults(handler=cmd_eval_nlu)
