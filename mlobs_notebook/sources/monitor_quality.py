"""The model-quality columns of a Databricks InferenceLog ``{table}_profile_metrics`` table as the
metric series of an investigation (``investigate(..., profile_metrics=PATH)``).

An InferenceLog monitor with a label column adds model-quality metrics to the ``':table'`` rows of
its profile table, per window, slice and model id
(https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output,
"Additional statistics for model accuracy monitoring"). The docs' column list could not be read in
full; what is known:

- classification: ``accuracy_score`` (double), ``precision``, ``recall``, ``f1_score`` (structs with
  ``macro`` and ``weighted`` fields, used so by Databricks' own demo notebooks; name the field:
  ``f1_score.macro``); the ROC AUC column is ``roc_auc_score`` in some sources and ``roc_auc`` in
  others, so both are read (``auc`` and ``roc_auc`` name it); ``log_loss`` is unconfirmed;
- regression: ``mean_squared_error``, ``root_mean_squared_error``, ``mean_average_error``
  (Databricks' spelling; ``mae`` names it, ``mean_absolute_error`` is read too),
  ``mean_absolute_percentage_error``, ``r2_score``;
- custom metrics: one column each, named by the metric.

Only ``log_type = 'INPUT'`` rows are read (``BASELINE`` rows describe the baseline table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.drift.databricks import PROFILE_METRICS_SCHEMA, TABLE_COLUMN
from mlobs_notebook.errors import InputError, UnknownMetric
from mlobs_notebook.sources.monitor_tables import (
    check_columns,
    parse_slice,
    read_table,
    select_rows,
    utc_window,
)
from mlobs_notebook.times import Granularity

__all__ = ["QUALITY_COLUMNS", "QualitySeries", "read_quality_series"]

QUALITY_COLUMNS = (
    "accuracy_score", "precision", "recall", "f1_score", "roc_auc_score", "roc_auc", "log_loss",
    "mean_squared_error", "root_mean_squared_error", "mean_average_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "r2_score",
)  # fmt: skip
ALIASES: dict[str, tuple[str, ...]] = {
    "auc": ("roc_auc_score", "roc_auc"),
    "roc_auc": ("roc_auc_score", "roc_auc"),
    "roc_auc_score": ("roc_auc_score", "roc_auc"),
    "accuracy": ("accuracy_score",),
    "rmse": ("root_mean_squared_error",),
    "mse": ("mean_squared_error",),
    "mae": ("mean_average_error", "mean_absolute_error"),
    "mean_average_error": ("mean_average_error", "mean_absolute_error"),
    "mape": ("mean_absolute_percentage_error",),
    "r2": ("r2_score",),
}
# Profile columns that are statistics of a column, never a model's quality.
_NOT_QUALITY = {*PROFILE_METRICS_SCHEMA, "min_length", "max_length", "avg_length", "non_null_columns",
                "frequent_items", "median", "distinct_count", "percent_nan", "percent_zeros",
                "percent_distinct", "confusion_matrix"}  # fmt: skip


@dataclass(frozen=True)
class QualitySeries:
    """A model-quality metric per window: ``points`` (``time``, ``value``, ``run_id``), the
    ``column`` it was read from (``f1_score.macro``), and what was chosen (``notes``)."""

    points: pl.DataFrame
    column: str
    notes: tuple[str, ...]


def read_quality_series(
    path: str | Path,
    metric: str,
    *,
    granularity: Granularity | str | None = None,
    slice: tuple[str, str] | str | None = None,
    model_id: str | None = None,
) -> QualitySeries:
    """``metric`` per window from the profile metrics table at ``path``: ``points`` has columns
    ``time`` (the window's start, aware UTC), ``value``, ``run_id`` (null), the frame
    :func:`~mlobs_notebook.correlate.align_metric` takes.

    ``metric``: a column (``accuracy_score``, ``r2_score``, a custom metric), a struct field
    (``f1_score.macro``), or a short name (``auc``, ``accuracy``, ``rmse``, ``mae``, ``r2``).
    Slice, model (default ``'*'``: all models) and granularity are picked as for the drift table.
    Raises :class:`~mlobs_notebook.errors.UnknownMetric` listing the quality columns present.
    """
    what = "profile metrics"
    frame = read_table(path, what)
    check_columns(frame, ("window", "log_type", "granularity", "slice_key", "slice_value", "column_name"), what, path)
    expr, name = _metric(frame, metric, path)
    rows = utc_window(frame, "window", what, path).filter(
        (pl.col("column_name") == TABLE_COLUMN) & (pl.col("log_type").str.to_uppercase() == "INPUT")
    )
    picked = select_rows(rows, known=_NOT_QUALITY | set(QUALITY_COLUMNS), key=["__start"], what=what, path=path,
                         granularity=granularity, slice=parse_slice(slice), model_id=model_id)
    points = (
        picked.rows.select(time=pl.col("__start"), value=expr.cast(pl.Float64), run_id=pl.lit(None, pl.String))
        .drop_nulls(["time", "value"])
        .sort("time")
    )
    note = f"{metric} per window from {name} of the Databricks profile metrics table {path}"
    return QualitySeries(points, name, (note, *picked.notes))


def _metric(frame: pl.DataFrame, metric: str, path: Any) -> tuple[pl.Expr, str]:
    base, _, field = metric.partition(".")
    names = [c for c in ALIASES.get(base.lower(), (base,)) if c in frame.columns]
    if not names:
        present = [c for c in frame.columns if c in QUALITY_COLUMNS or (c not in _NOT_QUALITY and frame.schema[c].is_numeric())]
        raise UnknownMetric(
            f"{path}: the profile metrics table has no model-quality column for {metric!r}. Quality "
            f"columns present: {', '.join(present) or 'none (an InferenceLog monitor with a label column writes them)'}"
        )
    column = names[0]
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Struct):
        fields = [f.name for f in dtype.fields if f.dtype.is_numeric()]
        if field not in fields:
            raise InputError(f"{path}: {column} is a struct; name one of its fields: "
                             f"{', '.join(f'{column}.{f}' for f in fields)}")
        return pl.col(column).struct.field(field), f"{column}.{field}"
    if field:
        raise InputError(f"{path}: {column} is {dtype}, not a struct; name it without '.{field}'")
    if not dtype.is_numeric():
        raise InputError(f"{path}: {column} is {dtype}, not a number")
    return pl.col(column), column
