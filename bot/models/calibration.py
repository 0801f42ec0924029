"""From a classifier's logits to confidences a fallback threshold can rely on.

Rasa's FallbackClassifier hands a turn off below a fixed confidence. That threshold only
means the same thing from one training to the next if the confidences match how often the
classifier is right, so the fine-tuned classifier divides its logits by a temperature
fitted on held-out examples, and reports the highest threshold that would hand off few of
the held-out examples it got right.

Example:
    >>> temperature = fit_temperature(validation_logits, validation_targets)
    >>> probabilities = softmax(logits / temperature)
"""

from __future__ import annotations

import math
from typing import Any, Dict

import numpy as np

# Share of correctly understood held-out messages a suggested fallback threshold may hand off.
HANDED_OFF_CORRECT_SHARE = 0.02


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The softmax temperature that minimises the negative log-likelihood of `targets`.

    A 1-D search over a log grid: deterministic and enough for one scalar. A validation set
    without a single error says nothing about over-confidence (the likelihood only grows
    as the temperature falls), so the model's own confidences (1.0) are kept then; the
    grid starts at 0.5 so that a few errors cannot make every answer look certain.
    """
    if len(targets) == 0 or bool((logits.argmax(1) == targets).all()):
        return 1.0
    best, best_nll = 1.0, math.inf
    for temperature in np.exp(np.linspace(np.log(0.5), np.log(20.0), 181)):
        probabilities = softmax(logits / temperature)
        nll = -np.mean(np.log(probabilities[np.arange(len(targets)), targets] + 1e-12))
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def confidence_report(probabilities: np.ndarray, targets: np.ndarray) -> Dict[str, Any]:
    """Validation accuracy, and the highest fallback threshold that would send at most
    `HANDED_OFF_CORRECT_SHARE` of correctly understood validation messages to the fallback."""
    predicted = probabilities.argmax(1)
    confidence = probabilities.max(1)
    correct = confidence[predicted == targets]
    threshold = float(np.quantile(correct, HANDED_OFF_CORRECT_SHARE)) if len(correct) else None
    return {
        "validation_accuracy": round(float((predicted == targets).mean()), 4),
        "suggested_fallback_threshold": round(threshold, 3) if threshold is not None else None,
    }
