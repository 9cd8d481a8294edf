"""Drift written back where engineers already look: MLflow metrics and OpenLineage facets.

- :func:`log_drift`: per-feature drift statistics as MLflow metrics (``drift.<column>.<statistic>``,
  step = window index, timestamp = window start) on a run, linked to the model's LoggedModel when
  one is known, and the full report (table, bins, profile) as parquet artifacts. Logging the same
  report twice is a no-op: a tag ``mlobs.drift.<digest>`` on the run marks it done, and it is
  written last, so an interrupted log is completed by the next call.
- :func:`emit_quality_facets`: an OpenLineage RunEvent reading the dataset, with the input facets
  ``dataQualityMetrics`` (row count, per-column null counts) and ``dataQualityAssertions`` (one
  ``drift below threshold`` assertion per feature), sent through the openlineage-python client.
- :func:`quality_assertions`: those assertions read back from a loaded lineage graph.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.errors import InputError
from mlobs_notebook.times import to_utc

__all__ = [
    "DRIFT_STATISTICS",
    "DriftLog",
    "emit_quality_facets",
    "log_drift",
    "metric_key",
    "quality_assertions",
    "report_digest",
]

DRIFT_STATISTICS = (
    "population_stability_index",
    "js_distance",
    "ks_statistic",
    "wasserstein_normalized",
    "chi_squared_statistic",
    "tv_distance",
    "percent_null_delta",
)
ASSERTION = "drift below threshold"
DIGEST_TAG = "mlobs.drift."
_BATCH = 1000  # MLflow's limit of metrics per log_batch
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")


@dataclass(frozen=True)
class DriftLog:
    """Where a report went: the run, the LoggedModel, the artifact folder, and whether it was new."""

    run_id: str
    model_id: str | None
    digest: str
    artifact_path: str
    metrics: int
    skipped: bool


def metric_key(column: str, statistic: str) -> str:
    """The MLflow metric name of one column's statistic (characters MLflow rejects become _)."""
    return f"drift.{_UNSAFE.sub('_', column)}.{statistic}"


def report_digest(report: Any) -> str:
    """A content hash of the report's table: the same drift gives the same digest."""
    table = report.table.sort("drift_type", "window_start", "column_name", nulls_last=True)
    return hashlib.sha256(table.write_json().encode()).hexdigest()


def log_drift(
    report: Any,
    run_id: str | None = None,
    model: Any = None,
    *,
    statistics: Sequence[str] = DRIFT_STATISTICS,
    drift_type: str = "BASELINE",
    tracking_uri: str | None = None,
) -> DriftLog:
    """Log ``report`` to MLflow: metrics per feature and window, and the report as parquet.

    ``run_id``: an evaluation run to log on. ``model``: a registered model (name, ``models:/``
    URI or ModelVersionRecord) whose LoggedModel the metrics are linked to; with a model and no
    run, a drift run is created in the model's experiment (tagged ``mlobs.kind=drift``). Metrics
    are named by :func:`metric_key`; step is the window's index (0 for a report without windows),
    timestamp its start. Returns a :class:`DriftLog`; ``skipped`` when this report was logged there
    before.
    """
    from mlflow.entities import Metric

    from mlobs_notebook.sources.mlflow_access import connect, get_run, mlflow_errors

    if run_id is None and model is None:
        raise InputError("log_drift needs run_id= (an evaluation run) or model= (a registered model)")
    digest = report_digest(report)
    tag = DIGEST_TAG + digest[:16]
    artifact_path = f"drift/{digest[:16]}"
    client, uri = connect(tracking_uri or getattr(model, "tracking_uri", None) or None)
    with mlflow_errors(uri):
        record = _model_record(model, uri) if model is not None else None
        model_id = record.logged_model_id if record is not None else None
        if run_id is None:
            run_id = _drift_run(client, record, digest)
        run = get_run(client, run_id)
        if tag in run.data.tags:
            return DriftLog(run_id, model_id, digest, artifact_path, 0, skipped=True)
        metrics = [
            Metric(key, value, timestamp, step, model_id=model_id)
            for key, value, timestamp, step in _metric_rows(report, statistics, drift_type)
        ]
        for start in range(0, len(metrics), _BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + _BATCH])
        with tempfile.TemporaryDirectory(prefix="mlobs-drift-") as folder:
            _write_report(report, Path(folder))
            client.log_artifacts(run_id, folder, artifact_path=artifact_path)
        client.set_tag(run_id, tag, artifact_path)
    return DriftLog(run_id, model_id, digest, artifact_path, len(metrics), skipped=False)


def _metric_rows(report: Any, statistics: Sequence[str], drift_type: str) -> list[tuple]:
    table = report.table.filter(pl.col("drift_type") == drift_type)
    unknown = [s for s in statistics if s not in table.columns]
    if unknown:
        raise InputError(f"the report has no statistic {', '.join(unknown)}. "
                         f"Its statistics: {', '.join(DRIFT_STATISTICS)}")
    starts = sorted(table["window_start"].drop_nulls().unique().to_list())
    step_of = {start: i for i, start in enumerate(starts)}
    now = int(time.time() * 1000)
    rows = []
    for row in table.iter_rows(named=True):
        start = row["window_start"]
        step = step_of.get(start, 0)
        timestamp = _ms(start) if start is not None else now
        values = {s: row[s] for s in statistics}
        if row["drifted"] is not None:
            values["drifted"] = float(row["drifted"])
        for statistic, value in values.items():
            if value is not None and value == value:  # MLflow keeps NaN, but it says nothing
                rows.append((metric_key(row["column_name"], statistic), float(value), timestamp, step))
    return rows


def _write_report(report: Any, folder: Path) -> None:
    report.table.write_parquet(folder / "drift_report.parquet")
    report.bins.write_parquet(folder / "drift_bins.parquet")
    report.profile.write_parquet(folder / "drift_profile.parquet")


def _model_record(model: Any, uri: str) -> Any:
    from mlobs_notebook.records import ModelVersionRecord
    from mlobs_notebook.sources.models import load_production_model

    if isinstance(model, ModelVersionRecord):
        return model
    return load_production_model(str(model), tracking_uri=uri)


def _drift_run(client: Any, record: Any, digest: str) -> str:
    found = client.search_runs(
        [record.experiment_id],
        f"tags.`mlobs.kind` = 'drift' and tags.`mlobs.drift_digest` = '{digest}' "
        f"and tags.`mlobs.model` = '{record.name}@{record.version}'",
        max_results=1,
    )
    if found:
        return found[0].info.run_id
    run = client.create_run(
        record.experiment_id,
        run_name=f"drift-{digest[:8]}",
        tags={"mlobs.kind": "drift", "mlobs.drift_digest": digest,
              "mlobs.model": f"{record.name}@{record.version}"},
    )
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _ms(moment: datetime) -> int:
    return int(to_utc(moment).timestamp() * 1000)


def emit_quality_facets(
    report: Any,
    dataset: Any,
    transport: Any = None,
    *,
    threshold: float | None = None,
    statistic: str = "population_stability_index",
    job: tuple[str, str] = ("mlobs", "drift_check"),
    run_id: str | None = None,
    client: Any = None,
) -> Any:
    """Send one OpenLineage COMPLETE event whose input ``dataset`` carries the drift as data quality.

    ``dataset``: ``(namespace, name)``, a mapping with those keys, or an object with those
    attributes (a lineage DatasetRef). ``transport``: an openlineage-python Transport (a
    FileTransport, an HttpTransport to Marquez, ...); ``None`` uses the client's configuration
    (``openlineage.yml`` or ``OPENLINEAGE_*``), as does a given ``client``. A feature passes its
    assertion when ``statistic`` stays under ``threshold`` in every window (``threshold=None``:
    when the report flagged no window as drifted). Returns the event that was sent.
    """
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset as dqa,
    )
    from openlineage.client.facet_v2 import (
        data_quality_metrics_input_dataset as dqm,
    )
    from openlineage.client.uuid import generate_new_uuid

    namespace, name = _dataset_identity(dataset)
    metrics, rows = _quality_metrics(report)
    assertions = [
        dqa.Assertion(assertion=ASSERTION, success=ok, column=column, name=f"{statistic} drift",
                      expected=expected, actual=actual)
        for column, ok, expected, actual in _assertions(report, statistic, threshold)
    ]
    facets = {
        "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
            rowCount=rows,
            columnMetrics={c: dqm.ColumnMetrics(nullCount=n, count=float(k)) for c, (n, k) in metrics.items()},
        ),
        "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(assertions=assertions),
    }
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=run_id or str(generate_new_uuid())),
        job=Job(namespace=job[0], name=job[1]),
        inputs=[InputDataset(namespace=namespace, name=name, inputFacets=facets)],
        outputs=[],
    )
    if client is None:
        client = OpenLineageClient(transport=transport) if transport is not None else OpenLineageClient()
    client.emit(event)
    return event


def _dataset_identity(dataset: Any) -> tuple[str, str]:
    if isinstance(dataset, Mapping):
        namespace, name = dataset.get("namespace"), dataset.get("name")
    elif isinstance(dataset, tuple) and len(dataset) == 2:
        namespace, name = dataset
    else:
        namespace, name = getattr(dataset, "namespace", None), getattr(dataset, "name", None)
    if not (isinstance(namespace, str) and isinstance(name, str) and namespace and name):
        raise InputError(
            f"dataset must be (namespace, name), a mapping or an object with namespace and name, "
            f"not {dataset!r}; e.g. ('s3://churn-lake', 'warehouse/features/user_activity_features')"
        )
    return namespace, name


def _quality_metrics(report: Any) -> tuple[dict[str, tuple[int, int]], int]:
    """Per column (null count, non-null count) over every current window, and the row count."""
    current = report.profile.filter(pl.col("source") == "current")
    per_column = current.group_by("column_name").agg(
        pl.col("null_count").sum().alias("nulls"), pl.col("count").sum().alias("rows")
    ).sort("column_name")
    out = {c: (int(n), int(r) - int(n)) for c, n, r in per_column.iter_rows()}
    rows = int(per_column["rows"].max()) if per_column.height else 0
    return out, rows


def _assertions(report: Any, statistic: str, threshold: float | None) -> list[tuple]:
    from mlobs_notebook.drift import get_statistic

    stat = get_statistic(statistic)
    out = []
    for row in report.worst_by_column(statistic).sort("column_name").iter_rows(named=True):
        column, worst = row["column_name"], row["worst"]
        if threshold is None:
            ok = row["drifted_windows"] == 0
            expected = "no window flagged as drifted"
        else:
            ok = worst is None or not stat.beyond(float(worst), float(threshold))
            expected = f"{'<' if stat.higher_is_drift else '>='} {threshold:g}"
        out.append((column, ok, expected, "n/a" if worst is None else f"{worst:.6g}"))
    return out


def quality_assertions(lineage: Any, dataset: Any) -> pl.DataFrame:
    """Every data quality assertion recorded on ``dataset``'s inputs in a loaded lineage graph.

    One row per assertion: event_time, run_id, job, column, assertion, success, expected, actual,
    newest first. Read from the raw ``dataQualityAssertions`` facet that the lineage model keeps
    on each run's inputs (it has no assertion record of its own).
    """
    target = lineage.resolve_dataset(dataset)
    rows = []
    for run in lineage.runs.values():
        for io in run.inputs:
            if lineage.canonical(io.ref) != target:
                continue
            facet = (io.facets or {}).get("dataQualityAssertions") or {}
            for item in facet.get("assertions") or ():
                if isinstance(item, Mapping):
                    rows.append({
                        "event_time": run.event_time, "run_id": run.run_id, "job": str(run.job),
                        "column": item.get("column"), "assertion": item.get("assertion"),
                        "success": item.get("success"), "expected": item.get("expected"),
                        "actual": item.get("actual"),
                    })
    schema = {"event_time": pl.Datetime("us", "UTC"), "run_id": pl.String(), "job": pl.String(),
              "column": pl.String(), "assertion": pl.String(), "success": pl.Boolean(),
              "expected": pl.String(), "actual": pl.String()}
    return pl.DataFrame(rows, schema=schema).sort("event_time", "column", descending=[True, False])
