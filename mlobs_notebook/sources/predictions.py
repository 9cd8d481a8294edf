"""A model's metric per window computed from a predictions log: the model's output, the label
once it arrives, and a time.

Only rows whose label has arrived (not null) count; each window reports how many rows it held and
how many were labelled. The metrics are scikit-learn's functions, per window:

=============  ===========================================  ==========================
name           scikit-learn                                 input
=============  ===========================================  ==========================
``auc``        ``roc_auc_score`` (alias ``roc_auc``)        score, binary label
``pr_auc``     ``average_precision_score``                  score, binary label
``log_loss``   ``log_loss`` (labels 0 and 1)                probability, binary label
``brier``      ``brier_score_loss``                         probability, binary label
``accuracy``   ``accuracy_score``                           score >= threshold
``precision``  ``precision_score`` (zero_division=0)        score >= threshold
``recall``     ``recall_score`` (zero_division=0)           score >= threshold
``f1``         ``f1_score`` (zero_division=0)               score >= threshold
``rmse``       ``root_mean_squared_error``                  prediction, numeric label
``mae``        ``mean_absolute_error``                      prediction, numeric label
``r2``         ``r2_score``                                 prediction, numeric label
=============  ===========================================  ==========================

A window whose labels hold one class only has no ROC or PR AUC (scikit-learn refuses it); its
value is left out and the count of such windows is noted. polars reads the log, windows it and
counts; scikit-learn runs once per window on that window's slice of the rows (a log in time order
needs no sort at all). 10M rows over 90 days take about 5 s, whole process
(``benchmarks/predictions_bench.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn, UnknownMetric
from mlobs_notebook.records import MetricSource
from mlobs_notebook.times import Granularity, read_time_column

__all__ = ["PREDICTION_METRICS", "PredictionMetric", "prediction_series"]


@dataclass(frozen=True)
class PredictionMetric:
    """A metric computed from predictions: its scikit-learn function and what it takes."""

    name: str
    function: str  # in sklearn.metrics
    needs: str  # "score", "probability", "class" (score >= threshold) or "regression"
    higher_is_better: bool = True

    @property
    def binary(self) -> bool:
        return self.needs != "regression"


PREDICTION_METRICS: dict[str, PredictionMetric] = {
    m.name: m
    for m in (
        PredictionMetric("auc", "roc_auc_score", "score"),
        PredictionMetric("pr_auc", "average_precision_score", "score"),
        PredictionMetric("log_loss", "log_loss", "probability", higher_is_better=False),
        PredictionMetric("brier", "brier_score_loss", "probability", higher_is_better=False),
        PredictionMetric("accuracy", "accuracy_score", "class"),
        PredictionMetric("precision", "precision_score", "class"),
        PredictionMetric("recall", "recall_score", "class"),
        PredictionMetric("f1", "f1_score", "class"),
        PredictionMetric("rmse", "root_mean_squared_error", "regression", higher_is_better=False),
        PredictionMetric("mae", "mean_absolute_error", "regression", higher_is_better=False),
        PredictionMetric("r2", "r2_score", "regression"),
    )
}
_ALIASES = {"roc_auc": "auc", "average_precision": "pr_auc", "brier_score": "brier", "f1_score": "f1",
            "accuracy_score": "accuracy", "precision_score": "precision", "recall_score": "recall"}

# the series' columns: METRIC_SCHEMA's (window_start in the windows' zone), then the counts
SERIES_COLUMNS = ("window_start", "value", "run_id", "points", "labelled_rows", "rows")


def prediction_series(
    log: pl.LazyFrame,
    *,
    prediction_column: str,
    label_column: str,
    time_column: str,
    metric: str = "auc",
    granularity: Granularity | str = "1d",
    zone: str | None = None,
    threshold: float = 0.5,
    time_format: str | None = None,
    source: str = "the predictions log",
) -> tuple[pl.DataFrame, MetricSource]:
    """The metric per window of ``granularity`` (labelled in ``zone``, default the data's own).

    Returns (series, source): ``window_start`` (aware), ``value``, ``run_id`` (null), ``points``
    and ``labelled_rows`` (rows whose label had arrived), ``rows`` (every row of the window),
    one row per window holding a value; and a :class:`~mlobs_notebook.records.MetricSource`
    counting the labelled rows. Raises :class:`UnknownMetric` (listing the names above) and
    :class:`UnknownColumn` (listing the log's columns).
    """
    spec = _metric(metric)
    step = Granularity.parse(granularity)
    columns = log.collect_schema().names()
    for flag, name in (("--prediction-column", prediction_column), ("--label-column", label_column),
                       ("--predictions-time-column", time_column)):
        if name not in columns:
            raise UnknownColumn(
                f"{source} has no column {name!r} ({flag}). Its columns: {', '.join(columns)}"
            )
    when = read_time_column(log, time_column, time_format=time_format)
    instant = when.expr.dt.convert_time_zone(zone) if zone else when.expr
    frame = log.select(
        instant.dt.truncate(step.every).alias("window_start"),
        pl.col(prediction_column).cast(pl.Float64).alias("p"),
        pl.col(label_column).alias("y"),
    ).collect()
    rows = frame.group_by("window_start").agg(
        pl.len().cast(pl.UInt32).alias("rows"),
        pl.col("y").is_not_null().sum().cast(pl.UInt32).alias("labelled_rows"),
    )
    labelled = frame.filter(pl.col("y").is_not_null() & pl.col("p").is_not_null() & pl.col("window_start").is_not_null())
    y = _labels(labelled["y"], spec, label_column, source)
    labelled = labelled.with_columns(y=y)
    if not labelled["window_start"].is_sorted():  # a log is usually in time order already
        labelled = labelled.sort("window_start", maintain_order=True)
    values, undefined = _per_window(labelled, spec, threshold)
    series = (
        rows.join(values, on="window_start", how="inner")
        .with_columns(run_id=pl.lit(None, dtype=pl.String), points=pl.col("labelled_rows"))
        .drop_nulls("value")
        .sort("window_start")
        .select(SERIES_COLUMNS)
    )
    total, with_labels = frame.height, labelled.height
    notes = []
    waiting = rows.filter(pl.col("labelled_rows") == 0).height
    if waiting and with_labels:
        notes.append(f"{waiting} window(s) have no labelled rows yet")
    if undefined:
        notes.append(f"{undefined} window(s) hold one class of label only: {spec.name} is undefined there")
    described = (
        f"{spec.name} computed per window of {step.windows(1)} from {source} ({prediction_column!r} against "
        f"{label_column!r}, dated by {time_column!r}): {with_labels:,} of {total:,} rows labelled"
        + (f", threshold {threshold:g}" if spec.needs == "class" else "")
    )
    return series, MetricSource(
        kind="predictions", metric=spec.name, description=described, date_from=time_column,
        labelled_rows=with_labels, rows=total, higher_is_better=spec.higher_is_better, notes=tuple(notes),
        hint=None if with_labels else (
            f"no labelled rows yet: {label_column!r} is null in all {total:,} rows of {source}; wait for "
            "the labels to arrive, or name the column that holds them with --label-column"),
        hint_flag=None if with_labels else "--label-column",
    )


def _metric(name: str) -> PredictionMetric:
    key = _ALIASES.get(name, name)
    if key not in PREDICTION_METRICS:
        raise UnknownMetric(
            f"no metric {name!r} is computed from a predictions log. Metrics: "
            f"{', '.join(PREDICTION_METRICS)} (auc is the ROC AUC)"
        )
    return PREDICTION_METRICS[key]


def _labels(labels: pl.Series, spec: PredictionMetric, column: str, source: str) -> pl.Series:
    if not spec.binary:
        if not labels.dtype.is_numeric():
            raise InputError(f"label column {column!r} of {source} is {labels.dtype}, not numeric: {spec.name} needs numbers")
        return labels.cast(pl.Float64)
    if labels.dtype == pl.Boolean:
        return labels.cast(pl.Int8)
    found = labels.unique().sort()
    if labels.dtype.is_numeric() and set(found.to_list()) <= {0, 1}:
        return labels.cast(pl.Int8)
    shown = ", ".join(repr(v) for v in found.head(5).to_list())
    raise InputError(
        f"label column {column!r} of {source} holds {shown}{' ...' if found.len() > 5 else ''}: "
        f"{spec.name} needs a binary label (0/1 or true/false)"
    )


def _per_window(frame: pl.DataFrame, spec: PredictionMetric, threshold: float) -> tuple[pl.DataFrame, int]:
    import sklearn.metrics as skm

    function: Callable[..., Any] = getattr(skm, spec.function)
    kwargs: dict[str, Any] = {}
    if spec.function in ("precision_score", "recall_score", "f1_score"):
        kwargs["zero_division"] = 0
    if spec.function == "log_loss":
        kwargs["labels"] = [0, 1]
    starts = frame["window_start"]
    bounds = starts.rle().struct.field("len").cum_sum().to_list() if frame.height else []
    p, y = frame["p"].to_numpy(), frame["y"].to_numpy()
    out: list[tuple[Any, float | None]] = []
    begin, undefined = 0, 0
    for end in bounds:
        scores, labels = p[begin:end], y[begin:end]
        value: float | None
        if spec.needs == "class":
            value = float(function(labels, (scores >= threshold).astype(np.int8), **kwargs))
        elif spec.needs == "score" and (labels.size == 0 or labels.min() == labels.max()):
            value, undefined = None, undefined + 1
        elif spec.function == "r2_score" and labels.size < 2:
            value = None
        else:
            value = float(function(labels, scores, **kwargs))
        out.append((starts[begin], value))
        begin = end
    schema = {"window_start": frame.schema["window_start"], "value": pl.Float64()}
    return pl.DataFrame(out, schema=schema, orient="row"), undefined
