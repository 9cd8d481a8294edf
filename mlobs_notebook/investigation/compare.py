"""The data path of :func:`~mlobs_notebook.investigate`: the current data against the baseline,
per feature and beyond (joint drift, slices, weekday seasonality), in bounded memory.

A window's drift flag needs a significant KS or chi-squared test beside the PSI
(:func:`~mlobs_notebook.drift.significance.require_significance`): small windows pass the PSI
threshold by chance. The per-feature drift is computed by the engine on the whole data: polars frames held in memory
when they fit and streamed otherwise, or Spark DataFrames. The signals beyond it
(:mod:`~mlobs_notebook.investigation.signals`) read polars frames in memory: a streamed frame is
read as every k-th row up to :data:`~mlobs_notebook.investigation.frames.SIGNAL_ROWS` (and the
notes say so; the weekday-matched drift, which replaces per-feature values, is then not applied),
and with the Spark engine they are not computed (the notes say so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from mlobs_notebook.correlate import FeatureOnset
from mlobs_notebook.drift import DriftReport
from mlobs_notebook.drift.multivariate import MultivariateDrift
from mlobs_notebook.errors import InputError
from mlobs_notebook.investigation import frames, signals
from mlobs_notebook.investigation.clock import Clock
from mlobs_notebook.times import Granularity

__all__ = ["Compared", "compare"]


@dataclass(frozen=True)
class Compared:
    """What the comparison found: the drift ``report``, the first and last current instants
    (aware UTC), and the frames with ``window_start`` the signals read (None when not read)."""

    report: DriftReport
    current_range: tuple[datetime | None, datetime | None]
    base_w: pl.DataFrame | None = None
    cur_w: pl.DataFrame | None = None
    slice_columns: tuple[str, ...] = ()
    seasonal: tuple[str, ...] = ()
    multivariate: MultivariateDrift | None = None
    joint: FeatureOnset | None = None
    notes: tuple[str, ...] = field(default=())


def compare(
    base: Any, cur: Any, features: Sequence[str], *, time_column: str, step: Granularity,
    time_format: str | None, time_zone: str | None, thresholds: Mapping[str, Any] | str | None, engine: str, spark: Any,
    source: str, start: Any, end: Any, persistence: tuple[int, int], multivariate: bool, seasonality: bool,
    slicing_exprs: Sequence[str] | None, score_column: str | None, clock: Clock,
) -> Compared:
    """Compare ``cur`` with ``base`` (polars LazyFrames or Spark DataFrames). Raises
    :class:`~mlobs_notebook.errors.InputError` when the current data has no rows."""
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.drift.seasonal import seasonal_drift
    from mlobs_notebook.drift.seasonal import weekly_seasonal_columns as seasonal_columns

    notes: list[str] = []
    baseline_columns = frames.column_names(base)
    timed = time_column in baseline_columns
    spark_frames = engine == "spark"
    slice_cols = [] if spark_frames else signals.slice_columns(base, cur, time_column, slicing_exprs)
    extra = [c for c in (*slice_cols, *([score_column] if score_column else [])) if c not in (*features, time_column)]
    try:
        current_data, current_range = frames.current_rows(cur, [*features, *dict.fromkeys(extra)], time_column,
                                                          time_format, source, start, end)
    except InputError as exc:
        raise InputError(f"{exc}. Pass the recent feature data with --current (current=)") from exc
    clock.step("current", 0.4)

    # the baseline keeps its time column: learned thresholds window it (the profile leaves it out)
    kept = [f for f in features if f in baseline_columns] + ([time_column] if timed else [])
    report = compute_drift(
        frames.select(base, kept), frames.select(current_data, [*features, time_column]), time_column=time_column,
        granularity=step, thresholds=thresholds, time_format=time_format, time_zone=time_zone, engine=engine, spark=spark,
        progress=clock.drift,
    )
    notes += [f"drift: {note}" for note in report.notes if note not in notes]
    clock.step("drift", 0.55)
    base_rows, base_sampled = frames.signal_sample(base, baseline_columns)
    cur_rows, cur_sampled = frames.signal_sample(current_data, [*features, time_column, *dict.fromkeys(extra)])
    if base_rows is None or cur_rows is None:
        notes.append("joint drift, slices, weekday seasonality and the estimated metric read polars frames: with "
                     "engine='spark' they were not computed")
        clock.step("multivariate", 0.62)
        return Compared(_significant(report), current_range, notes=tuple(notes))
    sampled = base_sampled or cur_sampled
    if sampled:
        notes.append(f"joint drift, slices and the estimated metric read every k-th row of the data, up to "
                     f"{frames.SIGNAL_ROWS:,} rows a side (it does not fit in memory); weekday seasonality was not checked")
    zone = report.zone
    base_w = signals.with_windows(base_rows, time_column if timed else None, step, time_format, zone)
    cur_w = signals.with_windows(cur_rows, time_column, step, time_format, zone)
    seasonal = seasonal_columns(base_w, features, step) if seasonality and timed and not sampled else ()
    if seasonal:
        report = seasonal_drift(base_w.select(*[f for f in features if f in baseline_columns], time_column, "window_start"),
                                cur_w.select(*features, time_column, "window_start"), time_column, step, report,
                                thresholds=thresholds, time_format=time_format, time_zone=time_zone)
        notes.append(f"weekly seasonality in the training data ({', '.join(seasonal)}): each day is compared with "
                     "the baseline's rows of the same weekday")
    mv = joint = None
    if multivariate:
        mv, joint = signals.joint_drift(base_w, cur_w, features, persistence)
        notes += list(mv.notes)
    clock.step("multivariate", 0.62)
    return Compared(_significant(report), current_range, base_w, cur_w, tuple(slice_cols), tuple(seasonal), mv, joint, tuple(notes))


def _significant(report: DriftReport) -> DriftReport:
    """Small windows pass the PSI threshold by chance: a flag needs a significant test too."""
    from mlobs_notebook.drift.significance import require_significance

    return require_significance(report)
