"""The model's metric over windows, and when it fell and stayed down. Pure.

- **Aligning** (:func:`align_metric`): metric points (evaluation runs, a run's history, a
  predictions log) fall into the drift's windows; when several fall in one window the last one
  (latest time) wins, as a dashboard of "the AUC on that day" means.
- **Metric drop onset** (:func:`metric_drop`): the reference is the median of the first
  ``reference_points`` values (14 evaluations), unless a baseline value is given. A value is
  *low* when it falls below ``reference - tolerance``; the tolerance is the larger of
  ``min_tolerance`` (0.02) and three robust standard deviations of the reference values
  (1.4826 x MAD). The onset is the first low value that stays low by the persistence rule of
  :mod:`~mlobs_notebook.correlate.onsets`. ``method="changepoint"`` instead takes the single
  mean-shift change point (the split maximising the between-segment sum of squares) when the
  later segment's mean is lower by more than the tolerance.
- **Its own granularity** (:func:`metric_granularity`): a metric is evaluated about daily, so
  the drop is found over windows of at most a day, never over weekly or monthly ones, where
  14 reference windows would span months and a few windows would carry the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from mlobs_notebook.correlate.onsets import DEFAULT_PERSISTENCE, persistent_onset
from mlobs_notebook.times import Granularity, aware

__all__ = ["METRIC_SCHEMA", "REFERENCE_POINTS", "MetricDrop", "align_metric", "metric_drop", "metric_granularity"]

# How many windows set the metric's reference level when no baseline value is given.
REFERENCE_POINTS = 14

# What a metric series aligned to windows holds: one row per window that has a value.
METRIC_SCHEMA = {
    "window_start": pl.Datetime("us", "UTC"),
    "value": pl.Float64(),
    "run_id": pl.String(),
    "points": pl.UInt32(),
}


@dataclass(frozen=True)
class MetricDrop:
    """The metric's reference level and, when it fell and stayed down, the onset of the fall.

    ``onset`` is the start of the window where the fall began (aware; a date means its UTC
    midnight); ``points`` counts the windows with a value.
    """

    metric: str
    reference: float | None
    tolerance: float | None
    onset: datetime | None
    value_at_onset: float | None
    mean_after: float | None
    points: int
    method: str

    def __post_init__(self) -> None:
        if isinstance(self.onset, date):
            object.__setattr__(self, "onset", aware(self.onset, f"onset of the {self.metric} drop"))

    @property
    def dropped(self) -> bool:
        return self.onset is not None


def metric_granularity(granularity: Granularity | str) -> Granularity:
    """The windows a metric drop is found over: ``granularity``, or one day when it is longer
    (``1w`` and ``1mo`` give ``1d``; ``6h`` stays ``6h``)."""
    step = Granularity.parse(granularity)
    day = Granularity(1, "d")
    return step if step.nominal <= day.nominal else day


def align_metric(points: pl.DataFrame, granularity: Granularity | str, zone: str = "UTC") -> pl.DataFrame:
    """Metric points ``(time, value[, run_id])`` -> one row per window with a value, in ``zone``.

    Columns as :data:`METRIC_SCHEMA` (``window_start`` in ``zone``): the last point of the window
    (latest ``time``; ties broken by ``step`` when the frame has one, e.g. a run's start time or a
    history's step, then by ``run_id``), and how many points fell in it. A frame that is
    already per window (``window_start``, no ``time``) is re-windowed the same way, its
    ``points`` summed.
    """
    step = Granularity.parse(granularity)
    time = "time" if "time" in points.columns else "window_start"
    frame = points.drop_nulls("value")
    if "run_id" not in frame.columns:
        frame = frame.with_columns(run_id=pl.lit(None, dtype=pl.String))
    dtype = frame.schema[time]
    instant = pl.col(time)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        instant = instant.dt.replace_time_zone("UTC")
    elif dtype == pl.Date:
        instant = instant.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    local = instant.cast(pl.Datetime("us", getattr(dtype, "time_zone", None) or "UTC")).dt.convert_time_zone(zone)
    order = ["__t", *(["step"] if "step" in frame.columns else []), "run_id"]
    return (
        frame.with_columns(local.alias("__t"))
        .sort(order, nulls_last=False)
        .group_by(pl.col("__t").dt.truncate(step.every).alias("window_start"), maintain_order=True)
        .agg(pl.col("value").last(), pl.col("run_id").last(),
             (pl.col("points").sum() if "points" in frame.columns else pl.len()).cast(pl.UInt32).alias("points"))
        .sort("window_start")
        .select("window_start", pl.col("value").cast(pl.Float64), "run_id", "points")
    )


def metric_drop(
    series: pl.DataFrame,
    metric: str = "metric",
    *,
    baseline_value: float | None = None,
    reference_points: int = REFERENCE_POINTS,
    min_tolerance: float = 0.02,
    tolerance: float | None = None,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    method: str = "threshold",
    higher_is_better: bool = True,
) -> MetricDrop:
    """Find a sustained fall of a ``(window_start, value)`` series; see the module docstring.

    ``higher_is_better=False`` for losses and errors (log loss, RMSE): a *rise* is then the fall.
    """
    if method not in ("threshold", "changepoint"):
        raise ValueError(f"method must be 'threshold' or 'changepoint', not {method!r}")
    time = "window_start" if "window_start" in series.columns else "date"
    rows = series.drop_nulls("value").sort(time)
    starts = rows[time].to_list()
    values = np.asarray(rows["value"].to_list(), dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    values = values * sign
    n = len(values)
    if n == 0:
        return MetricDrop(metric, baseline_value, tolerance, None, None, None, 0, method)
    ref = values[: max(1, min(reference_points, n))]
    reference = float(np.median(ref)) if baseline_value is None else float(baseline_value) * sign
    if tolerance is None:
        mad = float(np.median(np.abs(ref - np.median(ref)))) * 1.4826
        tolerance = max(min_tolerance, 3.0 * mad)
    i: int | None
    if method == "threshold":
        start = reference_points if baseline_value is None else 0
        low = [False] * min(start, n) + [bool(v < reference - tolerance) for v in values[start:]]
        i = persistent_onset(low, persistence)
    else:
        i = _change_point(values, reference_points)
        if i is not None and not values[i:].mean() < values[:i].mean() - tolerance:
            i = None
    return MetricDrop(
        metric=metric,
        reference=sign * reference,
        tolerance=tolerance,
        onset=starts[i] if i is not None else None,
        value_at_onset=sign * float(values[i]) if i is not None else None,
        mean_after=sign * float(values[i:].mean()) if i is not None else None,
        points=n,
        method=method,
    )


def _change_point(values: np.ndarray, min_segment: int) -> int | None:
    n = len(values)
    lo = max(2, min(min_segment, n // 4))
    if n < 2 * lo:
        return None
    total = values.sum()
    csum = np.cumsum(values)
    best, best_i = -1.0, None
    mean = total / n
    for i in range(lo, n - lo + 1):
        left = csum[i - 1] / i
        right = (total - csum[i - 1]) / (n - i)
        score = i * (left - mean) ** 2 + (n - i) * (right - mean) ** 2
        if score > best:
            best, best_i = score, i
    return best_i
