"""Weekly seasonality: compare a day with the same weekday of the baseline. Pure.

Sales on Saturday, logins on Monday: when the training data itself has a weekly pattern, every
weekend window drifts against the pooled baseline, two windows in a row, and the persistence rule
reads an onset each week. A feature is **weekly seasonal** when the baseline's rows of some
weekday drift against the whole baseline at PSI's warn level (0.1) or more (PSI on the pooled
baseline's decile bins plus a null bin, or its categories). With any such feature and daily
windows, every window is compared with the baseline's rows of its own weekday instead
(``BASELINE`` rows; ``CONSECUTIVE`` rows still compare neighbouring windows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.slices import bin_counts, psi_of, reference_bins
from mlobs_notebook.times import Granularity

__all__ = ["SEASONAL_PSI", "seasonal_drift", "weekday_frames", "weekday_matched", "weekly_seasonal_columns"]

SEASONAL_PSI = 0.1
_KEYS = ["window_start", "column_name", "drift_type"]
MIN_WEEKS = 2
MIN_ROWS = 30  # a weekday with fewer baseline rows says nothing


def weekly_seasonal_columns(baseline: pl.DataFrame, features: Sequence[str], granularity: Granularity) -> tuple[str, ...]:
    """The features whose baseline drifts by weekday (see the module docstring).

    ``baseline`` holds the features and ``window_start`` (aware). Only daily windows are checked,
    and only a baseline spanning two weeks or more; otherwise none is seasonal.
    """
    if granularity != Granularity(1, "d") or "window_start" not in baseline.columns or baseline.height == 0:
        return ()
    days = baseline["window_start"].n_unique()
    if days < 7 * MIN_WEEKS:
        return ()
    weekdays = weekday_frames(baseline)
    seasonal = []
    for feature in features:
        if feature not in baseline.columns:
            continue
        edges, categories = reference_bins(baseline[feature])
        whole = bin_counts(baseline[feature], edges, categories)
        worst = max((psi_of(whole, bin_counts(part[feature], edges, categories)) or 0.0
                     for part in weekdays.values() if part.height >= MIN_ROWS), default=0.0)
        if worst >= SEASONAL_PSI:
            seasonal.append(feature)
    return tuple(seasonal)


def weekday_matched(pooled: DriftReport, by_weekday: Mapping[int, DriftReport]) -> DriftReport:
    """``pooled`` with its BASELINE rows (table and bins) taken from the report of each window's
    weekday (``by_weekday``: ISO weekday 1-7 -> that weekday's baseline against that weekday's
    current rows). Windows whose weekday has no report keep the pooled rows."""
    table, bins = pooled.table, pooled.bins
    for k, report in by_weekday.items():
        mine = (pl.col("drift_type") == "BASELINE") & (pl.col("window_start").dt.weekday() == k)
        rows = report.table.filter(mine & pl.col("count").gt(0))
        if rows.height == 0:
            continue
        table = table.update(rows.select(table.columns), on=_KEYS, how="left", include_nulls=True)
        bin_rows = report.bins.join(rows.select(_KEYS), on=_KEYS, how="semi")
        bins = bins.update(bin_rows.select(bins.columns), on=_KEYS, how="left", include_nulls=True)
    note = "windows compared with the baseline's rows of the same weekday (weekly seasonality in the training data)"
    return replace(pooled, table=table, bins=bins, notes=(*pooled.notes, note))


def weekday_frames(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """A frame with ``window_start`` split by ISO weekday (1 = Monday)."""
    parts: dict[int, pl.DataFrame] = {}
    for (k,), part in frame.group_by(pl.col("window_start").dt.weekday().alias("__weekday")):
        parts[int(np.asarray(k).item())] = part
    return parts


def seasonal_drift(
    baseline: pl.DataFrame, current: pl.DataFrame, time_column: str, granularity: Granularity,
    pooled: DriftReport, **options: Any,
) -> DriftReport:
    """The weekday-matched report: ``pooled`` (``compute_drift`` of the whole baseline) with each
    window's BASELINE rows from ``compute_drift`` of its weekday's baseline rows; both frames
    hold ``window_start``. ``options`` go to ``compute_drift`` (thresholds, time_format ...)."""
    from mlobs_notebook.drift.engines.local import compute_drift

    base_parts, current_parts = weekday_frames(baseline), weekday_frames(current)
    reports = {}
    for k, cur in current_parts.items():
        base = base_parts.get(k)
        if base is None or base.height == 0:
            continue
        reports[k] = compute_drift(
            base.drop("window_start"), cur.drop("window_start"), time_column=time_column,
            granularity=granularity, consecutive=False, **options,
        )
    return weekday_matched(pooled, reports)
