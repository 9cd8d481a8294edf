"""``investigate``: production model -> training snapshot -> drift -> lineage -> verdict.

It composes the other steps and adds no statistics of its own: ``sources`` read the stores,
``drift`` compares, ``correlate`` finds onsets and the metric's drop, ``lineage`` finds the
upstream changes, ``diagnose`` decides. The granularity is parsed here, once, and travels as a
:class:`~mlobs_notebook.times.Granularity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from mlobs_notebook.correlate import (
    DEFAULT_PERSISTENCE,
    align_metric,
    drift_onsets,
    drift_series,
    lagged_correlation,
    metric_drop,
)
from mlobs_notebook.diagnose import DEFAULT_LOOKBACK, diagnose
from mlobs_notebook.errors import InputError
from mlobs_notebook.investigation.clock import Clock as _Clock
from mlobs_notebook.investigation.clock import Progress
from mlobs_notebook.investigation.evidence import LineageEvidence, lineage_evidence
from mlobs_notebook.investigation.features import choose_features
from mlobs_notebook.investigation.result import Investigation
from mlobs_notebook.records import DatasetRecord, ModelVersionRecord
from mlobs_notebook.times import Granularity, read_time_column, to_utc

__all__ = ["investigate"]


def investigate(
    model: Any = None,
    current: Any = None,
    lineage: Any = None,
    *,
    metric: str = "auc",
    time_column: str | None = None,
    granularity: Granularity | str = "1d",
    alias: str = "production",
    tracking_uri: str | None = None,
    eval_filter: str | None = "tags.env = 'production'",
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    lineage_dataset: Any = None,
    start: Any = None,
    end: Any = None,
    baseline_value: float | None = None,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    lookback: timedelta = DEFAULT_LOOKBACK,
    max_lag: int = 7,
    thresholds: Mapping[str, Any] | None = None,
    time_format: str | None = None,
    progress: Progress | None = None,
    lookback_days: int | None = None,
    traces: Any = None,
    **trace_options: Any,
) -> Investigation:
    """Investigate a model's production metric: see the module docstring.

    ``model``: a registered name (resolved through ``alias``), a ``models:/`` URI, a run id, or a
    record from :func:`~mlobs_notebook.load_production_model`. ``current``: a URI
    (:func:`~mlobs_notebook.load_current`), a frame, or None to read the training table's latest
    snapshot after the training data ends. ``lineage``: a path or URL for
    :func:`~mlobs_notebook.load_lineage`, a LineageGraph, or None (no lineage: drift without an
    upstream explanation reads as data drift, and the evidence says so). ``granularity``: the
    window size (``1h``, ``1d``, ``1w``, ``1mo``); lags and lead times are counted in it.
    ``lookback``: how long before a drift onset an upstream change still explains it
    (``lookback_days`` is its older spelling). Raises :class:`~mlobs_notebook.errors.InputError`
    subclasses naming the model, column or source at fault.

    ``traces`` (an experiment, run or ``models:/m-...``) investigates an LLM app from its MLflow
    traces instead: :func:`~mlobs_notebook.investigation.traces.investigate_traces`, which also
    takes the ``trace_options`` (``baseline``, ``span_attributes``, ``method``).
    """
    if traces is not None:
        from mlobs_notebook.investigation.traces import investigate_traces

        return investigate_traces(
            traces, lineage, metric=metric, tracking_uri=tracking_uri, granularity=granularity,
            lineage_dataset=lineage_dataset, start=start, end=end, baseline_value=baseline_value,
            persistence=persistence, lookback=lookback if lookback_days is None else timedelta(days=lookback_days),
            max_lag=max_lag, thresholds=thresholds, progress=progress, **trace_options,
        )
    if trace_options:
        raise InputError(f"{', '.join(sorted(trace_options))}: options of a traces investigation; pass traces= too")
    if model is None or time_column is None:
        raise InputError("investigate needs model= and time_column= (or traces= for an LLM app's traces)")
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.sources.digests import snapshot_check
    from mlobs_notebook.sources.evaluations import metric_series
    from mlobs_notebook.sources.models import load_production_model, model_inputs, training_datasets
    from mlobs_notebook.sources.tables import load_current, load_snapshot

    step_of = Granularity.parse(granularity)
    if lookback_days is not None:
        lookback = timedelta(days=lookback_days)
    clock = _Clock(progress)
    notes: list[str] = []

    record = model if isinstance(model, ModelVersionRecord) else load_production_model(
        model, alias=alias, tracking_uri=tracking_uri)
    datasets = training_datasets(record)
    training = next((d for d in datasets if d.context == "training"), datasets[0])
    clock.step("model", 0.1)

    check = snapshot_check(training) if _small(training) else None
    if check is None:
        notes.append("the training snapshot's digest was not rechecked (over 1,000,000 rows)")
    # read once: the drift engine holds the baseline in memory anyway
    baseline = load_snapshot(training, check_digest=False).collect().lazy()
    baseline_columns = baseline.collect_schema().names()
    clock.step("baseline", 0.25)

    trained_until = _latest_time(baseline, time_column, time_format) if time_column in baseline_columns else None
    if current is None:
        source = training.source.at_latest()
        current_source = source.uri
        current_frame = load_current(source, time_column, start=start, end=end)
        if start is None and trained_until is not None:
            parsed = read_time_column(current_frame, time_column, time_format=time_format)
            current_frame = current_frame.filter(parsed.expr > trained_until)
            notes.append(f"current data: {current_source} after the training data ends ({trained_until:%Y-%m-%d %H:%M} UTC)")
    elif isinstance(current, str):
        current_source = current
        current_frame = load_current(current, time_column, start=start, end=end)
    else:
        current_source = f"<{type(current).__name__}>"
        current_frame = _as_lazy(current)

    features, feature_notes = choose_features(
        baseline, current_frame, time_column, columns, model_inputs(record), exclude
    )
    notes += feature_notes
    current_data = current_frame.select(*features, time_column).collect()
    if current_data.height == 0:
        raise InputError(
            f"no current rows in {current_source} for the time range "
            f"{start or 'after training'} .. {end or 'now'}: nothing to compare"
        )
    instants = current_data.select(read_time_column(current_data, time_column, time_format=time_format).expr)
    current_range = (_utc(instants[time_column].min()), _utc(instants[time_column].max()))
    clock.step("current", 0.4)

    report = compute_drift(
        baseline.select(*[f for f in features if f in baseline_columns]),
        current_data, time_column=time_column, granularity=step_of, thresholds=thresholds,
        time_format=time_format,
    )
    zone = report.zone
    clock.step("drift", 0.6)

    points = metric_series(record, metric=metric, filter_string=eval_filter, granularity=None)
    if points.height == 0:
        raise InputError(
            f"no runs with metric {metric!r} matching {eval_filter!r} in the experiment of "
            f"{record.name or record.run_id}; check --metric and --eval-filter"
        )
    series = align_metric(points, step_of, zone)
    drifts = drift_series(report)
    onsets = tuple(drift_onsets(drifts, persistence))
    drop = metric_drop(series, metric, baseline_value=baseline_value, persistence=persistence)
    correlations = {
        o.feature: lagged_correlation(drifts.filter(pl.col("feature") == o.feature), series, step_of, max_lag=max_lag)
        for o in onsets if o.onset is not None
    }
    clock.step("correlate", 0.7)

    evidence = None
    if lineage is not None:
        evidence = lineage_evidence(lineage, lineage_dataset, training.source.uri, onsets, step_of, lookback)
        notes += evidence.notes
    else:
        notes.append("no lineage given: upstream changes were not searched")
    clock.step("lineage", 0.9)

    diagnosis = diagnose(
        onsets, drop, evidence.changes if evidence else {}, granularity=step_of, lookback=lookback,
        unconnected=evidence.unconnected if evidence else (),
        lineage_searched=evidence is not None and evidence.target is not None,
    )
    clock.step("diagnose", 1.0)
    return Investigation(
        model=record, dataset=training, snapshot_check=check, features=features,
        time_column=time_column, granularity=step_of, current_source=current_source,
        current_range=current_range, trained_until=trained_until, drift=report, metric_name=metric,
        metric=series, onsets=onsets, drop=drop, correlations=correlations,
        lineage_dataset=_target(evidence), upstream=evidence.upstream if evidence else {},
        diagnosis=diagnosis, notes=tuple(notes), zone=zone, timings=clock.timings,
        lineage=evidence.graph if evidence else None,
    )


def _target(evidence: LineageEvidence | None) -> str | None:
    return str(evidence.target) if evidence is not None and evidence.target is not None else None


def _small(record: DatasetRecord) -> bool:
    return record.num_rows is not None and record.num_rows <= 1_000_000


def _utc(value: Any) -> datetime | None:
    return None if value is None else to_utc(value)


def _latest_time(frame: pl.LazyFrame, time_column: str, time_format: str | None) -> datetime | None:
    parsed = read_time_column(frame, time_column, time_format=time_format)
    return _utc(frame.select(parsed.expr.max()).collect().item())


def _as_lazy(frame: Any) -> pl.LazyFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    try:
        return pl.from_pandas(frame).lazy()
    except Exception as exc:
        raise InputError(
            f"current data must be a URI, a polars or pandas frame; got {type(frame).__name__}"
        ) from exc
