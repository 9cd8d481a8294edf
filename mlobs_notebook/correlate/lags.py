"""Drift against the metric over time: lead time and lagged correlation, counted in windows. Pure.

- **Lead time**: the metric's onset minus the drift onset, as a duration and as a number of
  windows (positive: drift came first). Labels arrive late, so drift usually leads.
- **Lagged correlation**: for lag k in -max_lag..max_lag windows, drift in window w against the
  metric in window w + k (Pearson and Spearman, scipy.stats), each with the number of aligned
  points; a figure with fewer than ``min_points`` points, or a constant side, is null.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from mlobs_notebook.times import Granularity, to_utc

__all__ = ["LAG_SCHEMA", "lagged_correlation", "lead_time", "lead_windows"]

LAG_SCHEMA = {"lag": pl.Int64(), "pearson": pl.Float64(), "spearman": pl.Float64(), "points": pl.Int64()}


def lead_time(drift_onset: datetime | None, metric_onset: datetime | None) -> timedelta | None:
    """How long before the metric's drop the drift began (elapsed time; negative when it came after)."""
    if drift_onset is None or metric_onset is None:
        return None
    return to_utc(metric_onset) - to_utc(drift_onset)


def lead_windows(
    drift_onset: datetime | None, metric_onset: datetime | None, granularity: Granularity | str
) -> int | None:
    """:func:`lead_time` in whole windows of ``granularity``."""
    if drift_onset is None or metric_onset is None:
        return None
    return Granularity.parse(granularity).windows_between(drift_onset, metric_onset)


def lagged_correlation(
    drift: pl.DataFrame,
    metric: pl.DataFrame,
    granularity: Granularity | str = "1d",
    max_lag: int = 7,
    min_points: int = 5,
) -> pl.DataFrame:
    """Correlation of drift ``(window_start, value)`` with the metric ``(window_start, value)``
    ``lag`` windows later; columns ``lag``, ``pearson``, ``spearman``, ``points``.

    Both frames are keyed by window start (aware datetimes compare as instants, so the two
    may be in different zones).
    """
    from scipy import stats

    step = Granularity.parse(granularity)
    d = {k: v for k, v in drift.select("window_start", "value").iter_rows() if v is not None}
    m = {k: v for k, v in metric.select("window_start", "value").iter_rows() if v is not None}
    rows = []
    for lag in range(-max_lag, max_lag + 1):
        pairs = [(v, m[later]) for start, v in d.items() if (later := step.add(start, lag)) in m]
        x = np.asarray([p[0] for p in pairs], dtype=float)
        y = np.asarray([p[1] for p in pairs], dtype=float)
        ok = len(pairs) >= min_points and np.ptp(x) > 0 and np.ptp(y) > 0
        pearson = float(stats.pearsonr(x, y).statistic) if ok else None
        spearman = float(stats.spearmanr(x, y).statistic) if ok else None
        rows.append({"lag": lag, "pearson": pearson, "spearman": spearman, "points": len(pairs)})
    return pl.DataFrame(rows, schema=LAG_SCHEMA)
