"""``investigate``: production model -> training snapshot -> drift -> lineage -> verdict.

It composes the other steps and adds no statistics of its own: ``sources`` read the stores,
``drift`` compares, ``correlate`` finds onsets and the metric's drop, ``lineage`` finds the
upstream changes, ``diagnose`` decides. The granularity is parsed here, once, and travels as a
:class:`~mlobs_notebook.times.Granularity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import polars as pl

from mlobs_notebook.correlate import (
    DEFAULT_PERSISTENCE,
    drift_onsets,
    drift_series,
    lagged_correlation,
    metric_drop,
    metric_granularity,
)
from mlobs_notebook.diagnose import (
    DEFAULT_LOOKBACK,
    Inconclusive,
    diagnose,
    minimum_evaluations,
    moving_reference,
    thin_evidence,
    timing_window,
)
from mlobs_notebook.errors import InputError
from mlobs_notebook.investigation.clock import Clock as _Clock
from mlobs_notebook.investigation.clock import Progress
from mlobs_notebook.investigation.evidence import LineageEvidence, lineage_evidence, timing_evidence
from mlobs_notebook.investigation.features import choose_features
from mlobs_notebook.investigation.frames import choose_engine_and_session, column_names, latest_time
from mlobs_notebook.investigation.inputs import (
    BaselineInput,
    check_baseline,
    check_current,
    recorded_training,
    resolve_baseline,
    resolve_current,
)
from mlobs_notebook.investigation.metric_inputs import MetricRequest, after_training, resolve_metric
from mlobs_notebook.investigation.result import Investigation
from mlobs_notebook.records import MetricSource, ModelVersionRecord
from mlobs_notebook.sources.evaluations import DEFAULT_EVAL_FILTER
from mlobs_notebook.times import Granularity, zone_info

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
    eval_filter: str | None = DEFAULT_EVAL_FILTER,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    lineage_dataset: Any = None,
    start: Any = None,
    end: Any = None,
    baseline_value: float | None = None,
    tolerance: float | None = None,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    lookback: timedelta = DEFAULT_LOOKBACK,
    max_lag: int = 7,
    thresholds: Mapping[str, Any] | str | None = None,
    time_format: str | None = None,
    time_zone: str | None = None,
    progress: Progress | None = None,
    lookback_days: int | None = None,
    multivariate: bool = True,
    seasonality: bool = True,
    slicing_exprs: Sequence[str] | None = None,
    score_column: str | None = None,
    label_delay: timedelta | int | None = None,
    higher_is_better: bool | None = None,
    drift_metrics: Any = None,
    profile_metrics: Any = None,
    monitor_slice: Any = None,
    baseline: Any = None,
    date_from: str = "start_time",
    metric_run: str | None = None,
    predictions: Any = None,
    prediction_column: str | None = None,
    label_column: str | None = None,
    predictions_time_column: str | None = None,
    threshold: float = 0.5,
    min_evaluations: int | None = None,
    engine: str | None = None,
    spark: Any = None,
    traces: Any = None,
    **trace_options: Any,
) -> Investigation:
    """Investigate a model's production metric: see the module docstring.

    ``model``: a registered name (resolved through ``alias``, which may also name a legacy stage
    such as ``Production``), a ``models:/`` URI, a run id, or a record from
    :func:`~mlobs_notebook.load_production_model`. ``baseline``: the training data when the run's
    recorded dataset cannot be read (a file or folder, ``iceberg://...@<snapshot>``,
    ``delta:///<path>@<version>``, or a frame; :mod:`~mlobs_notebook.investigation.inputs`).
    ``current``: a URI, a frame, or None to read the training table as it is now after the
    training data ends. ``lineage``: a path or URL for :func:`~mlobs_notebook.load_lineage`, a
    LineageGraph, or None (drift without an upstream explanation then reads as data drift, and
    the evidence says so). ``granularity``: the window size (``1h``, ``1d``, ``1w``, ``1mo``); lags
    and lead times are counted in it. ``lookback``: how long before a drift onset an upstream
    change still explains it (``lookback_days`` is its older spelling). ``thresholds``: as for
    :func:`~mlobs_notebook.drift.compute_drift`, ``"learned"`` included (learned from the training
    data's own windows, which then need the time column). ``time_zone``: an IANA zone to label
    the windows in (``Europe/Berlin``: days start at local midnight) instead of the time column's
    own, as :func:`~mlobs_notebook.drift.compute_drift` takes it; instants are unchanged.

    The metric series (:mod:`~mlobs_notebook.investigation.metric_inputs`): a predictions log
    (``predictions``, ``prediction_column``, ``label_column``, dated by ``predictions_time_column``
    or ``time_column``; ``threshold`` for accuracy, precision, recall and f1), one run's history
    (``metric_run``), or evaluation runs matching ``eval_filter`` (None or ``""``: no filter; the
    default filter gives way to the model's own MLflow 3 metrics, then to every run, when it
    matches nothing), dated by ``date_from`` (``start_time``, ``end_time``, ``metric_timestamp``,
    ``tags.<name>``, ``params.<name>``; ``step:<date>`` for a history). Fewer windows after the
    training data than ``min_evaluations`` (default
    :func:`~mlobs_notebook.diagnose.minimum_evaluations`: 17) give ``inconclusive``.
    ``higher_is_better``: None reads it from the metric's name (False for losses and errors).
    ``baseline_value`` and ``tolerance``: the metric's level before any fall and how far below it
    a fall counts (default: the median of its first 14 windows, and three times their 1.4826 MAD).

    From a Databricks monitor: ``drift_metrics`` is its ``{table}_drift_metrics`` export (Delta
    or parquet) read as the drift, with nothing recomputed and no table data read (the signals
    beyond per-feature drift then need the data and are skipped); ``profile_metrics`` its
    InferenceLog ``{table}_profile_metrics``, read as the metric series (``metric`` names the
    column) in place of MLflow evaluation runs; ``monitor_slice``: ``"key=value"`` of a monitor
    slice (default: the whole table). See :mod:`mlobs_notebook.investigation.monitor`.

    Beyond per-feature drift: ``multivariate`` scores the joint distribution per window (a domain
    classifier and PCA reconstruction error, ``drift.multivariate``), which catches a column
    shuffled by a wrong join while every marginal holds. ``seasonality`` compares each day with
    the baseline's same weekday when the training data has a weekly pattern
    (``drift.seasonal``). Drifted features are cut into slices (``drift.slices``): the values of
    the categorical columns in both frames, plus ``slicing_exprs`` (Databricks' form: a column
    name, or a SQL predicate such as ``"device = 'web'"``). ``score_column`` names the model's
    score in the current data: the metric is then estimated per window from the scores before
    labels arrive (confidence-based, as NannyML's CBPE: ``correlate.estimate``), calibrated on
    the baseline when it holds the scores with ``label_column``. ``label_delay`` (days, or a
    timedelta; None: unknown, up to 7 days) places a metric drop that no drift explains back at
    the predictions it judged, where upstream changes are then searched.

    Raises :class:`~mlobs_notebook.errors.InputError` subclasses naming the model, column or
    source at fault, and the flag that gets past it.

    Large data: ``progress(step, fraction)`` hears of each step done, and of the drift step's
    columns as ``"drift: 12/50 columns, 90 windows"`` (:class:`~mlobs_notebook.ProgressBar` shows
    both). ``engine``: ``"polars"`` (in memory, or streamed out of core when the data does not fit:
    :mod:`~mlobs_notebook.investigation.frames`, :mod:`~mlobs_notebook.investigation.compare`) or
    ``"spark"`` (the baseline and the current data read and compared by the SparkSession ``spark``;
    the default when ``spark`` or a Spark DataFrame is given).

    ``traces`` (an experiment, run or ``models:/m-...``) investigates an LLM app from its MLflow
    traces instead: :func:`~mlobs_notebook.investigation.traces.investigate_traces`, which also
    takes ``baseline`` and the ``trace_options`` (``span_attributes``, ``method``).
    """
    if traces is not None:
        from mlobs_notebook.investigation.traces import investigate_traces

        return investigate_traces(
            traces, lineage, metric=metric, tracking_uri=tracking_uri, granularity=granularity,
            lineage_dataset=lineage_dataset, start=start, end=end, baseline_value=baseline_value,
            persistence=persistence, lookback=lookback if lookback_days is None else timedelta(days=lookback_days),
            max_lag=max_lag, thresholds=thresholds, progress=progress,
            **({"baseline": baseline} if baseline is not None else {}), **trace_options,
        )
    if trace_options:
        raise InputError(f"{', '.join(sorted(trace_options))}: options of a traces investigation; pass traces= too")
    if model is None or time_column is None:
        raise InputError("investigate needs model= and time_column= (or traces= for an LLM app's traces)")
    from mlobs_notebook.investigation import signals
    from mlobs_notebook.investigation.compare import compare
    from mlobs_notebook.sources.models import load_production_model, model_inputs

    step_of = Granularity.parse(granularity)
    engine, spark = choose_engine_and_session(engine, spark, current)
    if time_zone is not None:
        zone_info(time_zone)  # a bad name fails before any store is read
    if lookback_days is not None:
        lookback = timedelta(days=lookback_days)
    delay = timedelta(days=label_delay) if isinstance(label_delay, int | float) else label_delay
    if delay is not None and delay < timedelta(0):
        raise InputError(f"label_delay (--label-delay) must be zero or more days, not {label_delay}")
    if min_evaluations is not None and min_evaluations < 1:
        raise InputError(f"min_evaluations (--min-evaluations) must be at least 1, not {min_evaluations}")
    clock = _Clock(progress)
    if label_column and predictions is None and not score_column:
        raise InputError("label_column (--label-column) names the label in a predictions log (--predictions) or, "
                         "with --score-column, in the training data: pass one of those")
    request = MetricRequest(metric, eval_filter, date_from, metric_run, predictions, prediction_column,
                            label_column if predictions is not None else None, predictions_time_column, threshold,
                            profile_metrics, monitor_slice)

    record = model if isinstance(model, ModelVersionRecord) else load_production_model(
        model, alias=alias, tracking_uri=tracking_uri)
    recorded, why_none = recorded_training(record)
    monitored = drift_metrics is not None
    if not monitored:
        check_baseline(record, recorded, why_none, baseline)
        table = check_current(current, predictions, recorded, baseline is not None, record)
    clock.step("model", 0.1)

    notes: list[str] = []
    slice_cols: list[str] = []
    base_w = cur_w = None
    seasonal: tuple[str, ...] = ()
    joint = mv = None
    if monitored:
        from mlobs_notebook.investigation.monitor import monitored_drift

        found = monitored_drift(drift_metrics, record, time_column=time_column, granularity=step_of, columns=columns,
                                exclude=exclude, thresholds=thresholds, profile_metrics=profile_metrics, slice=monitor_slice)
        if recorded is None:
            raise InputError(f"{why_none}, so the lineage cannot be matched to its training data; the monitor's "
                             "drift needs a model whose training run logged its dataset (mlflow.log_input)")
        base = BaselineInput(pl.LazyFrame(), recorded, found.source, None, (), recorded, False)
        trained_until, report, features = None, found.report, found.features
        current_source, current_range, step_of = found.source, found.current_range, report.granularity or step_of
        current_columns = None
        zone = report.zone
        notes += [*found.notes, "drift read from a monitor table: joint drift, slices, seasonality and estimated "
                  "performance need the data and were not computed"]
        if time_zone is not None:
            notes.append(f"time_zone {time_zone!r} was not applied: a monitor table's windows are kept as it holds them")
    else:
        base = resolve_baseline(record, recorded, why_none, baseline, engine=engine, spark=spark)
        baseline_columns = column_names(base.frame)
        clock.step("baseline", 0.25)

        trained_until = latest_time(base.frame, time_column, time_format) if time_column in baseline_columns else None
        cur = resolve_current(current, predictions, table, time_column=time_column, start=start, end=end,
                              trained_until=trained_until, time_format=time_format, engine=engine, spark=spark)
        current_source, current_columns = cur.source, column_names(cur.frame)
        not_features = [*exclude, *(c for c in (prediction_column, label_column) if predictions is not None and c)]
        features, feature_notes = choose_features(
            base.frame, cur.frame, time_column, columns, model_inputs(record), not_features
        )
        compared = compare(base.frame, cur.frame, features, time_column=time_column, step=step_of, time_format=time_format,
                        time_zone=time_zone, thresholds=thresholds, engine=engine, spark=spark, source=cur.source, start=start, end=end,
                        persistence=persistence, multivariate=multivariate, seasonality=seasonality,
                        slicing_exprs=slicing_exprs, score_column=score_column, clock=clock)
        notes += [*cur.notes, *feature_notes, *compared.notes]
        report, current_range, zone = compared.report, compared.current_range, compared.report.zone
        base_w, cur_w, seasonal = compared.base_w, compared.cur_w, compared.seasonal
        slice_cols, mv, joint = list(compared.slice_columns), compared.multivariate, compared.joint

    series, source = resolve_metric(record, request, time_column=time_column, granularity=step_of, zone=zone,
                                    time_format=time_format, current_columns=current_columns)
    series, source = after_training(series, source, trained_until, step_of)
    # the drop is found over the metric's own windows (at most a day): weekly or monthly windows
    # would set the reference over months and judge a drop on a few points
    metric_step, own = metric_granularity(step_of), series
    if metric_step != step_of:
        own, _ = resolve_metric(record, request, time_column=time_column, granularity=metric_step, zone=zone,
                                time_format=time_format, current_columns=current_columns)
        own, _ = after_training(own, source, trained_until, metric_step)
        notes.append(f"the {source.metric} drop was looked for over windows of {metric_step} (the metric's own), "
                     f"the drift over windows of {step_of}")
    better = source.higher_is_better if higher_is_better is None else higher_is_better
    minimum = min_evaluations if min_evaluations is not None else minimum_evaluations(
        persistence, baseline_value is not None)
    thin = thin_evidence(own, source, trained_until=trained_until, granularity=metric_step, minimum=minimum)
    drifts = drift_series(report)
    onsets = tuple(drift_onsets(drifts, persistence))
    drop = metric_drop(own, source.metric, baseline_value=baseline_value, tolerance=tolerance, persistence=persistence,
                       higher_is_better=better)
    if thin is None and baseline_value is None:
        thin = moving_reference(own, source.metric, better)
    est = signals.Estimate()
    if score_column and cur_w is not None and base_w is not None:
        est = signals.estimate(cur_w, base_w, score_column, label_column, source.metric, persistence, better)
        notes += est.notes
    slice_findings, slice_sentences = (
        signals.slices_of(base_w, cur_w, [o for o in onsets if o.onset is not None], slice_cols, slicing_exprs)
        if base_w is not None and cur_w is not None else ({}, {})
    )
    correlations = {
        o.feature: lagged_correlation(drifts.filter(pl.col("feature") == o.feature), series, step_of, max_lag=max_lag)
        for o in onsets if o.onset is not None
    }
    clock.step("correlate", 0.7)

    leaned = [f for f, _ in mv.leaned_on] if mv is not None and joint is not None and joint.onset is not None else []
    drifted_names = {o.feature for o in onsets if o.onset is not None}
    searched = [*onsets, *(replace(joint, feature=f) for f in leaned if f not in drifted_names and joint is not None)]
    evidence = timing = None
    notes = [*record.notes, *base.notes, *notes, *source.notes]
    if lineage is not None:
        evidence = lineage_evidence(lineage, lineage_dataset, base.dataset.source.uri, searched, step_of, lookback)
        notes += evidence.notes
        if drop.onset is not None:  # read by the diagnosis when nothing drifted before the drop
            timing = timing_evidence(evidence, features, timing_window(drop.onset, step_of, delay, lookback))
    else:
        notes.append("no lineage given: upstream changes were not searched")
    clock.step("lineage", 0.9)

    changes = evidence.changes if evidence else {}
    facts: dict[str, Any] = dict(
        granularity=step_of, lookback=lookback, unconnected=evidence.unconnected if evidence else (),
        lineage_searched=evidence is not None and evidence.target is not None,
        joint=joint, leaned_on=leaned, timing_changes=timing, label_delay=delay, slices=slice_sentences,
        estimate=est.drop, lineage_note=_lineage_note(evidence), min_evaluations=minimum, context=_context(base, source),
    )
    diagnosis = diagnose(onsets, drop, changes, inconclusive=thin, **facts)
    if diagnosis.verdict == "model_drift" and not monitored and report.windows < persistence[1]:
        # too few windows to see a drift begin: "no feature drifted" would be unsupported
        few = Inconclusive(
            f"the features are compared over {report.windows} window(s) of {step_of}, fewer than the "
            f"{persistence[1]} a drift onset needs, so whether they drifted before {source.metric} fell cannot be told",
            "a finer --granularity (1d)")
        diagnosis = diagnose(onsets, drop, changes, inconclusive=few, **facts)
    clock.step("diagnose", 1.0)
    return Investigation(
        model=record, dataset=base.dataset, snapshot_check=base.check, features=features,
        time_column=time_column, granularity=step_of, current_source=current_source,
        current_range=current_range, trained_until=trained_until, drift=report, metric_name=source.metric,
        metric=series, onsets=onsets, drop=drop, correlations=correlations,
        lineage_dataset=_target(evidence), upstream=evidence.upstream if evidence else {},
        diagnosis=diagnosis, notes=tuple(notes), zone=zone, timings=clock.timings,
        lineage=evidence.graph if evidence else None, multivariate=mv, slices=slice_findings,
        estimated_metric=est.series, estimated_drop=est.drop, seasonal=seasonal, label_delay=delay,
        metric_source=source, baseline_source=base.source,
    )


def _context(base: BaselineInput, source: MetricSource) -> list[str]:
    """The evidence's first sentences: where the metric came from and what the baseline is."""
    said = [f"The {source.metric} series: {source.description}."]
    check = base.check
    if check is not None and check.status == "mismatch":
        said.append(f"The baseline is not the data MLflow recorded for training: {check.message}")
    elif check is not None and check.status == "unchecked":
        said.append(f"The baseline's digest check is {check.status}: {check.message}")
    said += [f"The baseline: {sentence}." for sentence in base.said]
    return said


def _lineage_note(evidence: LineageEvidence | None) -> str | None:
    if evidence is None or evidence.target is not None:
        return None
    closest = ", ".join(evidence.closest) or "none"
    return f"The lineage holds no dataset matching the training source (closest: {closest})"


def _target(evidence: LineageEvidence | None) -> str | None:
    return str(evidence.target) if evidence is not None and evidence.target is not None else None
