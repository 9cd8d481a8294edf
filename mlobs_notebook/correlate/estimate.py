"""Estimated performance without labels: confidence-based, as NannyML's CBPE. Pure.

Labels arrive days after the predictions; a calibrated score already says how likely each row is
to be positive, so the metric a window *should* have can be computed from the scores alone
(NannyML's Confidence-Based Performance Estimation, `CBPE
<https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html>`_;
definitions as in ``nannyml/performance_estimation/confidence_based/metrics.py``, 0.13.1):

- **roc_auc**: rows sorted by score, highest first; the expected true positives at each cut are
  the running sum of the calibrated probabilities, the expected false positives the running sum
  of their complements; the estimate is the area under that expected ROC curve
  (``estimate_roc_auc``). With distinct scores this is exactly scikit-learn's ``roc_auc_score``
  of every row counted once as a positive with weight p and once as a negative with weight 1 - p.
- **accuracy**, **precision**, **recall**, **f1**: the predicted class is the model's own when
  given (a prediction column), else ``score >= threshold``; a predicted positive is an expected
  true positive p and false positive 1 - p, a predicted negative an expected false negative p and
  true negative 1 - p (``estimate_f1`` and friends).

The estimate holds while the relation between the features and the label holds (CBPE's
assumption: covariate shift only); under concept drift it stays put while the realized metric
falls, which is itself a sign. Scores that are not calibrated probabilities are calibrated first
(:func:`fit_calibration`: isotonic regression on a labelled reference, NannyML's default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "ESTIMATE_SCHEMA",
    "ESTIMATORS",
    "Calibration",
    "estimate_metric",
    "estimated_performance",
    "fit_calibration",
]

ESTIMATE_SCHEMA = {"window_start": pl.Datetime("us", "UTC"), "value": pl.Float64(), "rows": pl.UInt32()}


def _roc_auc(p: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    order = np.argsort(scores, kind="stable")[::-1]
    expected = p[order]
    tps = np.concatenate([[0.0], np.cumsum(expected)])
    fps = np.concatenate([[0.0], np.cumsum(1.0 - expected)])
    if tps[-1] <= 0 or fps[-1] <= 0:
        return float("nan")
    # one point per distinct score: tied rows enter the curve together, as roc_auc_score has them
    ranked = scores[order]
    last_of_tie = np.concatenate([[True], ranked[1:] != ranked[:-1], [True]])[1:]
    keep = np.concatenate([[True], last_of_tie])
    tpr, fpr = tps[keep] / tps[-1], fps[keep] / fps[-1]
    return float(np.trapezoid(tpr, fpr))


def _confusion(p: np.ndarray, positive: np.ndarray) -> tuple[float, float, float, float]:
    tp = float(np.sum(np.where(positive, p, 0.0)))
    fp = float(np.sum(np.where(positive, 1.0 - p, 0.0)))
    fn = float(np.sum(np.where(positive, 0.0, p)))
    tn = float(np.sum(np.where(positive, 0.0, 1.0 - p)))
    return tp, fp, fn, tn


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def _accuracy(p: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    tp, fp, fn, tn = _confusion(p, positive)
    return _ratio(tp + tn, tp + fp + fn + tn)


def _precision(p: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    tp, fp, _, _ = _confusion(p, positive)
    return _ratio(tp, tp + fp)


def _recall(p: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    tp, _, fn, _ = _confusion(p, positive)
    return _ratio(tp, tp + fn)


def _f1(p: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> float:
    tp, fp, fn, _ = _confusion(p, positive)
    return _ratio(tp, tp + 0.5 * (fp + fn))


Estimator = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
# metric names as MLflow and scikit-learn spell them; "auc" is the demo's and MLflow's evaluate name
ESTIMATORS: dict[str, Estimator] = {
    "roc_auc": _roc_auc,
    "auc": _roc_auc,
    "accuracy": _accuracy,
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
}


@dataclass(frozen=True)
class Calibration:
    """An isotonic map from scores to probabilities (``x`` ascending, ``y`` non-decreasing),
    clipped outside the fitted range, as scikit-learn's ``IsotonicRegression(out_of_bounds="clip")``."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(np.interp(np.asarray(scores, dtype=float), np.asarray(self.x), np.asarray(self.y)), dtype=float)


def fit_calibration(scores: Any, labels: Any) -> Calibration:
    """Isotonic calibration of ``scores`` against 0/1 ``labels`` (NannyML's default calibrator).

    Raises ``ValueError`` when fewer than 2 rows or a single class remain after dropping nulls.
    """
    from sklearn.isotonic import IsotonicRegression

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    keep = np.isfinite(s) & np.isfinite(y)
    s, y = s[keep], y[keep]
    if len(s) < 2 or len(np.unique(y)) < 2:
        raise ValueError("calibration needs labelled rows of both classes")
    model = IsotonicRegression(out_of_bounds="clip", increasing=True, y_min=0.0, y_max=1.0).fit(s, y)
    return Calibration(tuple(float(v) for v in model.X_thresholds_), tuple(float(v) for v in model.y_thresholds_))


def estimate_metric(
    scores: Any, metric: str = "roc_auc", *, probabilities: Any = None, threshold: float = 0.5,
    predictions: Any = None,
) -> float:
    """The CBPE estimate of ``metric`` for one set of predictions.

    ``scores``: the model's scores (they rank the rows and, against ``threshold``, give the
    predicted class); ``probabilities``: the calibrated probability of the positive class per
    row (default: the scores themselves, taken as calibrated); ``predictions``: the model's
    predicted class per row (default: ``scores >= threshold``). NaN for an empty input or a
    metric whose denominator is 0. Raises ``ValueError`` for an unknown metric.
    """
    estimator = _estimator(metric)
    s = np.asarray(scores, dtype=float)
    p = s if probabilities is None else np.asarray(probabilities, dtype=float)
    positive = s >= threshold if predictions is None else np.asarray(predictions).astype(bool)
    keep = np.isfinite(s) & np.isfinite(p)
    if not keep.any():
        return float("nan")
    return estimator(np.clip(p[keep], 0.0, 1.0), s[keep], positive[keep])


def estimated_performance(
    windows: pl.DataFrame,
    metric: str = "roc_auc",
    *,
    score: str = "score",
    prediction: str | None = None,
    calibration: Calibration | None = None,
    threshold: float = 0.5,
    min_rows: int = 30,
) -> pl.DataFrame:
    """The CBPE estimate of ``metric`` per window of a frame ``(window_start, <score>[,
    <prediction>])``.

    ``prediction`` names the model's predicted class (else ``score >= threshold``). Columns as
    :data:`ESTIMATE_SCHEMA` (``window_start`` keeps the input's zone): the estimate and the
    number of scored rows; a window with fewer than ``min_rows`` scored rows gets a null value
    (too few rows for an estimate to mean anything).
    """
    estimator = _estimator(metric)
    predicted = (pl.col(prediction).cast(pl.Boolean) if prediction else pl.col(score) >= threshold).alias("__positive")
    frame = (
        windows.select("window_start", pl.col(score).cast(pl.Float64).alias("__score"), predicted)
        .filter(pl.col("__score").is_finite() & pl.col("__positive").is_not_null())
    )
    rows = []
    for (start,), part in frame.group_by("window_start", maintain_order=True):
        s = part["__score"].to_numpy()
        p = calibration.apply(s) if calibration is not None else np.clip(s, 0.0, 1.0)
        value = estimator(p, s, part["__positive"].to_numpy()) if len(s) >= min_rows else None
        rows.append({"window_start": start, "value": value, "rows": len(s)})
    dtype = windows.schema["window_start"]
    schema = {**ESTIMATE_SCHEMA, "window_start": dtype}
    return pl.DataFrame(rows, schema=schema).sort("window_start")


def _estimator(metric: str) -> Estimator:
    try:
        return ESTIMATORS[metric.lower()]
    except KeyError:
        raise ValueError(
            f"no confidence-based estimate for metric {metric!r}; known: {', '.join(sorted(ESTIMATORS))}"
        ) from None
