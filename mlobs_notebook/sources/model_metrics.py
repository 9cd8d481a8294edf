"""Metrics MLflow 3 logs on the model itself: the LoggedModel's metrics.

``mlflow.log_metric(name, value, model_id=...)`` and ``mlflow.models.evaluate(model_uri, ...)``
(which logs ``roc_auc``, ``f1_score`` ... for a ``models:/m-...`` model) attach each value to the
LoggedModel as well as to the run that logged it. Each value keeps its timestamp, step and run, so
the model's metric over time is read without any run filter. Values the training run itself logged
(validation at training time) are left out: they are not production evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from mlobs_notebook.errors import InputError
from mlobs_notebook.records import MetricSource, ModelVersionRecord
from mlobs_notebook.sources.evaluations import POINTS_SCHEMA
from mlobs_notebook.sources.metric_names import higher_is_better, pick
from mlobs_notebook.sources.mlflow_access import connect, is_missing, mlflow_errors
from mlobs_notebook.times import from_epoch_ms, to_utc

__all__ = ["logged_model_points"]

_CHUNK = 100  # run ids per search_runs filter


def logged_model_points(
    model: ModelVersionRecord, metric: str = "auc", date_from: str = "metric_timestamp"
) -> tuple[pl.DataFrame, MetricSource] | None:
    """The LoggedModel's values of ``metric`` (or of one of its other names, ``roc_auc`` for
    ``auc``), dated by ``date_from``: ``metric_timestamp`` (each value's own), or the logging run's
    ``start_time``, ``end_time``, ``tags.<name>`` or ``params.<name>``. None when the model has no
    LoggedModel or it holds no such metric."""
    if not model.logged_model_id:
        return None
    client, uri = connect(model.tracking_uri)
    with mlflow_errors(uri):
        try:
            logged = client.get_logged_model(model.logged_model_id)
        except Exception as exc:
            if is_missing(exc):
                return None
            raise
        values = list(logged.metrics or [])
        logged_names = {m.key for m in values}
        name = pick(metric, logged_names)
        if name is None:
            return None
        mine = [m for m in values if m.key == name and m.run_id != model.run_id]
        training = sum(1 for m in values if m.key == name and m.run_id == model.run_id)
        runs = _runs(client, {m.run_id for m in mine if m.run_id}, [model.experiment_id, logged.experiment_id]) \
            if date_from != "metric_timestamp" else {}
    rows = []
    for m in mine:
        when = from_epoch_ms(m.timestamp) if date_from == "metric_timestamp" else _run_time(runs.get(m.run_id), date_from)
        if when is not None:
            rows.append((when, float(m.value), m.run_id, int(m.timestamp or 0)))
    points = pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row").sort("time", "step", "run_id")
    described = (
        f"the LoggedModel {model.logged_model_id}'s metric {name!r}: {len(mine)} value(s) logged with "
        f"model_id (mlflow.log_metric or mlflow.models.evaluate), dated by {date_from}"
        + (f" ({metric!r} was not logged; {name!r} is its other name)" if name != metric else "")
    )
    notes = (f"{training} value(s) logged by the training run itself were left out",) if training else ()
    return points, MetricSource("logged_model", name, described, date_from,
                                higher_is_better=higher_is_better(name), notes=notes)


def _runs(client: Any, run_ids: set[str], experiment_ids: Sequence[str | None]) -> dict[str, Any]:
    ids = sorted(run_ids)
    experiments = sorted({e for e in experiment_ids if e})
    found: dict[str, Any] = {}
    for i in range(0, len(ids), _CHUNK):
        quoted = ", ".join(f"'{r}'" for r in ids[i:i + _CHUNK])
        for run in client.search_runs(experiments, f"attributes.run_id IN ({quoted})", max_results=_CHUNK):
            found[run.info.run_id] = run
    for run_id in set(ids) - set(found):  # logged from another experiment
        found[run_id] = client.get_run(run_id)
    return found


def _run_time(run: Any, date_from: str) -> Any:
    if run is None:
        return None
    if date_from == "start_time":
        return from_epoch_ms(run.info.start_time)
    if date_from == "end_time":
        return from_epoch_ms(run.info.end_time)
    kind, _, key = date_from.partition(".")
    if kind not in ("tags", "params") or not key:
        raise InputError(
            f"date_from={date_from!r} cannot date a LoggedModel's metrics: use metric_timestamp, "
            "start_time, end_time, tags.<name> or params.<name>"
        )
    raw = (run.data.tags if kind == "tags" else run.data.params).get(key)
    return to_utc(raw, f"run {run.info.run_id}: {date_from}") if raw is not None else None
