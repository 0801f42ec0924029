"""Multinomial logistic regression on sentence embeddings, as the weights of a linear head.

The frozen-encoder intent classifier predicts with this head as it is; the fine-tuned one
starts its trained head from it, so fine-tuning begins where the frozen baseline ends
instead of from noise.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def fit_logistic_head(features: np.ndarray, targets: np.ndarray, C: float, max_iter: int) -> Tuple[np.ndarray, np.ndarray]:
    """Weights (labels x dimension) and bias (labels) whose softmax gives the regression's
    probabilities; `C` is the inverse regularisation strength, `max_iter` the solver's cap."""
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=C, max_iter=max_iter).fit(features, targets)
    weight, bias = regression.coef_, regression.intercept_
    if weight.shape[0] == 1:  # two labels: sklearn keeps one row; softmax needs one per label
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return weight, bias
