"""Scores of intent predictions, and the report files `bridge eval nlu` writes.

The intent report has the shape `rasa test nlu` writes (scikit-learn's classification
report as a dict, plus Rasa's "confused_with" per intent), computed with Rasa's own
functions so tools that read Rasa's report read ours. Beside it: per-language accuracy, a
confusion-matrix PNG and the misclassified examples.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INTENT_REPORT = "intent_report.json"
ERRORS_FILE = "intent_errors.json"
CONFUSION_PNG = "intent_confusion_matrix.png"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Prediction:
    """What a pipeline said about one test example."""

    text: str
    intent: str  # the gold intent
    language: str
    predicted: str  # the classifier's top intent
    confidence: float
    handed_off: bool = False  # FallbackClassifier turned the turn into nlu_fallback


def intent_report(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Per-intent precision/recall/F1/support, accuracy, macro and weighted averages and
    "confused_with", exactly as in the intent_report.json of `rasa test nlu`."""
    from rasa.model_testing import get_evaluation_metrics
    from rasa.nlu.test import _add_confused_labels_to_report
    from sklearn.metrics import confusion_matrix
    from sklearn.utils.multiclass import unique_labels

    targets = [p.intent for p in predictions]
    predicted = [p.predicted for p in predictions]
    report, _, _, _ = get_evaluation_metrics(targets, predicted, output_dict=True)
    labels = list(unique_labels(targets, predicted))
    matrix = confusion_matrix(targets, predicted, labels=labels)
    return _add_confused_labels_to_report(report, matrix, labels)


def accuracy_by(predictions: Sequence[Prediction], key: str) -> dict[str, dict[str, float]]:
    """Accuracy and support per value of `key` (e.g. "language")."""
    groups: dict[str, list[bool]] = {}
    for p in predictions:
        groups.setdefault(getattr(p, key) or "?", []).append(p.predicted == p.intent)
    return {k: {"accuracy": round(float(np.mean(v)), 4), "support": len(v)} for k, v in sorted(groups.items())}


def summarize(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Headline numbers: accuracy, macro-F1, per-language accuracy, hand-off rate."""
    report = intent_report(predictions)
    handed_off = [p for p in predictions if p.handed_off]
    accepted = [p for p in predictions if not p.handed_off]
    return {
        "examples": len(predictions),
        "accuracy": round(float(report["accuracy"]), 4),
        "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
        "macro_precision": round(float(report["macro avg"]["precision"]), 4),
        "macro_recall": round(float(report["macro avg"]["recall"]), 4),
        "per_language": accuracy_by(predictions, "language"),
        "handed_off": len(handed_off),
        "accuracy_of_answered": round(float(np.mean([p.predicted == p.intent for p in accepted])), 4)
        if accepted
        else None,
    }


def plot_confusion(predictions: Sequence[Prediction], output_file: Path) -> None:
    """Confusion-matrix PNG (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix
    from sklearn.utils.multiclass import unique_labels

    targets = [p.intent for p in predictions]
    predicted = [p.predicted for p in predictions]
    labels = list(unique_labels(targets, predicted))
    matrix = confusion_matrix(targets, predicted, labels=labels)
    size = max(6.0, 0.38 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("true intent")
    axes.set_title(f"Intent confusion matrix ({len(predictions)} examples)")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                axes.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if matrix[i, j] > threshold else "black",
                )
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    figure.savefig(output_file, dpi=120)
    plt.close(figure)


def write_report(
    predictions: Sequence[Prediction], output_dir: Path, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Writes intent_report.json, intent_errors.json, the confusion PNG and summary.json
    into `output_dir`; returns the summary."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / INTENT_REPORT).write_text(json.dumps(intent_report(predictions), ensure_ascii=False, indent=2))
    errors = [
        {
            "text": p.text,
            "intent": p.intent,
            "language": p.language,
            "intent_prediction": {"name": p.predicted, "confidence": round(p.confidence, 4)},
        }
        for p in predictions
        if p.predicted != p.intent
    ]
    (output_dir / ERRORS_FILE).write_text(json.dumps(errors, ensure_ascii=False, indent=2))
    plot_confusion(predictions, output_dir / CONFUSION_PNG)
    summary = {**summarize(predictions), **(extra or {})}
    (output_dir / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
