"""Evaluation runs in MLflow: a model's metric over time, and the runs that would beat it.

``metric_series`` turns evaluation runs (one MLflow run per scoring of the production model, found
by a filter such as ``tags.env = 'production'``) into one value per day. When several runs fall on
the same day, the last one wins: the one with the latest timestamp (its start time, or the time
``date_from`` names), ties broken by run id. A re-run of a day's evaluation therefore replaces the
earlier one, which is what a dashboard of "the AUC on that day" means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from ._mlflow import connect, mlflow_errors
from .errors import ExperimentNotFound, InputError
from .models import ModelVersionRecord, _as_record, _get_run

__all__ = ["metric_series", "promotion_candidates"]

PAGE_SIZE = 1000
_SERIES_SCHEMA = {"date": pl.Date, "value": pl.Float64, "run_id": pl.String}


def metric_series(
    model: ModelVersionRecord | str,
    metric: str = "auc",
    filter_string: str | None = "tags.env = 'production'",
    date_from: str = "start_time",
    run_id: str | None = None,
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
) -> pl.DataFrame:
    """One value of ``metric`` per day, as a frame (date, value, run_id) sorted by date.

    Runs come from the model's experiment (or ``experiment``, a name or id), filtered by
    ``filter_string``, read through every page. ``date_from`` says which time a run belongs to:
    ``start_time``, ``end_time``, ``metric_timestamp`` (when the metric was logged), or a tag or
    param holding an ISO date (``tags.eval_date``). With ``run_id``, the series is that run's own
    history of the metric instead (dated by each value's timestamp). When several runs (or
    values) fall on one day, the last wins: latest time, then latest start time, then run id.
    """
    record = _as_record(model, tracking_uri)
    client, uri = connect(tracking_uri or record.tracking_uri)
    with mlflow_errors(uri):
        if run_id is not None:
            _get_run(client, run_id)
            history = client.get_metric_history(run_id, metric)
            rows = [(_ms_to_datetime(m.timestamp), m.step, run_id, float(m.value)) for m in history]
        else:
            experiment_id = _experiment_id(client, uri, experiment) if experiment else record.experiment_id
            rows = []
            for run in _search_all(client, [experiment_id], filter_string, metric):
                value = run.data.metrics.get(metric)
                when = _run_time(run, metric, date_from) if value is not None else None
                if when is not None:
                    # same time (a tag naming only a day): the run started last wins
                    rows.append((when, run.info.start_time or 0, run.info.run_id, float(value)))
    if not rows:
        return pl.DataFrame(schema=_SERIES_SCHEMA)
    frame = pl.DataFrame(
        rows, schema={"when": pl.Datetime("us", "UTC"), "order": pl.Int64, "run_id": pl.String,
                      "value": pl.Float64},
        orient="row",
    )
    return (
        frame.sort("when", "order", "run_id")
        .with_columns(pl.col("when").dt.date().alias("date"))
        .group_by("date", maintain_order=True)
        .last()
        .select("date", "value", "run_id")
        .sort("date")
    )


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
        experiment_id = _experiment_id(client, uri, experiment)
        order = [f"metrics.`{metric}` {'DESC' if greater_is_better else 'ASC'}"]
        runs = _search_all(client, [experiment_id], combined, metric, order_by=order)
    rows = [
        {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "value": float(run.data.metrics[metric]),
            "improvement": (float(run.data.metrics[metric]) - baseline)
            * (1 if greater_is_better else -1),
            "start_time": _ms_to_datetime(run.info.start_time),
            "status": run.info.status,
        }
        for run in runs
    ]
    schema = {"run_id": pl.String, "run_name": pl.String, "value": pl.Float64,
              "improvement": pl.Float64, "start_time": pl.Datetime("us", "UTC"), "status": pl.String}
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


def _experiment_id(client: Any, uri: str, experiment: str) -> str:
    found = client.get_experiment_by_name(str(experiment))
    if found is None and str(experiment).isdigit():
        try:
            found = client.get_experiment(str(experiment))
        except Exception as exc:  # noqa: BLE001 - reported below with the known names
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise
    if found is None:
        known = sorted(e.name for e in client.search_experiments(max_results=100))
        raise ExperimentNotFound(
            f"no MLflow experiment {experiment!r} in {uri}. Experiments: {', '.join(known) or 'none'}"
        )
    return found.experiment_id


def _run_time(run: Any, metric: str, date_from: str) -> datetime | None:
    if date_from == "start_time":
        return _ms_to_datetime(run.info.start_time)
    if date_from == "end_time":
        return _ms_to_datetime(run.info.end_time)
    if date_from == "metric_timestamp":
        # Run.data keeps the Metric objects (with timestamps) only privately
        stamps = [m.timestamp for m in getattr(run.data, "_metric_objs", []) if m.key == metric]
        return _ms_to_datetime(max(stamps)) if stamps else None
    kind, _, key = date_from.partition(".")
    if kind in ("tags", "params") and key:
        raw = (run.data.tags if kind == "tags" else run.data.params).get(key)
        return _parse_when(raw, date_from, run.info.run_id) if raw is not None else None
    raise InputError(
        f"date_from={date_from!r} is not a run time. Use start_time, end_time, metric_timestamp, "
        "tags.<name> or params.<name> (an ISO date or datetime)"
    )


def _parse_when(raw: str, where: str, run_id: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InputError(
            f"run {run_id}: {where} = {raw!r} is not an ISO date or datetime"
        ) from exc
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _ms_to_datetime(millis: int | None) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis else None

