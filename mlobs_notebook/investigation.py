"""The investigation: production model -> training snapshot -> drift -> lineage -> verdict.

``investigate`` composes the other modules and adds no statistics of its own: models and
snapshots read the stores, ``drift`` compares, ``correlate`` finds onsets, ``lineage`` finds the
upstream changes, ``diagnose`` decides. The result is a frozen :class:`Investigation` that
notebooks display, the CLI prints and ``report`` exports.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from mlobs_notebook.correlate import (
    FeatureOnset,
    MetricDrop,
    drift_onsets,
    drift_series,
    lagged_correlation,
    lead_days,
    metric_drop,
)
from mlobs_notebook.diagnose import Diagnosis, UpstreamChange, diagnose
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["Investigation", "investigate"]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Investigation:
    """Everything an investigation found, with the evidence behind its verdict."""

    model: Any  # models.ModelVersionRecord
    dataset: Any  # models.DatasetRecord (the training dataset)
    snapshot_check: Any  # snapshots.SnapshotCheck or None
    features: tuple[str, ...]
    time_column: str
    granularity: str
    current_source: str
    current_range: tuple[datetime | None, datetime | None]
    trained_until: datetime | None
    drift: Any  # drift.DriftReport
    metric_name: str
    metric: pl.DataFrame  # date, value, run_id
    onsets: tuple[FeatureOnset, ...]
    drop: MetricDrop
    correlations: dict[str, pl.DataFrame]
    lineage_dataset: str | None
    upstream: dict[str, Any]  # feature -> lineage.Upstream
    diagnosis: Diagnosis
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    lineage: Any = field(default=None, compare=False, repr=False)  # the LineageGraph

    @property
    def verdict(self) -> str:
        return self.diagnosis.verdict

    @property
    def drifted_features(self) -> tuple[FeatureOnset, ...]:
        return self.diagnosis.drifted

    @property
    def lead_days(self) -> int | None:
        first = next((o for o in self.diagnosis.drifted if o.onset), None)
        return lead_days(first.onset if first else None, self.drop.onset)

    def to_dict(self) -> dict[str, Any]:
        from mlobs_notebook.report import investigation_dict

        return investigation_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, figures_dir: str | None = None) -> str:
        from mlobs_notebook.report import to_markdown

        return to_markdown(self, figures_dir=figures_dir)

    def to_html(self) -> str:
        from mlobs_notebook.report import to_html

        return to_html(self)

    def write(self, path: str) -> str:
        """Write the postmortem (``.html`` or ``.md``) atomically; returns the path written."""
        from mlobs_notebook.report import write_report

        return write_report(self, path)

    def _repr_html_(self) -> str:
        from mlobs_notebook.report import summary_html

        return summary_html(self)

    def __repr__(self) -> str:
        return (
            f"Investigation(verdict={self.verdict!r}, model={self.model.name}@v{self.model.version}, "
            f"drifted={[o.feature for o in self.drifted_features]}, "
            f"suspects={[s.job for s in self.diagnosis.suspects]})"
        )


def _model_inputs(model: Any) -> tuple[str, ...] | None:
    """The model's input columns from its logged signature (the MLmodel file, never the pickle)."""
    if not getattr(model, "logged_model_id", None):
        return None
    try:
        import mlflow
        from mlflow.models import Model
        from mlflow.tracking import MlflowClient

        logged = MlflowClient(model.tracking_uri).get_logged_model(model.logged_model_id)
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=logged.artifact_location.rstrip("/") + "/MLmodel",
            tracking_uri=model.tracking_uri,
        )
        signature = Model.load(path).signature
    except Exception:  # noqa: BLE001 - no signature is a normal case; fall back to the data
        return None
    schema = signature.inputs if signature is not None else None
    names = schema.input_names() if schema is not None and schema.has_input_names() else None
    return tuple(names) if names else None


def _choose_features(
    baseline: pl.LazyFrame, current: pl.LazyFrame, time_column: str, columns: Sequence[str] | None,
    model_inputs: Sequence[str] | None, exclude: Sequence[str],
) -> tuple[tuple[str, ...], list[str]]:
    base_cols = baseline.collect_schema().names()
    cur_cols = current.collect_schema().names()
    notes = []
    if time_column not in cur_cols:
        raise UnknownColumn(
            f"time column {time_column!r} is not in the current data; its columns are: "
            f"{', '.join(cur_cols)}. Pass --time-column with one of them."
        )
    if columns:
        missing = [c for c in columns if c not in base_cols and c not in cur_cols]
        if missing:
            raise UnknownColumn(
                f"column(s) {', '.join(missing)} are in neither the training data nor the current data; "
                f"known columns: {', '.join(sorted(set(base_cols) | set(cur_cols)))}"
            )
        return tuple(columns), notes
    if model_inputs:
        chosen = [c for c in model_inputs if c in base_cols or c in cur_cols]
        notes.append(f"features taken from the model's signature ({len(chosen)} inputs)")
    else:
        chosen = [
            c for c in base_cols
            if c != time_column and c not in exclude and c != "id" and not c.endswith("_id")
        ]
        notes.append(
            "the model has no signature: features are the training columns except the time column, "
            f"id columns and {', '.join(exclude) or 'nothing else'}"
        )
    return tuple(c for c in chosen if c not in exclude and c != time_column), notes


def _as_lazy(frame: Any) -> pl.LazyFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    try:
        return pl.from_pandas(frame).lazy()
    except Exception as exc:
        raise InputError(f"current data must be a URI, a polars or pandas frame; got {type(frame).__name__}") from exc


def investigate(
    model: Any,
    current: Any = None,
    lineage: Any = None,
    *,
    metric: str = "auc",
    time_column: str,
    granularity: str = "1d",
    alias: str = "production",
    tracking_uri: str | None = None,
    eval_filter: str | None = "tags.env = 'production'",
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    lineage_dataset: Any = None,
    start: Any = None,
    end: Any = None,
    baseline_value: float | None = None,
    persistence: tuple[int, int] = (2, 3),
    lookback_days: int = 3,
    max_lag: int = 7,
    thresholds: dict | None = None,
    progress: Progress | None = None,
) -> Investigation:
    """Investigate a model's production metric: see the module docstring.

    ``model``: a registered name (resolved through ``alias``), a ``models:/`` URI, a run id, or a
    record from :func:`load_production_model`. ``current``: a URI (``load_current``), a frame, or
    None to read the training table's latest snapshot after the training data ends.
    ``lineage``: a path or URL for :func:`load_lineage`, a LineageGraph, or None (no lineage:
    drift without an upstream explanation reads as data drift, and the evidence says so).
    """
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.evaluations import metric_series
    from mlobs_notebook.models import ModelVersionRecord, load_production_model, training_datasets
    from mlobs_notebook.snapshots import load_current, load_snapshot, snapshot_check

    timings: dict[str, float] = {}
    notes: list[str] = []
    clock = time.perf_counter()

    def step(name: str, fraction: float) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        if progress is not None:
            progress(name, fraction)

    record = model if isinstance(model, ModelVersionRecord) else load_production_model(model, alias=alias, tracking_uri=tracking_uri)
    datasets = training_datasets(record)
    training = next((d for d in datasets if d.context == "training"), datasets[0])
    step("model", 0.1)

    check = snapshot_check(training) if _small(training) else None
    if check is None:
        notes.append("the training snapshot's digest was not rechecked (over 1,000,000 rows)")
    # read once: the drift engine holds the baseline in memory anyway
    baseline = load_snapshot(training, check_digest=False).collect().lazy()
    baseline_columns = baseline.collect_schema().names()
    step("baseline", 0.25)

    trained_until = (
        baseline.select(pl.col(time_column).max()).collect().item()
        if time_column in baseline_columns else None
    )
    if current is None:
        current_source = training.source.at_latest().uri
        current_frame = load_current(training.source.at_latest(), time_column, start=start, end=end)
        if start is None and trained_until is not None:
            current_frame = current_frame.filter(pl.col(time_column) > trained_until)
            notes.append(f"current data: {current_source} after the training data ends ({trained_until})")
    elif isinstance(current, str):
        current_source = current
        current_frame = load_current(current, time_column, start=start, end=end)
    else:
        current_source = f"<{type(current).__name__}>"
        current_frame = _as_lazy(current)

    features, feature_notes = _choose_features(
        baseline, current_frame, time_column, columns, _model_inputs(record), exclude
    )
    notes += feature_notes
    current_data = current_frame.select(*features, time_column).collect()
    if current_data.height == 0:
        raise InputError(
            f"no current rows in {current_source} for the time range "
            f"{start or 'after training'} .. {end or 'now'}: nothing to compare"
        )
    current_range = (current_data[time_column].min(), current_data[time_column].max())
    step("current", 0.4)

    report = compute_drift(
        baseline.select(*[f for f in features if f in baseline_columns]),
        current_data, time_column=time_column, granularity=granularity, thresholds=thresholds,
    )
    step("drift", 0.6)

    series = metric_series(record, metric=metric, filter_string=eval_filter)
    if series.height == 0:
        raise InputError(
            f"no runs with metric {metric!r} matching {eval_filter!r} in the experiment of "
            f"{record.name or record.run_id}; check --metric and --eval-filter"
        )
    drifts = drift_series(report)
    onsets = tuple(drift_onsets(drifts, persistence))
    drop = metric_drop(series, metric, baseline_value=baseline_value, persistence=persistence)
    correlations = {
        o.feature: lagged_correlation(drifts.filter(pl.col("feature") == o.feature), series, max_lag=max_lag)
        for o in onsets if o.onset is not None
    }
    step("correlate", 0.7)

    graph, target, upstream, changes, unconnected = None, None, {}, {}, []
    if lineage is not None:
        graph, target, upstream, changes, unconnected, lineage_notes = _lineage_evidence(
            lineage, lineage_dataset, training, onsets, drop, lookback_days
        )
        notes += lineage_notes
    else:
        notes.append("no lineage given: upstream changes were not searched")
    step("lineage", 0.9)

    diagnosis = diagnose(onsets, drop, changes, lookback_days=lookback_days,
                         window=_granularity_delta(granularity), unconnected=unconnected,
                         lineage_searched=target is not None)
    step("diagnose", 1.0)
    return Investigation(
        model=record, dataset=training, snapshot_check=check, features=features,
        time_column=time_column, granularity=granularity, current_source=current_source,
        current_range=current_range, trained_until=trained_until, drift=report, metric_name=metric, metric=series,
        onsets=onsets, drop=drop, correlations=correlations,
        lineage_dataset=str(target) if target is not None else None, upstream=upstream,
        diagnosis=diagnosis, notes=tuple(notes), timings=timings, lineage=graph,
    )


def _small(record: Any) -> bool:
    rows = (record.profile or {}).get("num_rows")
    return rows is not None and rows <= 1_000_000


def _granularity_delta(granularity: str) -> timedelta:
    return {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}.get(granularity, timedelta(days=1))


def _lineage_evidence(lineage, lineage_dataset, training, onsets, drop, lookback_days):
    from mlobs_notebook.lineage import LineageGraph, load_lineage

    notes = []
    graph = lineage if isinstance(lineage, LineageGraph) else load_lineage(lineage)
    if graph.problems:
        notes.append(f"{len(graph.problems)} lineage event(s) could not be used (see lineage.problems)")
    target = graph.resolve_dataset(lineage_dataset) if lineage_dataset is not None else graph.match_dataset(training.source.uri)
    if target is None:
        notes.append(
            f"no OpenLineage dataset matches the training source {training.source.uri}: pass "
            "lineage_dataset= (--lineage-dataset NAMESPACE/NAME) to search upstream changes"
        )
        return graph, None, {}, {}, [], notes
    upstream, changes = {}, {}
    drifted = [o for o in onsets if o.onset is not None]
    for o in drifted:
        since = datetime.combine(o.onset, datetime.min.time(), tzinfo=UTC) - timedelta(days=lookback_days)
        until = datetime.combine(o.onset, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
        try:
            up = graph.upstream(target, column=o.feature)
        except InputError:
            up = graph.upstream(target)
            notes.append(f"{o.feature} is not a field of {target} in the lineage: dataset-level lineage used")
        upstream[o.feature] = up
        if up.note:
            notes.append(f"{o.feature}: {up.note}")
        column = o.feature if up.column is not None else None
        changes[o.feature] = [_upstream_change(c) for c in graph.changes(target, column=column, since=since, until=until)]
    unconnected = []
    if drifted:
        first = min(o.onset for o in drifted)
        since = datetime.combine(first, datetime.min.time(), tzinfo=UTC) - timedelta(days=lookback_days)
        until = datetime.combine(first, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
        connected = {c.run_id for cs in changes.values() for c in cs}
        unconnected = [
            _upstream_change(c) for c in graph.changes(target, since=since, until=until)
            if c.run_id not in connected
        ]
    return graph, target, upstream, changes, unconnected, notes


def _upstream_change(change) -> UpstreamChange:
    return UpstreamChange(
        job=change.job.name, run_id=change.run_id, event_time=change.event_time, kind=change.kind,
        detail=change.detail, distance=change.distance, column_level=change.via_column_lineage,
        diff=change.diff,
    )
