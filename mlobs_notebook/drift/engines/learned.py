"""What learned thresholds need from the baseline: its frame with the time column, split into
windows like the current data's, or an error that says which of these is missing."""

from __future__ import annotations

from typing import Any

import polars as pl

from mlobs_notebook.drift.kinds import as_polars
from mlobs_notebook.drift.profile import BaselineProfile
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.thresholds import LEARNED_STD_MULTIPLIER
from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.times import Granularity, read_time_column

__all__ = ["baseline_windows", "learned_note"]


def baseline_windows(
    baseline: Any, time_column: str | None, step: Granularity | None, time_format: str | None, time_zone: str | None
) -> pl.DataFrame | pl.LazyFrame:
    """The baseline frame whose windows learned thresholds come from, or an error saying why not."""
    if time_column is None or step is None:
        raise InputError(
            "learned thresholds split the baseline into windows like the current data's: give "
            "time_column and granularity (--time-column, --granularity)"
        )
    if isinstance(baseline, BaselineProfile):
        raise InputError(
            "learned thresholds need the baseline's own windows: pass the baseline frame (with its "
            f"time column {time_column!r}), not a fitted BaselineProfile"
        )
    frame = as_polars(baseline, "baseline")
    names = frame.collect_schema().names()
    if time_column not in names:
        raise UnknownColumn(
            f"learned thresholds split the baseline into {step} windows by {time_column!r}, which the "
            f"baseline does not have. Baseline columns: {', '.join(names)}. Keep the time column in the "
            "baseline, or give thresholds as numbers"
        )
    read_time_column(frame, time_column, time_format=time_format, time_zone=time_zone)  # fails early on bad text
    return frame


def learned_note(windows: DriftReport) -> str:
    counts = windows.table.filter(pl.col("drift_type") == "BASELINE").unique("window_start")["count"]
    used = int((counts > 0).sum())
    text = (
        f"thresholds learned from {used} baseline window(s) at {windows.granularity}: mean + "
        f"{LEARNED_STD_MULTIPLIER:g} std of each statistic (NannyML's rule); see report.thresholds"
    )
    if used < 2:
        raise InputError(
            f"learned thresholds need at least 2 baseline windows with rows at {windows.granularity}; "
            f"the baseline has {used}. Use a finer granularity or give thresholds as numbers"
        )
    if used < 6:  # NannyML warns below 6 chunks (nannyml/chunk.py)
        text += f"; only {used} windows, so the thresholds are rough"
    return text
