"""Evidence that Databricks monitors already computed, for :func:`~mlobs_notebook.investigate`:
the drift from a ``{table}_drift_metrics`` table (``drift_metrics=``) in place of comparing the
training snapshot with current data, and the metric series from an InferenceLog
``{table}_profile_metrics`` table (``profile_metrics=``) in place of MLflow evaluation runs.

Nothing is recomputed and no table data is read: the features compared are the monitored columns
the usual rule picks (:func:`~mlobs_notebook.investigation.features.choose_features`: the model's
signature, else every column but ids, the time column and ``exclude``). Reading the tables is
:mod:`mlobs_notebook.sources.monitor_drift` and :mod:`mlobs_notebook.sources.monitor_quality`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.drift import DriftReport
from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.investigation.features import choose_features
from mlobs_notebook.records import ModelVersionRecord
from mlobs_notebook.times import Granularity, to_utc

__all__ = ["MonitoredDrift", "monitored_drift", "monitored_metric"]


@dataclass(frozen=True)
class MonitoredDrift:
    """The drift report read from a monitor table, restricted to the features compared, with the
    time range its windows cover (aware UTC) and what was chosen on the way (``notes``)."""

    report: DriftReport
    features: tuple[str, ...]
    source: str
    current_range: tuple[datetime | None, datetime | None]
    notes: tuple[str, ...]


def monitored_drift(
    drift_metrics: str | Path | DriftReport,
    record: ModelVersionRecord,
    *,
    time_column: str,
    granularity: Granularity,
    columns: Sequence[str] | None,
    exclude: Sequence[str],
    thresholds: Mapping[str, Any] | str | None,
    profile_metrics: str | Path | None = None,
    slice: tuple[str, str] | str | None = None,
) -> MonitoredDrift:
    """The drift evidence from a drift metrics table (a path; or a report already read with
    :func:`~mlobs_notebook.sources.monitor_drift.read_drift_metrics`). Raises
    :class:`~mlobs_notebook.errors.InputError` when none of the features is monitored."""
    from mlobs_notebook.sources.models import model_inputs
    from mlobs_notebook.sources.monitor_drift import read_drift_metrics

    if isinstance(drift_metrics, DriftReport):
        report, source = drift_metrics, "<DriftReport>"
    else:
        source = str(drift_metrics)
        report = read_drift_metrics(drift_metrics, granularity=granularity, slice=slice, thresholds=thresholds,
                                    profile_metrics=profile_metrics)
    monitored = report.table["column_name"].unique(maintain_order=True).to_list()
    absent = [c for c in columns or () if c not in monitored]
    if absent:
        raise UnknownColumn(f"column(s) {', '.join(absent)} are not in the drift metrics table {source}; "
                            f"it monitors: {', '.join(monitored)}")
    shape = pl.LazyFrame(schema={**dict.fromkeys(monitored, pl.Float64), time_column: pl.Datetime("us", "UTC")})
    inputs = model_inputs(record) if columns is None else None
    features, notes = choose_features(shape, shape, time_column, columns, inputs, exclude)
    unmonitored = [c for c in inputs or () if c not in monitored and c not in exclude]
    if unmonitored:
        notes.append(f"model inputs not in the drift metrics table, so not compared: {', '.join(unmonitored)}")
    if not features:
        raise InputError(
            f"none of the model's inputs ({', '.join(inputs or ())}) is a column of the drift metrics table {source}; "
            f"it monitors: {', '.join(monitored)}. Pass columns= (--columns) to choose among them"
        )
    table = report.table.filter(pl.col("column_name").is_in(features))
    starts, ends = table["window_start"].drop_nulls(), table["window_end"].drop_nulls()
    span = (_utc(starts.min()) if starts.len() else None, _utc(ends.max()) if ends.len() else None)
    read = f"the training snapshot was not read (so its digest was not rechecked): the drift comes from {source}"
    return MonitoredDrift(replace(report, table=table), features, source, span, (read, *report.notes, *notes))


def monitored_metric(
    profile_metrics: str | Path, metric: str, granularity: Granularity, slice: tuple[str, str] | str | None = None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """(metric points ``time``, ``value``, ``run_id``; notes) from an InferenceLog profile table."""
    from mlobs_notebook.sources.monitor_quality import read_quality_series

    series = read_quality_series(profile_metrics, metric, granularity=granularity, slice=slice)
    if series.points.height == 0:
        raise InputError(f"the profile metrics table {profile_metrics} holds no {series.column} value in its "
                         "':table' INPUT rows: nothing to follow (is the monitor's label column set?)")
    return series.points, series.notes


def _utc(value: Any) -> datetime | None:
    return None if value is None else to_utc(value)
