"""The metric series of an investigation, from wherever it was logged or can be computed.

In this order, the first that applies:

0. a Databricks InferenceLog profile metrics table (``profile_metrics=``, ``--profile-metrics``);
1. a predictions log (``predictions=``, ``--predictions``): the metric computed per window from
   the rows whose label has arrived (:mod:`mlobs_notebook.sources.predictions`);
2. one run's history (``metric_run=``, ``--metric-run RUN_ID``), dated by timestamp or step;
3. evaluation runs matching ``eval_filter`` when the caller gave one (``None`` or ``""``: every
   run of the model's experiment);
4. by default: the runs matching ``tags.env = 'production'`` when some do; else the metric MLflow 3
   logged on the model (LoggedModel metrics, ``mlflow.models.evaluate``); else every run of the
   experiment that logged the metric.

Evaluation runs are dated by ``date_from`` (``start_time``, ``end_time``, ``metric_timestamp``,
``tags.<name>``, ``params.<name>``). The model's own training run never counts. The series and a
:class:`~mlobs_notebook.records.MetricSource` saying where it came from are returned; when nothing
holds the metric, the error lists what the store does hold and every flag that reads elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.correlate import align_metric
from mlobs_notebook.errors import InputError
from mlobs_notebook.records import MetricSource, ModelVersionRecord, SourceRef
from mlobs_notebook.sources.evaluations import DEFAULT_EVAL_FILTER
from mlobs_notebook.times import Granularity, human

__all__ = ["MetricRequest", "after_training", "resolve_metric"]

_PREDICTIONS_FLAGS = "--predictions URI --prediction-column COL --label-column COL"


@dataclass(frozen=True)
class MetricRequest:
    """What the caller asked for: the metric and where to read it (see the module docstring)."""

    metric: str = "auc"
    eval_filter: str | None = DEFAULT_EVAL_FILTER
    date_from: str = "start_time"
    metric_run: str | None = None
    predictions: Any = None
    prediction_column: str | None = None
    label_column: str | None = None
    predictions_time_column: str | None = None
    threshold: float = 0.5
    profile_metrics: Any = None
    monitor_slice: Any = None


def resolve_metric(
    record: ModelVersionRecord, request: MetricRequest, *, time_column: str, granularity: Granularity,
    zone: str, time_format: str | None, current_columns: list[str] | None = None,
) -> tuple[pl.DataFrame, MetricSource]:
    """The metric per window (``window_start`` in ``zone``, ``value``, ``run_id``, ``points``,
    and for a predictions log ``labelled_rows`` and ``rows``) and where it came from."""
    from mlobs_notebook.sources.evaluations import evaluation_points, history_points

    r = request
    if r.profile_metrics is not None:
        from mlobs_notebook.investigation.monitor import monitored_metric
        from mlobs_notebook.sources.metric_names import higher_is_better

        points, notes = monitored_metric(r.profile_metrics, r.metric, granularity, r.monitor_slice)
        described = f"the {r.metric} column of the Databricks profile metrics table {r.profile_metrics}"
        source = MetricSource("profile_metrics", r.metric, described, higher_is_better=higher_is_better(r.metric),
                              notes=tuple(notes))
        return align_metric(points, granularity, zone), source
    if r.predictions is not None:
        return _predictions(r, time_column, granularity, zone, time_format)
    if r.prediction_column:
        raise InputError(f"--prediction-column reads a predictions log: pass it with {_PREDICTIONS_FLAGS}")
    if r.metric_run is not None:
        history_date = "metric_timestamp" if r.date_from == "start_time" else r.date_from
        points, source = history_points(record, r.metric_run, r.metric, history_date, granularity=granularity)
        return align_metric(points, granularity, zone), source
    if r.eval_filter != DEFAULT_EVAL_FILTER:
        points, source = evaluation_points(record, r.metric, r.eval_filter or None, r.date_from)
        if points.height == 0:
            where = f"the runs matching {r.eval_filter!r}" if r.eval_filter else "any run of its experiment"
            raise InputError(_nothing(record, r, current_columns, tried=[where]))
        return align_metric(points, granularity, zone), source
    points, source = evaluation_points(record, r.metric, DEFAULT_EVAL_FILTER, r.date_from)
    tried = [f"the runs matching {DEFAULT_EVAL_FILTER!r}"]
    if points.height == 0:
        from mlobs_notebook.sources.model_metrics import logged_model_points

        model_date = "metric_timestamp" if r.date_from == "start_time" else r.date_from
        found = logged_model_points(record, r.metric, model_date)
        if found is not None and found[0].height:
            points, source = found
        else:
            if record.logged_model_id:
                tried.append(f"the metrics of its LoggedModel {record.logged_model_id}")
            points, source = evaluation_points(record, r.metric, None, r.date_from)
            tried.append("any other run of its experiment")
        if points.height == 0:
            raise InputError(_nothing(record, r, current_columns, tried))
        note = f"no run matched the default filter {DEFAULT_EVAL_FILTER!r}, so {source.description}"
        source = replace(source, notes=(note, *source.notes))
    return align_metric(points, granularity, zone), source


def after_training(
    series: pl.DataFrame, source: MetricSource, trained_until: datetime | None, granularity: Granularity
) -> tuple[pl.DataFrame, MetricSource]:
    """The windows that end after the training data does: an evaluation of earlier data is not one
    of this model in production (a previous version's, or a backtest), and must not set the
    reference level. The source notes how many were left out."""
    if trained_until is None or series.height == 0:
        return series, source
    keep = [granularity.add(w, 1) > trained_until for w in series["window_start"]]
    dropped = len(keep) - sum(keep)
    if not dropped:
        return series, source
    note = (f"{dropped} window(s) of {source.metric} before the training data ends ({human(trained_until)}) "
            "were left out: they cannot evaluate this model in production")
    return series.filter(pl.Series(keep)), replace(source, notes=(*source.notes, note))


def _predictions(r: MetricRequest, time_column: str, granularity: Granularity, zone: str,
                 time_format: str | None) -> tuple[pl.DataFrame, MetricSource]:
    from mlobs_notebook.sources.predictions import prediction_series

    missing = [flag for flag, value in (("--prediction-column", r.prediction_column), ("--label-column", r.label_column))
               if not value]
    if missing:
        raise InputError(f"a predictions log needs {' and '.join(missing)}: {_PREDICTIONS_FLAGS}")
    assert r.prediction_column is not None and r.label_column is not None
    if isinstance(r.predictions, str | Path | SourceRef):
        from mlobs_notebook.sources.tables import load_current

        log = load_current(r.predictions)
        name = r.predictions.uri if isinstance(r.predictions, SourceRef) else str(r.predictions)
    else:
        from mlobs_notebook.investigation.inputs import lazy_frame

        log, name = lazy_frame(r.predictions, "predictions"), f"the predictions log <{type(r.predictions).__name__}>"
    return prediction_series(
        log, prediction_column=r.prediction_column, label_column=r.label_column,
        time_column=r.predictions_time_column or time_column, metric=r.metric, granularity=granularity,
        zone=zone, threshold=r.threshold, time_format=time_format, source=name,
    )


def _nothing(record: ModelVersionRecord, r: MetricRequest, current_columns: list[str] | None, tried: list[str]) -> str:
    """No value of the metric anywhere: what was looked at, what the store holds, the flags."""
    held = _metrics_logged(record)
    listed = ", ".join(f"{name} ({n} run{'s' if n > 1 else ''})" for name, n in held.most_common(12)) or "none"
    text = (
        f"no evaluation of metric {r.metric!r} for {record.name or record.run_id}: none in {'; nor in '.join(tried)}. "
        f"Metrics the other runs of its experiment logged: {listed}. Pass --metric with the name logged, "
        "--eval-filter with the filter that finds the evaluation runs (\"\" for none), --metric-run RUN_ID for one "
        f"run's history, or a predictions log with {_PREDICTIONS_FLAGS}"
    )
    scores, labels = _prediction_columns(current_columns or [])
    if scores:
        text += (f" (the current data has {', '.join(repr(c) for c in scores)}"
                 + (f" and {', '.join(repr(c) for c in labels)}" if labels else "")
                 + ": if they hold the model's predictions and labels, pass it with --predictions)")
    return text


def _metrics_logged(record: ModelVersionRecord) -> Counter[str]:
    from mlobs_notebook.sources.mlflow_access import connect, mlflow_errors

    client, uri = connect(record.tracking_uri)
    with mlflow_errors(uri):
        runs = client.search_runs([record.experiment_id], "", max_results=1000) if record.experiment_id else []
    return Counter(name for run in runs if run.info.run_id != record.run_id for name in run.data.metrics)


def _prediction_columns(columns: list[str]) -> tuple[list[str], list[str]]:
    """Columns named like a model's output, and like a label."""
    scores = [c for c in columns if any(w in c.lower() for w in ("prediction", "predicted", "score", "proba"))]
    labels = [c for c in columns if c not in scores and (
        any(w in c.lower() for w in ("label", "target", "outcome")) or c.lower().startswith(("is_", "has_")) or c == "y")]
    return scores, labels
