"""Confidence-based performance estimation against independent computations: scikit-learn's
metrics over every row counted once as a positive with weight p and once as a negative with
weight 1 - p (the expected confusion matrix CBPE sums), and labels drawn from the probabilities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlobs_notebook.correlate import estimate_metric, estimated_performance, fit_calibration


def _weighted(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[np.ones(len(p)), np.zeros(len(p))], np.r_[p, 1 - p]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_is_the_weighted_auc_of_the_expected_labels(seed):
    rng = np.random.default_rng(seed)
    scores = rng.beta(2, 3, 3000)
    scores[:300] = np.round(scores[:300], 2)  # ties, entered together as roc_auc_score has them
    truth, weight = _weighted(scores)
    expected = roc_auc_score(truth, np.r_[scores, scores], sample_weight=weight)
    assert estimate_metric(scores, "roc_auc") == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("metric", "sk"), [("accuracy", accuracy_score), ("precision", precision_score),
                                            ("recall", recall_score), ("f1", f1_score)])
def test_threshold_metrics_are_the_expected_confusion_matrix(metric, sk):
    rng = np.random.default_rng(5)
    scores = rng.random(2000)
    truth, weight = _weighted(scores)
    predicted = np.r_[scores, scores] >= 0.3
    expected = sk(truth, predicted, sample_weight=weight)
    assert estimate_metric(scores, metric, threshold=0.3) == pytest.approx(expected, abs=1e-12)


def test_on_calibrated_scores_the_estimate_matches_the_realized_metric_on_average():
    rng = np.random.default_rng(11)
    p = rng.beta(1.5, 2.5, 4000)
    realized = [roc_auc_score(rng.random(len(p)) < p, p) for _ in range(200)]
    assert estimate_metric(p, "roc_auc") == pytest.approx(np.mean(realized), abs=0.003)


def test_calibration_is_scikit_learns_isotonic_regression():
    rng = np.random.default_rng(3)
    scores = rng.random(1500)
    labels = rng.random(1500) < scores**2  # overconfident scores
    calibration = fit_calibration(scores, labels)
    reference = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, labels)
    probe = np.linspace(-0.5, 1.5, 101)
    assert np.allclose(calibration.apply(probe), reference.predict(probe))
    with pytest.raises(ValueError, match="both classes"):
        fit_calibration(scores, np.zeros(1500))


def test_per_window_estimates_and_their_limits():
    rng = np.random.default_rng(4)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for day in range(4):
        n = 10 if day == 3 else 500
        spread = 1.0 if day < 2 else 0.2  # scores squeezed together: less separable, lower estimate
        rows += [{"window_start": start + timedelta(days=day), "score": 0.5 + spread * (s - 0.5)} for s in rng.random(n)]
    frame = pl.DataFrame(rows, schema={"window_start": pl.Datetime("us", "UTC"), "score": pl.Float64})
    out = estimated_performance(frame, "roc_auc")
    assert out.columns == ["window_start", "value", "rows"]
    assert out["rows"].to_list() == [500, 500, 500, 10]
    for day in range(3):
        scores = frame.filter(pl.col("window_start") == start + timedelta(days=day))["score"].to_numpy()
        assert out["value"][day] == pytest.approx(estimate_metric(scores), abs=1e-12)
    assert out["value"][2] < out["value"][0] - 0.1
    assert out["value"][3] is None  # 10 rows: under min_rows
    with pytest.raises(ValueError, match="rmse"):
        estimated_performance(frame, "rmse")


def test_the_models_own_predicted_class_is_used_when_given():
    rng = np.random.default_rng(9)
    scores = rng.random(1000)
    predicted = (scores + rng.normal(0, 0.1, 1000)) >= 0.55  # not score >= 0.5
    truth, weight = _weighted(scores)
    expected = f1_score(truth, np.r_[predicted, predicted], sample_weight=weight)
    assert estimate_metric(scores, "f1", predictions=predicted) == pytest.approx(expected, abs=1e-12)
    frame = pl.DataFrame({"window_start": [datetime(2026, 3, 1, tzinfo=UTC)] * 1000, "s": scores, "yhat": predicted})
    out = estimated_performance(frame, "f1", score="s", prediction="yhat")
    assert out["value"][0] == pytest.approx(expected, abs=1e-12)
