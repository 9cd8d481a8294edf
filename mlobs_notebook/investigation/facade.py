"""``investigate``: production model -> training snapshot -> drift -> lineage -> verdict.

It composes the other steps and adds no statistics of its own: ``sources`` read the stores,
``drift`` compares, ``correlate`` finds onsets and the metric's drop, ``lineage`` finds the
upstream changes, ``diagnose`` decides. The granularity is parsed here, once, and travels as a
:class:`~mlobs_notebook.times.Granularity`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
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
from mlobs_notebook.investigation.evidence import LineageEvidence, lineage_evidence
from mlobs_notebook.investigation.features import choose_features
from mlobs_notebook.investigation.inputs import (
    choose_engine_and_session,
    column_names,
    current_rows,
    latest_time,
    read_baseline,
    read_current,
    select,
)
from mlobs_notebook.investigation.result import Investigation
from mlobs_notebook.records import DatasetRecord, ModelVersionRecord
from mlobs_notebook.times import Granularity

__all__ = ["investigate"]

Progress = Callable[[str, float], None]


def investigate(
    model: Any,
    current: Any = None,
    lineage: Any = None,
    *,
    metric: str = "auc",
    time_column: str,
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
    engine: str | None = None,
    spark: Any = None,
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
    (``lookback_days`` is its older spelling). ``progress(step, fraction)`` hears of each step
    done, and of the drift step's columns as ``"drift: 12/50 columns, 90 windows"``
    (:class:`~mlobs_notebook.ProgressBar` shows both). ``engine``: ``"polars"`` (in memory, or
    streamed out of core when the data is large: see ``investigation/inputs.py``) or ``"spark"``
    (the snapshot and the current data read and compared by the SparkSession ``spark``; the
    default when ``spark`` or a Spark DataFrame is given). Raises
    :class:`~mlobs_notebook.errors.InputError` subclasses naming the model, column or source at fault.
    """
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.sources.digests import snapshot_check
    from mlobs_notebook.sources.evaluations import metric_series
    from mlobs_notebook.sources.models import load_production_model, model_inputs, training_datasets

    step_of = Granularity.parse(granularity)
    engine, spark = choose_engine_and_session(engine, spark, current)
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
    baseline = read_baseline(training, engine=engine, spark=spark)
    baseline_columns = column_names(baseline)
    clock.step("baseline", 0.25)

    trained_until = latest_time(baseline, time_column, time_format) if time_column in baseline_columns else None
    current_frame, current_source, current_notes = read_current(
        current, training, time_column=time_column, time_format=time_format, start=start, end=end,
        trained_until=trained_until, engine=engine, spark=spark,
    )
    notes += current_notes

    features, feature_notes = choose_features(
        baseline, current_frame, time_column, columns, model_inputs(record), exclude
    )
    notes += feature_notes
    current_data, current_range = current_rows(
        current_frame, features, time_column, time_format, current_source, start, end)
    clock.step("current", 0.4)

    report = compute_drift(
        select(baseline, [f for f in features if f in baseline_columns]),
        current_data, time_column=time_column, granularity=step_of, thresholds=thresholds,
        time_format=time_format, engine=engine, spark=spark, progress=clock.drift,
    )
    notes += [f"drift: {note}" for note in report.notes]
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


class _Clock:
    """Times each step and reports progress."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def step(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self._last = now
        if self.progress is not None:
            self.progress(name, fraction)

    def drift(self, done: int, total: int, windows: int) -> None:
        """The drift engine's progress, as a sub-step of "drift" (between 40% and 60%)."""
        if self.progress is not None:
            self.progress(f"drift: {done}/{total} columns, {windows} windows", min(0.6, 0.4 + 0.2 * done / max(total, 1)))


def _target(evidence: LineageEvidence | None) -> str | None:
    return str(evidence.target) if evidence is not None and evidence.target is not None else None


def _small(record: DatasetRecord) -> bool:
    return record.num_rows is not None and record.num_rows <= 1_000_000
