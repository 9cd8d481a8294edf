"""Metric series from MLflow runs: evaluation runs found by a filter, or one run's history.

``metric_series`` turns evaluation runs (one MLflow run per scoring of the production model, found
by a filter such as ``tags.env = 'production'``) into one value per window (a day by default).
When several runs fall in the same window, the last one wins: the one with the latest time (its
start time, or the time ``date_from`` names), ties broken by run id. A re-run of a day's
evaluation therefore replaces the earlier one, which is what a dashboard of "the AUC on that day"
means. Times are aware UTC (:mod:`mlobs_notebook.times`).

The point readers (:func:`evaluation_points`, :func:`history_points`) also say where the points
came from (a :class:`~mlobs_notebook.records.MetricSource`) and, when the store shows a better way
to date them, which flag: evaluation runs logged by a backfill all start "now", and a tag or param
holding each run's day (``tags.eval_date``) is found and named; a monitoring run that logged the
metric as a history is found and named for ``--metric-run``. The model's own training run is never
an evaluation; with no run filter, neither is any run that logged a model (a training run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from mlobs_notebook.correlate import align_metric
from mlobs_notebook.errors import InputError, UnknownMetric
from mlobs_notebook.records import MetricSource, ModelVersionRecord
from mlobs_notebook.sources.metric_names import higher_is_better, pick
from mlobs_notebook.sources.mlflow_access import connect, experiment_id, get_run, mlflow_errors
from mlobs_notebook.sources.models import as_record
from mlobs_notebook.times import Granularity, from_epoch_ms, human, to_utc

__all__ = ["DEFAULT_EVAL_FILTER", "evaluation_points", "history_points", "metric_series", "promotion_candidates"]

DEFAULT_EVAL_FILTER = "tags.env = 'production'"
PAGE_SIZE = 1000
# one metric point per run (or per logged value of a run's history), before windows
POINTS_SCHEMA: dict[str, pl.DataType] = {
    "time": pl.Datetime("us", "UTC"), "value": pl.Float64(), "run_id": pl.String(), "step": pl.Int64()}
_RUN_TIMES = ("start_time", "end_time", "metric_timestamp")
# a run with a history is looked for only among this few matched runs (one call each)
_HISTORY_PROBES = 3


def metric_series(
    model: ModelVersionRecord | str,
    metric: str = "auc",
    filter_string: str | None = DEFAULT_EVAL_FILTER,
    date_from: str = "start_time",
    run_id: str | None = None,
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    granularity: Granularity | str | None = "1d",
) -> pl.DataFrame:
    """The model's ``metric`` over time, one value per window of ``granularity``.

    Runs come from the model's experiment (or ``experiment``, a name or id), filtered by
    ``filter_string`` (None or ``""``: every run), read through every page. ``date_from`` says
    which time a run belongs to: ``start_time``, ``end_time``, ``metric_timestamp`` (when the
    metric was logged), or a tag or param holding an ISO date or datetime (``tags.eval_date``).
    With ``run_id``, the series is that run's own history of the metric instead (each value dated
    by its timestamp, or by ``step:<date of step 0>``, one window per step).

    Returns ``window_start`` (aware UTC), ``value``, ``run_id`` and ``points`` (how many values fell
    in the window; the last one is kept), sorted by window. ``granularity=None`` returns every
    point instead: ``time``, ``value``, ``run_id``, ``step`` (a history's step; an evaluation run's
    start time in epoch milliseconds, which breaks ties between runs dated the same).
    """
    if run_id is not None:
        history_date = "metric_timestamp" if date_from == "start_time" else date_from
        points, _ = history_points(model, run_id, metric, history_date, granularity=granularity or "1d",
                                   tracking_uri=tracking_uri)
    else:
        points, _ = evaluation_points(model, metric, filter_string, date_from, experiment=experiment,
                                      tracking_uri=tracking_uri)
    if granularity is None:
        return points
    # same window, same time (a tag naming only a day): the run started last wins ("step" holds
    # a run's start time)
    return align_metric(points, granularity)


def evaluation_points(
    model: ModelVersionRecord | str,
    metric: str = "auc",
    filter_string: str | None = DEFAULT_EVAL_FILTER,
    date_from: str = "start_time",
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
) -> tuple[pl.DataFrame, MetricSource]:
    """One point per evaluation run holding ``metric`` (or, when no run does, one of its other
    names: ``roc_auc`` for ``auc``), dated by ``date_from``; and where they came from."""
    _check_date_from(date_from)
    record = as_record(model, tracking_uri)
    client, uri = connect(tracking_uri or record.tracking_uri)
    with mlflow_errors(uri):
        found = experiment_id(client, uri, experiment) if experiment else record.experiment_id
        experiment_ids = [found] if found else []
        runs = [r for r in _search_all(client, experiment_ids, filter_string, metric) if r.info.run_id != record.run_id]
        trainings = [] if filter_string else [r for r in runs if _logged_a_model(r)]
        runs = [r for r in runs if r not in trainings]
        name = _present(metric, (set(r.data.metrics) for r in runs))
        scored = [r for r in runs if name in r.data.metrics]
        rows = []
        for run in scored:
            when = _run_time(run, name, date_from)
            if when is not None:
                rows.append((when, float(run.data.metrics[name]), run.info.run_id, int(run.info.start_time or 0)))
        if scored and not rows and date_from.startswith(("tags.", "params.")):
            kind, _, key = date_from.partition(".")
            held = sorted({k for r in scored for k in (r.data.tags if kind == "tags" else r.data.params)
                           if not k.startswith("mlflow.")})
            raise InputError(
                f"--date-from {date_from}: none of the {len(scored)} run(s) with metric {name!r} has the "
                f"{kind[:-1]} {key!r}; their {kind}: {', '.join(held) or 'none'}"
            )
        points = pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row").sort("time", "step", "run_id")
        hint, flag = _date_hint(scored, name, date_from, points)
        if hint is None and 0 < len(scored) <= _HISTORY_PROBES:
            hint, flag = _history_hint(client, scored, name)
    where = f"experiment {experiment!r}" if experiment else f"the experiment of {_who(record)}"
    described = (
        f"{len(scored)} evaluation run(s) of {where} "
        + (f"matching {filter_string!r}" if filter_string else "(no run filter)")
        + f" with metric {name!r}, dated by {date_from}"
        + (f" ({metric!r} was not logged; {name!r} is its other name)" if name != metric else "")
    )
    notes = (f"with no run filter, {len(trainings)} run(s) that logged a model (training runs, not "
             "evaluations) were left out",) if trainings else ()
    return points, MetricSource("evaluation_runs", name, described, date_from, hint, flag,
                                higher_is_better=higher_is_better(name), notes=notes)


def history_points(
    model: ModelVersionRecord | str,
    run_id: str,
    metric: str = "auc",
    date_from: str = "metric_timestamp",
    *,
    granularity: Granularity | str = "1d",
    tracking_uri: str | None = None,
) -> tuple[pl.DataFrame, MetricSource]:
    """Every value one run logged for ``metric`` (``mlflow.log_metric(..., step=i)``), dated by
    its timestamp (``metric_timestamp``) or by its step (``step:<date of step 0>``: step ``i`` is
    the ``i``-th window of ``granularity`` from that date)."""
    step_start = _step_start(date_from)
    record = as_record(model, tracking_uri)
    client, uri = connect(tracking_uri or record.tracking_uri)
    with mlflow_errors(uri):
        run = get_run(client, run_id, "pass --metric-run the id of the run that logged the metric's history")
        name = pick(metric, set(run.data.metrics)) or metric
        history = client.get_metric_history(run_id, name)
    if not history:
        raise UnknownMetric(
            f"run {run_id} logged no metric {metric!r}. Its metrics: {', '.join(sorted(run.data.metrics)) or 'none'}"
        )
    if step_start is None:
        rows = [(from_epoch_ms(m.timestamp), float(m.value), run_id, int(m.step)) for m in history]
    else:
        step = Granularity.parse(granularity)
        rows = [(step.add(step_start, int(m.step)), float(m.value), run_id, int(m.step)) for m in history]
    points = pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row").sort("time", "step", "run_id")
    days = points["time"].dt.date().n_unique()
    steps = points["step"].n_unique()
    hint = flag = None
    if step_start is None and days == 1 and steps > 1:
        first: datetime = points["time"].min()  # type: ignore[assignment]
        lo, hi = points["step"].min(), points["step"].max()
        hint = (f"its {points.height} values were all logged on {human(first)} (steps {lo!s}..{hi!s}); if each "
                "step is one window, date them with --date-from step:<date of step 0>")
        flag = "--date-from step:<date of step 0>"
    dated = "its values' timestamps" if step_start is None else f"step, step 0 = {human(step_start)}"
    described = (f"the history of run {run_id} ({run.info.run_name or 'unnamed'}): {points.height} values of "
                 f"{name!r}, dated by {dated}" + (f" ({metric!r} was not logged)" if name != metric else ""))
    return points, MetricSource("run_history", name, described, date_from, hint, flag,
                                higher_is_better=higher_is_better(name))


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
    schema: dict[str, pl.DataType] = {
        "run_id": pl.String(), "run_name": pl.String(), "value": pl.Float64(), "improvement": pl.Float64(),
        "start_time": pl.Datetime("us", "UTC"), "status": pl.String()}
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


def _check_date_from(date_from: str) -> None:
    kind, _, key = date_from.partition(".")
    if date_from in _RUN_TIMES or (kind in ("tags", "params") and key):
        return
    raise InputError(
        f"date_from={date_from!r} is not a run time. Use start_time, end_time, metric_timestamp, "
        "tags.<name> or params.<name> (an ISO date or datetime)"
    )


def _step_start(date_from: str) -> datetime | None:
    if date_from == "metric_timestamp":
        return None
    if date_from.startswith("step:"):
        return to_utc(date_from[len("step:"):], "the date of step 0 (--date-from step:<date>)")
    raise InputError(
        f"date_from={date_from!r} cannot date one run's history: use metric_timestamp (each value's "
        "timestamp) or step:<ISO date of step 0> (one window per step)"
    )


def _present(metric: str, names: Iterable[set[str]]) -> str:
    """The name some run logged ``metric`` under (:func:`~mlobs_notebook.sources.metric_names.pick`)."""
    logged: set[str] = set().union(*names)
    return pick(metric, logged) or metric


def _logged_a_model(run: Any) -> bool:
    """Whether a run logged a model: MLflow 3's model outputs, or MLflow 2's log-model tag."""
    outputs = getattr(run, "outputs", None)
    return bool(getattr(outputs, "model_outputs", None)) or "mlflow.log-model.history" in run.data.tags


def _who(record: ModelVersionRecord) -> str:
    return f"model {record.name!r}" if record.name else f"run {record.run_id}"


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
    raw = (run.data.tags if kind == "tags" else run.data.params).get(key)
    return to_utc(raw, f"run {run.info.run_id}: {date_from}") if raw is not None else None


def _date_hint(runs: Sequence[Any], metric: str, date_from: str, points: pl.DataFrame) -> tuple[str | None, str | None]:
    """A time that spreads the runs over more days than ``date_from`` does (a backfill's runs all
    start "now"): the metric's own timestamps, or a tag or param holding a date; as a sentence
    naming ``--date-from``."""
    if len(runs) < 2:
        return None, None
    now_days = points["time"].dt.date().n_unique() if points.height else 0
    best: tuple[int, str, list[datetime]] | None = None
    if date_from != "metric_timestamp":
        stamps = [_run_time(r, metric, "metric_timestamp") for r in runs]
        dates = [d for d in stamps if d is not None]
        spread = len({d.date() for d in dates})
        if spread > max(now_days, 1):
            best = (spread, "metric_timestamp", dates)
    for kind in ("tags", "params"):
        keys = {k for r in runs for k in getattr(r.data, kind) if not k.startswith("mlflow.")}
        for key in sorted(keys):
            name = f"{kind}.{key}"
            if name == date_from:
                continue
            values = [getattr(r.data, kind).get(key) for r in runs]
            if sum(v is not None for v in values) < 0.8 * len(runs):
                continue
            try:
                dates = [to_utc(v, name) for v in values if v is not None]
            except InputError:
                continue
            spread = len({d.date() for d in dates})
            if spread > max(now_days, 1) and (best is None or spread > best[0]):
                best = (spread, name, dates)
    if best is None:
        return None, None
    spread, name, dates = best
    return (
        f"{name} holds {spread} different dates ({human(min(dates).date())} .. {human(max(dates).date())}) "
        f"across these {len(runs)} runs, which {date_from} puts on {now_days} date(s): date them by it "
        f"with --date-from {name}",
        f"--date-from {name}",
    )


def _history_hint(client: Any, runs: Sequence[Any], metric: str) -> tuple[str | None, str | None]:
    """A matched run that logged ``metric`` many times (a monitoring run's daily steps)."""
    for run in runs:
        history = client.get_metric_history(run.info.run_id, metric)
        if len(history) > 1:
            steps = sorted(int(m.step) for m in history)
            return (
                f"run {run.info.run_id} ({run.info.run_name or 'unnamed'}) logged {metric!r} {len(history)} "
                f"times (steps {steps[0]}..{steps[-1]}), but only its last value counts as an evaluation: "
                f"read its history with --metric-run {run.info.run_id}",
                f"--metric-run {run.info.run_id}",
            )
    return None, None
