"""The demo world's lineage as Unity Catalog system table rows, in the documented schemas.

Each scheduler task of the demo (an OpenLineage job such as ``churn_features_daily.sessionize``)
becomes a single-task Databricks job; each of its runs a job run. Per run, ``job_run_timeline``
gets its period and ``result_state``, ``table_lineage`` a row per (input, output) and
``column_lineage`` a row per column edge, tied to the run through ``entity_metadata.job_info``.
``jobs`` gets a new row (slowly changing, ``change_time``) whenever the task's SQL differs from its
previous run's, taking effect between the two runs: the tables carry no SQL, only that the job
changed. Datasets: a lake table with an Iceberg name ``<catalog>.<ns>.<table>`` is that Unity
Catalog table with its storage path; a lake path without one is read and written as a ``PATH``;
a database table (``postgres://host`` + ``db.schema.table``) is the table of a foreign catalog
named after the database. Ids are numbers derived from the names, so an export is reproducible.

Schemas: https://docs.databricks.com/aws/en/admin/system-tables/lineage and
https://docs.databricks.com/aws/en/admin/system-tables/jobs (``job_run_timeline`` from secondary
copies of the docs; see ``lineage/readers/unity_catalog.py``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from mlobs_notebook.lineage import Dataset, DatasetRef, LineageGraph, Run

__all__ = ["SCHEMAS", "WORKSPACE_ID", "databricks_id", "system_table_rows"]

WORKSPACE_ID = "1444828305810485"
ACCOUNT_ID = "0b6d6c1e-64a5-4c2a-9f0e-3f1d2c7a5e11"
METASTORE_ID = "5a31ba44-bbf4-4174-bf33-e1fa078e6765"
RUN_AS = "churn-pipelines@example.com"
TS = pa.timestamp("us", tz="UTC")
_STATES = {"COMPLETE": ("SUCCEEDED", "SUCCESS"), "FAIL": ("FAILED", "RUN_EXECUTION_ERROR"), "ABORT": ("CANCELLED", "CANCELED")}

_LINEAGE_HEAD = [
    ("account_id", pa.string()), ("metastore_id", pa.string()), ("workspace_id", pa.string()),
    ("entity_type", pa.string()), ("entity_id", pa.string()), ("entity_run_id", pa.string()),
    ("source_table_full_name", pa.string()), ("source_table_catalog", pa.string()),
    ("source_table_schema", pa.string()), ("source_table_name", pa.string()), ("source_path", pa.string()),
    ("source_type", pa.string()),
]  # fmt: skip
_LINEAGE_TARGET = [
    ("target_table_full_name", pa.string()), ("target_table_catalog", pa.string()),
    ("target_table_schema", pa.string()), ("target_table_name", pa.string()), ("target_path", pa.string()),
    ("target_type", pa.string()),
]  # fmt: skip
_ENTITY_METADATA = pa.struct([
    ("job_info", pa.struct([("job_id", pa.string()), ("job_run_id", pa.string())])),
    ("dashboard_id", pa.string()), ("legacy_dashboard_id", pa.string()), ("notebook_id", pa.string()),
    ("sql_query_id", pa.string()),
    ("dlt_pipeline_info", pa.struct([("dlt_pipeline_id", pa.string()), ("dlt_update_id", pa.string())])),
])  # fmt: skip
_LINEAGE_TAIL = [
    ("created_by", pa.string()), ("event_time", TS), ("event_date", pa.date32()), ("record_id", pa.string()),
    ("event_id", pa.string()), ("statement_id", pa.string()), ("entity_metadata", _ENTITY_METADATA),
]  # fmt: skip
SCHEMAS: dict[str, pa.Schema] = {
    "access/table_lineage": pa.schema(_LINEAGE_HEAD + _LINEAGE_TARGET + _LINEAGE_TAIL),
    "access/column_lineage": pa.schema(
        _LINEAGE_HEAD + [("source_column_name", pa.string())] + _LINEAGE_TARGET
        + [("target_column_name", pa.string())] + _LINEAGE_TAIL
    ),
    "lakeflow/jobs": pa.schema([
        ("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()), ("name", pa.string()),
        ("description", pa.string()), ("creator_id", pa.string()), ("tags", pa.map_(pa.string(), pa.string())),
        ("change_time", TS), ("delete_time", TS), ("run_as", pa.string()), ("trigger_type", pa.string()),
    ]),
    "lakeflow/job_tasks": pa.schema([
        ("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()), ("task_key", pa.string()),
        ("depends_on_keys", pa.list_(pa.string())), ("change_time", TS), ("delete_time", TS),
    ]),
    "lakeflow/job_run_timeline": pa.schema([
        ("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()), ("run_id", pa.string()),
        ("period_start_time", TS), ("period_end_time", TS), ("trigger_type", pa.string()), ("run_type", pa.string()),
        ("run_name", pa.string()), ("compute_ids", pa.list_(pa.string())), ("result_state", pa.string()),
        ("termination_code", pa.string()), ("job_parameters", pa.map_(pa.string(), pa.string())),
    ]),
}  # fmt: skip


def databricks_id(text: str) -> str:
    """A Databricks-like numeric id (15 digits or fewer) derived from ``text``."""
    return str(int(hashlib.sha256(text.encode()).hexdigest()[:12], 16))


def uc_table(dataset: Dataset) -> tuple[str | None, str | None, str]:
    """(full name, storage path, source/target type) of a demo dataset in Unity Catalog."""
    ref = dataset.ref
    iceberg = next((a for a in dataset.aliases if a.namespace.startswith("iceberg://")), None)
    if "://" in ref.namespace and not ref.namespace.startswith(("postgres", "mysql")):
        full = f"{iceberg.namespace.removeprefix('iceberg://')}.{iceberg.name}" if iceberg else None
        return full, f"{ref.namespace}/{ref.name}", "TABLE" if full else "PATH"
    return ref.name, None, "TABLE"


def _side(prefix: str, table: tuple[str | None, str | None, str]) -> dict[str, Any]:
    full, path, kind = table
    parts = full.split(".") if full else [None, None, None]
    return {f"{prefix}_table_full_name": full, f"{prefix}_table_catalog": parts[0], f"{prefix}_table_schema": parts[1],
            f"{prefix}_table_name": parts[2], f"{prefix}_path": path, f"{prefix}_type": kind}  # fmt: skip


def system_table_rows(graph: LineageGraph) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """(rows per table, OpenLineage run id -> Databricks run id) for every task job of the demo."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
    run_ids: dict[str, str] = {}
    common = {"account_id": ACCOUNT_ID, "workspace_id": WORKSPACE_ID}
    for job in sorted(graph.jobs.values(), key=lambda j: j.ref):
        if not (job.inputs or job.outputs):
            continue  # the DAGs themselves read and write nothing
        job_id = databricks_id(f"job:{job.ref}")
        runs = graph.runs_of(job.ref)
        versions = _job_versions(job.ref.name, job_id, runs, common)
        rows["lakeflow/jobs"] += versions
        rows["lakeflow/job_tasks"].append({**common, "job_id": job_id, "task_key": job.ref.name.rsplit(".", 1)[-1],
                                           "depends_on_keys": [], "change_time": versions[0]["change_time"],
                                           "delete_time": None})
        for run in runs:
            run_id = run_ids[run.run_id] = databricks_id(f"run:{run.run_id}")
            start, end = run.start_time or run.event_time, run.end_time or run.event_time
            state, code = _STATES.get(run.state, (None, None))
            rows["lakeflow/job_run_timeline"].append({
                **common, "job_id": job_id, "run_id": run_id, "period_start_time": start, "period_end_time": end,
                "trigger_type": "CRON", "run_type": "JOB_RUN", "run_name": job.ref.name,
                "compute_ids": [f"0730-{job_id[:6]}-demo"], "result_state": state, "termination_code": code,
                "job_parameters": [("run_date", start.date().isoformat())],
            })  # fmt: skip
            rows["access/table_lineage"] += _lineage(graph, run, job_id, run_id, common, column=False)
            rows["access/column_lineage"] += _lineage(graph, run, job_id, run_id, common, column=True)
    return rows, run_ids


def _job_versions(name: str, job_id: str, runs: list[Run], common: dict[str, str]) -> list[dict[str, Any]]:
    """One row per definition: the first a day before the first run, then one between the last
    run of the old definition and the first of the new."""
    out: list[dict[str, Any]] = []
    previous: tuple[str, datetime] | None = None
    for run in runs:
        text, start = run.definition.text(), run.start_time or run.event_time
        if previous is None or text != previous[0]:
            at = start - timedelta(days=1) if previous is None else previous[1] + (start - previous[1]) / 2
            out.append({
                **common, "job_id": job_id, "name": name, "description": f"{name}: one task, scheduled daily",
                "creator_id": "4211906452781543", "tags": [("team", "churn"), ("dag", name.split(".", 1)[0])],
                "change_time": at, "delete_time": None, "run_as": RUN_AS, "trigger_type": "CRON",
            })  # fmt: skip
        previous = (text, run.end_time or run.event_time)
    return out


def _lineage(graph: LineageGraph, run: Run, job_id: str, run_id: str, common: dict[str, str], *, column: bool) -> list[dict[str, Any]]:
    """table_lineage rows (each input to each output) or column_lineage rows (each column edge)."""
    meta = {"job_info": {"job_id": job_id, "job_run_id": run_id}, "dashboard_id": None, "legacy_dashboard_id": None,
            "notebook_id": None, "sql_query_id": None, "dlt_pipeline_info": None}  # fmt: skip
    at = run.end_time or run.event_time
    base = {**common, "metastore_id": METASTORE_ID, "entity_type": "JOB", "entity_id": job_id, "entity_run_id": run_id,
            "created_by": RUN_AS, "event_time": at, "event_date": at.date(), "entity_metadata": meta}  # fmt: skip

    def table(ref: DatasetRef) -> tuple[str | None, str | None, str]:
        return uc_table(graph.datasets[graph.canonical(ref)])

    pairs: list[dict[str, Any]] = []
    for out in run.outputs:
        if column:
            for edge in out.column_edges:
                if edge.target_field is not None:
                    pairs.append({**_side("source", table(edge.source.dataset)), "source_column_name": edge.source.field,
                                  **_side("target", table(out.ref)), "target_column_name": edge.target_field})  # fmt: skip
        else:
            pairs += [{**_side("source", table(i.ref)), **_side("target", table(out.ref))} for i in run.inputs]
    kind = "column" if column else "table"
    return [
        {**base, **pair, "record_id": databricks_id(f"{kind}:{run_id}:{i}"), "event_id": databricks_id(f"event:{run_id}"),
         "statement_id": databricks_id(f"statement:{run_id}")}  # fmt: skip
        for i, pair in enumerate(pairs)
    ]
