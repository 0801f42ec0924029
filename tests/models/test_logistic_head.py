"""The logistic-regression head gives, through a softmax, the regression's own probabilities."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bot.models.calibration import softmax
from bot.models.logistic_head import fit_logistic_head


@pytest.mark.parametrize("labels", [2, 4])
def test_softmax_of_the_head_is_the_regressions_probability(labels):
    rng = np.random.default_rng(labels)
    targets = np.arange(60) % labels
    features = rng.normal(size=(60, 8)) + targets[:, None]
    weight, bias = fit_logistic_head(features, targets, C=10.0, max_iter=2000)
    assert weight.shape == (labels, 8) and bias.shape == (labels,)
    expected = LogisticRegression(C=10.0, max_iter=2000).fit(features, targets).predict_proba(features)
    assert np.allclose(softmax(features @ weight.T + bias), expected, atol=1e-6)
