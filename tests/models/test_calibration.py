"""Temperature calibration: the fitted temperature undoes over-confidence; the report
suggests a fallback threshold that hands off few correctly understood messages."""

import numpy as np

from bot.models.calibration import confidence_report, fit_temperature, softmax


def test_softmax_rows_sum_to_one_even_for_large_logits():
    probabilities = softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    assert np.allclose(probabilities, [[0.5, 0.5], [0.25, 0.75]])


def test_temperature_fit_recovers_overconfidence():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 4, 2000)
    true_logits = rng.normal(size=(2000, 4))
    true_logits[np.arange(2000), targets] += 1.5
    probabilities = softmax(true_logits)
    sampled = np.array([rng.choice(4, p=p) for p in probabilities])
    assert 2.5 < fit_temperature(true_logits * 3.0, sampled) < 3.6
    perfect = np.eye(4)[[0, 1, 2, 3]] * 5.0
    assert fit_temperature(perfect, np.arange(4)) == 1.0  # no error: no evidence to sharpen
    assert fit_temperature(np.zeros((0, 4)), np.zeros(0, dtype=int)) == 1.0


def test_confidence_report_threshold_keeps_the_correct_answers():
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    report = confidence_report(probabilities, np.array([0, 0, 1, 1]))
    assert report["validation_accuracy"] == 0.75
    # The confidences of the three right answers are 0.9, 0.8 and 0.7: the threshold sits at their bottom.
    assert 0.7 <= report["suggested_fallback_threshold"] < 0.8
    assert confidence_report(np.array([[0.4, 0.6]]), np.array([0]))["suggested_fallback_threshold"] is None
