"""Evaluation runs in MLflow: a model's metric over time, and the runs that would beat it.

``metric_series`` turns evaluation runs (one MLflow run per scoring of the production model, found
by a filter such as ``tags.env = 'production'``) into one value per window (a day by default).
When several runs fall in the same window, the last one wins: the one with the latest time (its
start time, or the time ``date_from`` names), ties broken by run id. A re-run of a day's
evaluation therefore replaces the earlier one, which is what a dashboard of "the AUC on that day"
means. Times are aware UTC (:mod:`mlobs_notebook.times`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from mlobs_notebook.correlate import align_metric
from mlobs_notebook.errors import InputError
from mlobs_notebook.records import ModelVersionRecord
from mlobs_notebook.sources.mlflow_access import connect, experiment_id, get_run, mlflow_errors
from mlobs_notebook.sources.models import as_record
from mlobs_notebook.times import Granularity, from_epoch_ms, to_utc

__all__ = ["metric_series", "promotion_candidates"]

PAGE_SIZE = 1000
# one metric point per run (or per logged value of a run's history), before windows
POINTS_SCHEMA = {"time": pl.Datetime("us", "UTC"), "value": pl.Float64(), "run_id": pl.String(), "step": pl.Int64()}


def metric_series(
    model: ModelVersionRecord | str,
    metric: str = "auc",
    filter_string: str | None = "tags.env = 'production'",
    date_from: str = "start_time",
    run_id: str | None = None,
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    granularity: Granularity | str | None = "1d",
) -> pl.DataFrame:
    """The model's ``metric`` over time, one value per window of ``granularity``.

    Runs come from the model's experiment (or ``experiment``, a name or id), filtered by
    ``filter_string``, read through every page. ``date_from`` says which time a run belongs to:
    ``start_time``, ``end_time``, ``metric_timestamp`` (when the metric was logged), or a tag or
    param holding an ISO date or datetime (``tags.eval_date``). With ``run_id``, the series is that
    run's own history of the metric instead (each value dated by its timestamp).

    Returns ``window_start`` (aware UTC), ``value``, ``run_id`` and ``points`` (how many values fell
    in the window; the last one is kept), sorted by window. ``granularity=None`` returns every
    point instead: ``time``, ``value``, ``run_id``, ``step`` (a history's step; an evaluation run's
    start time in epoch milliseconds, which breaks ties between runs dated the same).
    """
    record = as_record(model, tracking_uri)
    client, uri = connect(tracking_uri or record.tracking_uri)
    with mlflow_errors(uri):
        if run_id is not None:
            get_run(client, run_id)
            history = client.get_metric_history(run_id, metric)
            rows = [(from_epoch_ms(m.timestamp), float(m.value), run_id, int(m.step)) for m in history]
        else:
            found = experiment_id(client, uri, experiment) if experiment else record.experiment_id
            if found is None:
                raise InputError(f"{record.uri} names no experiment; pass experiment= (--experiment)")
            experiment_ids = [found]
            rows = []
            for run in _search_all(client, experiment_ids, filter_string, metric):
                value = run.data.metrics.get(metric)
                when = _run_time(run, metric, date_from) if value is not None else None
                if when is not None:
                    rows.append((when, float(value), run.info.run_id, int(run.info.start_time or 0)))
    points = pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row").sort("time", "step", "run_id")
    if granularity is None:
        return points
    # same window, same time (a tag naming only a day): the run started last wins ("step" holds
    # a run's start time)
    return align_metric(points, granularity)


def promotion_candidates(
    experiment: str,
    metric: str,
    baseline_value: float | ModelVersionRecord,
    min_improvement: float = 0.02,
    filter_string: str | None = None,
    tracking_uri: str | None = None,
    *,
    greater_is_better: bool = True,
) -> pl.DataFrame:
    """Runs of ``experiment`` whose ``metric`` beats the baseline by ``min_improvement``, best first.

    ``baseline_value`` is the production model's value, or its record (its run's ``metric`` is
    used). ``min_improvement`` is absolute (0.02 AUC). Columns: run_id, run_name, value,
    improvement, start_time, status.
    """
    if isinstance(baseline_value, ModelVersionRecord):
        if metric not in baseline_value.metrics:
            raise InputError(
                f"the baseline run {baseline_value.run_id} has no metric {metric!r}. Its metrics: "
                f"{', '.join(sorted(baseline_value.metrics)) or 'none'}"
            )
        tracking_uri = tracking_uri or baseline_value.tracking_uri
        baseline_value = baseline_value.metrics[metric]
    baseline = float(baseline_value)
    threshold = baseline + min_improvement if greater_is_better else baseline - min_improvement
    clause = f"metrics.`{metric}` {'>=' if greater_is_better else '<='} {threshold!r}"
    combined = f"{clause} and {filter_string}" if filter_string else clause
    client, uri = connect(tracking_uri)
    with mlflow_errors(uri):
        found = experiment_id(client, uri, experiment)
        order = [f"metrics.`{metric}` {'DESC' if greater_is_better else 'ASC'}"]
        runs = _search_all(client, [found], combined, metric, order_by=order)
    rows = [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "value": float(run.data.metrics[metric]),
            "improvement": (float(run.data.metrics[metric]) - baseline)
            * (1 if greater_is_better else -1),
            "start_time": from_epoch_ms(run.info.start_time),
            "status": run.info.status,
        }
        for run in runs
    ]
    schema = {"run_id": pl.String(), "run_name": pl.String(), "value": pl.Float64(),
              "improvement": pl.Float64(), "start_time": pl.Datetime("us", "UTC"), "status": pl.String()}
    return pl.DataFrame(rows, schema=schema).sort(
        ["improvement", "run_id"], descending=[True, False]
    )


def _search_all(
    client: Any, experiment_ids: list[str], filter_string: str | None, metric: str,
    order_by: list[str] | None = None,
) -> list[Any]:
    runs: list[Any] = []
    token = None
    while True:
        try:
            page = client.search_runs(
                experiment_ids, filter_string or "", max_results=PAGE_SIZE, order_by=order_by,
                page_token=token,
            )
        except Exception as exc:
            if getattr(exc, "error_code", "") == "INVALID_PARAMETER_VALUE":
                raise InputError(
                    f"MLflow rejected the run filter {filter_string!r} (metric {metric!r}): "
                    f"{str(exc).splitlines()[0]}"
                ) from exc
            raise
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def _run_time(run: Any, metric: str, date_from: str) -> datetime | None:
    if date_from == "start_time":
        return from_epoch_ms(run.info.start_time)
    if date_from == "end_time":
        return from_epoch_ms(run.info.end_time)
    if date_from == "metric_timestamp":
        # Run.data keeps the Metric objects (with timestamps) only privately
        stamps = [m.timestamp for m in getattr(run.data, "_metric_objs", []) if m.key == metric]
        return from_epoch_ms(max(stamps)) if stamps else None
    kind, _, key = date_from.partition(".")
    if kind in ("tags", "params") and key:
        raw = (run.data.tags if kind == "tags" else run.data.params).get(key)
        return _parse_when(raw, date_from, run.info.run_id) if raw is not None else None
    raise InputError(
        f"date_from={date_from!r} is not a run time. Use start_time, end_time, metric_timestamp, "
        "tags.<name> or params.<name> (an ISO date or datetime)"
    )


def _parse_when(raw: str, where: str, run_id: str) -> datetime:
    return to_utc(raw, f"run {run_id}: {where}")

