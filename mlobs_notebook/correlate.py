"""Align drift with the model metric over time: onsets, lead time, lagged correlation. Pure.

Rules (the defaults, each a parameter):

- **Drift onset** of a feature: the first window whose drift flag holds and stays: at least
  ``persistence[0]`` of the ``persistence[1]`` windows starting there are flagged (2 of 3 by
  default), so one noisy window is not an onset and a gap of one window does not delay it.
- **Metric drop onset**: the reference is the median of the first ``reference_points`` values
  (14 evaluation days), unless a baseline value is given. A value is *low* when it falls below
  ``reference - tolerance``; the tolerance is the larger of ``min_tolerance`` (0.02) and three
  robust standard deviations of the reference values (1.4826 x MAD). The onset is the first low
  value that stays low by the same persistence rule. ``method="changepoint"`` instead takes the
  single mean-shift change point (the split maximising the between-segment sum of squares) when
  the later segment's mean is lower by more than the tolerance.
- **Lead time**: metric onset minus drift onset, in days (positive: drift came first).
- **Lagged correlation**: for lag k in -max_lag..max_lag, drift on day d against the metric on day
  d + k (Pearson and Spearman), each with the number of aligned points; a figure with fewer than
  ``min_points`` points, or a constant side, is null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

__all__ = [
    "FeatureOnset",
    "MetricDrop",
    "drift_onsets",
    "drift_series",
    "lagged_correlation",
    "lead_days",
    "metric_drop",
    "persistent_onset",
]

DEFAULT_PERSISTENCE = (2, 3)


@dataclass(frozen=True)
class FeatureOnset:
    """When a feature's drift started, and how strong it was."""

    feature: str
    onset: date | None
    drifted_windows: int
    windows: int
    peak_value: float | None  # the largest value of the statistic over the windows
    value_at_onset: float | None
    statistic: str


@dataclass(frozen=True)
class MetricDrop:
    """The metric's reference level and, when it fell and stayed down, the onset of the fall."""

    metric: str
    reference: float | None
    tolerance: float | None
    onset: date | None
    value_at_onset: float | None
    mean_after: float | None
    points: int
    method: str

    @property
    def dropped(self) -> bool:
        return self.onset is not None


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def persistent_onset(flags: Sequence[bool | None], persistence: tuple[int, int] = DEFAULT_PERSISTENCE) -> int | None:
    """Index of the first flagged position with at least k of the n positions from it flagged
    (near the end of the series, fewer than n positions remain and k must still be flagged)."""
    k, n = persistence
    if not 1 <= k <= n:
        raise ValueError(f"persistence must be (k, n) with 1 <= k <= n, got {persistence}")
    marks = [bool(f) for f in flags]
    for i, flagged in enumerate(marks):
        if flagged and sum(marks[i : i + n]) >= k:
            return i
    return None


def drift_series(report, statistic: str = "population_stability_index", drift_type: str = "BASELINE") -> pl.DataFrame:
    """(date, feature, value, drifted) per window from a DriftReport's table, sorted."""
    table = report.table if hasattr(report, "table") else report
    return (
        table.filter(pl.col("drift_type") == drift_type)
        .select(
            pl.col("window_start").dt.date().alias("date"),
            pl.col("column_name").alias("feature"),
            pl.col(statistic).cast(pl.Float64).alias("value"),
            pl.col("drifted").fill_null(False).alias("drifted"),
        )
        .sort("feature", "date")
    )


def drift_onsets(
    series: pl.DataFrame,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    statistic: str = "population_stability_index",
) -> list[FeatureOnset]:
    """One FeatureOnset per feature of a drift series; drifted features first, earliest onset first."""
    out = []
    for (feature,), rows in series.group_by("feature", maintain_order=True):
        rows = rows.sort("date")
        flags = rows["drifted"].to_list()
        values = rows["value"].to_list()
        i = persistent_onset(flags, persistence)
        finite = [v for v in values if v is not None and np.isfinite(v)]
        out.append(
            FeatureOnset(
                feature=feature,
                onset=rows["date"][i] if i is not None else None,
                drifted_windows=int(sum(bool(f) for f in flags)),
                windows=rows.height,
                peak_value=max(finite) if finite else None,
                value_at_onset=values[i] if i is not None else None,
                statistic=statistic,
            )
        )
    return sorted(out, key=lambda o: (o.onset is None, o.onset or date.max, -(o.peak_value or 0.0), o.feature))


def metric_drop(
    series: pl.DataFrame,
    metric: str = "metric",
    *,
    baseline_value: float | None = None,
    reference_points: int = 14,
    min_tolerance: float = 0.02,
    tolerance: float | None = None,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    method: str = "threshold",
    higher_is_better: bool = True,
) -> MetricDrop:
    """Find a sustained fall of a (date, value) metric series; see the module docstring."""
    if method not in ("threshold", "changepoint"):
        raise ValueError(f"method must be 'threshold' or 'changepoint', not {method!r}")
    rows = series.drop_nulls("value").sort("date")
    dates = [_as_date(d) for d in rows["date"].to_list()]
    values = np.asarray(rows["value"].to_list(), dtype=float)
    if not higher_is_better:
        values = -values
    n = len(values)
    if n == 0:
        return MetricDrop(metric, baseline_value, tolerance, None, None, None, 0, method)
    ref = values[: max(1, min(reference_points, n))]
    reference = float(np.median(ref)) if baseline_value is None else float(baseline_value) * (1 if higher_is_better else -1)
    if tolerance is None:
        mad = float(np.median(np.abs(ref - np.median(ref)))) * 1.4826
        tolerance = max(min_tolerance, 3.0 * mad)
    if method == "threshold":
        start = reference_points if baseline_value is None else 0
        low = [False] * min(start, n) + [bool(v < reference - tolerance) for v in values[start:]]
        i = persistent_onset(low, persistence)
    else:
        i = _change_point(values, reference_points)
        if i is not None and not (values[i:].mean() < values[:i].mean() - tolerance):
            i = None
    sign = 1 if higher_is_better else -1
    return MetricDrop(
        metric=metric,
        reference=sign * reference,
        tolerance=tolerance,
        onset=dates[i] if i is not None else None,
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


def lead_days(drift_onset: date | None, metric_onset: date | None) -> int | None:
    """Days from drift onset to the metric's drop (positive when drift came first)."""
    if drift_onset is None or metric_onset is None:
        return None
    return (_as_date(metric_onset) - _as_date(drift_onset)).days


def lagged_correlation(
    drift: pl.DataFrame, metric: pl.DataFrame, max_lag: int = 7, min_points: int = 5
) -> pl.DataFrame:
    """Pearson and Spearman correlation of drift (date, value) with the metric (date, value)
    shifted by each lag; columns lag, pearson, spearman, points."""
    from scipy import stats

    d = {_as_date(k): v for k, v in drift.select("date", "value").iter_rows() if v is not None}
    m = {_as_date(k): v for k, v in metric.select("date", "value").iter_rows() if v is not None}
    rows = []
    for lag in range(-max_lag, max_lag + 1):
        pairs = [(v, m[day + timedelta(days=lag)]) for day, v in d.items() if day + timedelta(days=lag) in m]
        x = np.asarray([p[0] for p in pairs], dtype=float)
        y = np.asarray([p[1] for p in pairs], dtype=float)
        ok = len(pairs) >= min_points and np.ptp(x) > 0 and np.ptp(y) > 0
        pearson = float(stats.pearsonr(x, y).statistic) if ok else None
        spearman = float(stats.spearmanr(x, y).statistic) if ok else None
        rows.append({"lag": lag, "pearson": pearson, "spearman": spearman, "points": len(pairs)})
    return pl.DataFrame(rows, schema={"lag": pl.Int64, "pearson": pl.Float64, "spearman": pl.Float64, "points": pl.Int64})
