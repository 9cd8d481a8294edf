"""``investigate_traces``: an LLM app's traces -> baseline -> drift -> lineage -> app versions -> verdict.

The same path as a tabular model's (:mod:`~mlobs_notebook.investigation.facade`), with an app's
sources: the features are the traces' (:mod:`mlobs_notebook.sources.traces`), the metric comes
from their assessments (:mod:`mlobs_notebook.sources.assessments`), the lineage searched is the
retriever index's pipeline (:mod:`~mlobs_notebook.investigation.index_evidence`), and the app's
own versions are a possible cause (:mod:`mlobs_notebook.sources.app_versions`,
:func:`~mlobs_notebook.diagnose.diagnose_app`).

**The baseline** is, in order: the traces of the run given as ``baseline``, or the traces in a
date range given as ``baseline``; else the traces of the ``mlflow.genai.evaluate`` run that
accepted the app version serving first (the latest such run started before its first trace);
else the first week of traces. **Current** traces are the others, evaluation runs' traces left
out. Windows of a few dozen traces make the PSI noisy: a window drifts only when its PSI passes the
threshold and a test says chance is unlikely (:mod:`mlobs_notebook.drift.significance`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from mlobs_notebook.correlate import (
    DEFAULT_PERSISTENCE,
    drift_onsets,
    drift_series,
    lagged_correlation,
    metric_drop,
)
from mlobs_notebook.diagnose import DEFAULT_LOOKBACK, diagnose_app
from mlobs_notebook.errors import InputError, NoTraces
from mlobs_notebook.investigation.clock import Clock, Progress
from mlobs_notebook.investigation.result import TRACES, Investigation
from mlobs_notebook.records import DatasetRecord, SourceRef
from mlobs_notebook.times import Granularity, human, range_bound, to_utc

__all__ = ["BASELINE_DAYS", "EVALUATION_RUN_TYPE", "investigate_traces"]

BASELINE_DAYS = 7  # the first week of traces, when no evaluation run accepted the app
EVALUATION_RUN_TYPE = "genai_evaluate"  # the run tag mlflow.runType that mlflow.genai.evaluate sets
MIN_CATEGORY_COUNT = 5  # the chi-squared rule of thumb: pool categories expected fewer times
TIME = "request_time"


def investigate_traces(
    traces: Any,
    lineage: Any = None,
    *,
    metric: str = "faithfulness",
    tracking_uri: str | None = None,
    baseline: Any = None,
    start: Any = None,
    end: Any = None,
    granularity: Granularity | str = "1d",
    span_attributes: Sequence[str] = (),
    lineage_dataset: Any = None,
    baseline_value: float | None = None,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    lookback: timedelta = DEFAULT_LOOKBACK,
    max_lag: int = 7,
    thresholds: Mapping[str, Any] | str | None = None,
    method: str = "auto",
    progress: Progress | None = None,
) -> Investigation:
    """Investigate an LLM app's ``metric`` from its traces; see the module docstring.

    ``traces``: an experiment name or id, a run id, ``models:/m-...``; ``start``/``end`` bound
    them. ``metric``: a feedback name on the traces (``faithfulness``), or ``error_rate`` or
    ``latency_p95``. ``baseline``: a run id, a ``(start, end)`` pair or ``"START..END"``.
    ``lineage``: the OpenLineage events of the index's pipeline (path, URL or LineageGraph);
    ``lineage_dataset`` names the index there when the traces' ``gen_ai.data_source.id`` does
    not. ``span_attributes``: further features (``SPAN:KEY``). Raises
    :class:`~mlobs_notebook.errors.NoTraces` naming the experiment when it holds no trace.
    """
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.drift.significance import require_significance
    from mlobs_notebook.sources.assessments import LOWER_IS_BETTER, metric_series
    from mlobs_notebook.sources.mlflow_access import connect
    from mlobs_notebook.sources.traces import read_traces

    step = Granularity.parse(granularity)
    clock = Clock(progress)
    client, uri = connect(tracking_uri)
    data = read_traces(traces, tracking_uri=uri, start=start, end=end, span_attributes=span_attributes, method=method)
    notes = list(data.notes)
    evaluations = _evaluation_runs(client, data.features)
    production = data.where(~pl.col("source_run").is_in(list(evaluations)).fill_null(False))
    if len(production) == 0:
        raise NoTraces(f"every trace of {data.scope.describe()} belongs to an evaluation run "
                       f"({', '.join(evaluations)}): there is no production traffic to investigate")
    clock.step("traces", 0.2)

    base, current, record = _baseline(client, uri, data, production, evaluations, baseline, notes)
    roles = {f: r for f, r in data.roles.items()
             if base.features[f].null_count() < len(base) and current.features[f].null_count() < len(current)}
    if left_out := sorted(set(data.roles) - set(roles)):
        notes.append(f"left out, empty in the baseline or the current traces: {', '.join(left_out)}")
    features = list(roles)
    report = require_significance(compute_drift(
        base.features.select(features), current.features.select(*features, TIME), time_column=TIME,
        granularity=step, thresholds=thresholds, min_category_count=MIN_CATEGORY_COUNT,
    ))
    notes += report.notes
    clock.step("drift", 0.45)

    series, series_notes = metric_series(production, metric, step, report.zone)
    if series.height == 0:
        raise InputError(f"no window of {step} holds enough production traces carrying {metric!r} in "
                         f"{data.scope.describe()}: {'; '.join(series_notes) or 'nothing to compare'}")
    notes += series_notes
    drifts = drift_series(report)
    onsets = tuple(drift_onsets(drifts, persistence))
    drop = metric_drop(series, metric, baseline_value=baseline_value, persistence=persistence,
                       higher_is_better=metric not in LOWER_IS_BETTER)
    correlations = {
        o.feature: lagged_correlation(drifts.filter(pl.col("feature") == o.feature), series, step, max_lag=max_lag)
        for o in onsets if o.onset is not None
    }
    clock.step("correlate", 0.6)

    evidence = None
    if lineage is not None:
        from mlobs_notebook.investigation.index_evidence import index_evidence

        index = lineage_dataset if lineage_dataset is not None else _index(current.features)
        retrieval = [o for o in onsets if roles.get(o.feature) == "retrieval"]
        evidence = index_evidence(lineage, index, lineage_dataset is None, retrieval, step, lookback)
        notes += evidence.notes
    else:
        notes.append("no lineage given: the retriever index's pipeline was not searched")
    clock.step("lineage", 0.75)

    from mlobs_notebook.sources.app_versions import app_changes, app_record

    changes, change_notes = app_changes(client, production.features)
    notes += change_notes
    diagnosis = diagnose_app(
        onsets, drop, evidence.changes if evidence else {}, changes,
        roles=roles, granularity=step,
        lookback=lookback, lineage_searched=evidence is not None and evidence.target is not None,
    )
    clock.step("diagnose", 1.0)
    times = current.features[TIME]
    return Investigation(
        model=app_record(client, uri, production.features, data.scope.experiment, data.scope.experiment_id),
        dataset=record, snapshot_check=None, features=tuple(features), time_column=TIME, granularity=step,
        current_source=f"{len(current)} traces of {data.scope.describe()}",
        current_range=(to_utc(times.min()), to_utc(times.max())), trained_until=None, drift=report,
        metric_name=metric, metric=series, onsets=onsets, drop=drop, correlations=correlations,
        lineage_dataset=str(evidence.target) if evidence is not None and evidence.target is not None else None,
        upstream=evidence.upstream if evidence else {}, diagnosis=diagnosis, notes=tuple(notes),
        zone=report.zone, timings=clock.timings, lineage=evidence.graph if evidence else None,
        app_changes=tuple(changes), feature_roles=roles,
    )


def _evaluation_runs(client: Any, features: pl.DataFrame) -> dict[str, Any]:
    """The source runs of these traces that ``mlflow.genai.evaluate`` made (tag mlflow.runType)."""
    from mlobs_notebook.sources.mlflow_access import is_missing

    out = {}
    for run_id in features["source_run"].drop_nulls().unique().sort().to_list():
        try:
            run = client.get_run(run_id)
        except Exception as exc:
            if not is_missing(exc):
                raise
            continue  # a deleted run: its traces count as production traffic
        if run.data.tags.get("mlflow.runType") == EVALUATION_RUN_TYPE:
            out[run_id] = run
    return out


def _index(features: pl.DataFrame) -> str | None:
    """The index most of the traces searched (their RETRIEVER spans' gen_ai.data_source.id)."""
    counts = features["data_source"].drop_nulls().value_counts(sort=True)
    return str(counts[0, 0]) if counts.height else None


def _record(name: str, ids: pl.Series, source: SourceRef, context: str, run_id: str = "") -> DatasetRecord:
    digest = hashlib.sha256("\n".join(sorted(ids.to_list())).encode()).hexdigest()[:8]
    return DatasetRecord(name=name, digest=digest, source_type=TRACES, source=source, schema=None,
                         profile={"num_rows": ids.len()}, context=context, run_id=run_id)


def _range(value: Any) -> tuple[datetime | None, datetime | None] | None:
    if isinstance(value, tuple | list) and len(value) == 2:
        return range_bound(value[0], "baseline start"), range_bound(value[1], "baseline end", end=True)
    if isinstance(value, str) and ".." in value:
        lo, hi = value.split("..", 1)
        return range_bound(lo.strip() or None, "baseline start"), range_bound(hi.strip() or None, "baseline end", end=True)
    return None


def _baseline(client: Any, uri: str, data: Any, production: Any, evaluations: dict[str, Any], baseline: Any,
              notes: list[str]) -> tuple[Any, Any, DatasetRecord]:
    """(baseline traces, current traces, the baseline's record): see the module docstring."""
    from mlobs_notebook.sources.trace_scope import resolve_scope
    from mlobs_notebook.sources.traces import read_traces

    when = _range(baseline)
    if when is not None:
        lo, hi = when
        if hi is None:
            raise InputError(f"baseline {baseline!r}: a date range needs an end, 'START..END' or '..END'")
        inside = pl.col(TIME) <= hi if lo is None else pl.col(TIME).is_between(lo, hi)
        base, current = production.where(inside), production.where(pl.col(TIME) > hi)
        label = f"{human(lo) if lo else 'the first trace'} .. {human(hi) if hi else 'the last'}"
        source = SourceRef(TRACES, f"{uri}#experiment={data.scope.experiment_id}&range={label}")
        record = _record(f"traces {label}", base.features["trace_id"], source, "date range")
    elif baseline is not None:
        scope = resolve_scope(client, uri, str(baseline))
        if scope.run_id is None:
            raise InputError(f"baseline {baseline!r} is not a run: pass an evaluation run's id or a date range "
                             "'START..END'")
        base = read_traces(scope, span_attributes=data.attributes, span_names=data.span_names)
        current = production.where(~pl.col("trace_id").is_in(base.features["trace_id"].implode()))
        run = client.get_run(scope.run_id)
        record = _record(f"traces of run {run.info.run_name or scope.run_id}", base.features["trace_id"],
                         SourceRef(TRACES, f"runs:/{scope.run_id}"), "evaluation", scope.run_id)
    else:
        first = production.features.drop_nulls("model_id")
        accepted = _accepting_run(data.features, evaluations, first)
        if accepted is not None:
            base = data.where(pl.col("source_run") == accepted.info.run_id)
            current = production
            record = _record(f"traces of evaluation run {accepted.info.run_name or accepted.info.run_id}",
                             base.features["trace_id"], SourceRef(TRACES, f"runs:/{accepted.info.run_id}"),
                             "evaluation", accepted.info.run_id)
            notes.append(f"baseline: the {len(base)} traces of evaluation run {accepted.info.run_name} "
                         f"({accepted.info.run_id}), which scored the app's first version")
        else:
            cut = production.features[TIME].min() + timedelta(days=BASELINE_DAYS)
            base, current = production.where(pl.col(TIME) < cut), production.where(pl.col(TIME) >= cut)
            source = SourceRef(TRACES, f"{uri}#experiment={data.scope.experiment_id}&first={BASELINE_DAYS}d")
            record = _record(f"the first {BASELINE_DAYS} days of traces", base.features["trace_id"], source, "date range")
            notes.append(f"no mlflow.genai.evaluate run scored the app's first version: the baseline is the first "
                         f"{BASELINE_DAYS} days of traces (pass baseline= a run id or 'START..END')")
    if len(base) == 0 or len(current) == 0:
        raise NoTraces(f"the baseline ({record.name}) holds {len(base)} traces and the current data {len(current)} "
                       f"in {data.scope.describe()}: both need traces; pass another baseline")
    return base, current, record


def _accepting_run(features: pl.DataFrame, evaluations: dict[str, Any], served: pl.DataFrame) -> Any:
    """The evaluation run whose traces are of the app version that served first, the latest
    started before that version's first trace (else the latest)."""
    if not evaluations or served.height == 0:
        return None
    first_model, first_trace = served["model_id"][0], to_utc(served[TIME].min())
    runs = features.filter(pl.col("source_run").is_in(list(evaluations)) & (pl.col("model_id") == first_model))
    candidates = [evaluations[r] for r in runs["source_run"].unique().to_list()]
    if not candidates:
        return None
    candidates.sort(key=lambda r: r.info.start_time or 0)
    before = [r for r in candidates if (r.info.start_time or 0) <= first_trace.timestamp() * 1000]
    return (before or candidates)[-1]
