"""Unity Catalog system table exports as a lineage source: recognised in a folder by their columns,
read as Delta, Spark parquet folders or single files, and answering upstream and changes queries.

The pipeline, built in the documented schemas (``tests/databricks_tables.py``):

    s3://lake/landing/events --ingest_events (11)--> main.raw.events --\\
    (foreign) --load_invoices (33)--> main.billing.invoices ------------ build_features (22) --> main.ml.features --> a notebook

build_features is edited on day 6 (a new jobs row) and gains a task on day 8 (job_tasks);
load_invoices fails on day 4 and is cancelled on day 7 (spelled CANCELED, the Jobs API's way);
ingest_events' day-3 run lasts past an hour boundary, so the timeline has two slices of it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks_tables import (
    COLUMN_LINEAGE,
    JOB_RUN_TIMELINE,
    JOB_TASKS,
    JOBS,
    TABLE_LINEAGE,
    table,
    write,
)

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.lineage import DatasetRef, load_lineage

UTC = dt.UTC
WS = "6051921418418893"
DAY0 = dt.datetime(2025, 5, 1, tzinfo=UTC)
TABLES = {
    "landing": (None, "s3://lake/landing/events", "PATH"),
    "events": ("main.raw.events", "s3://lake/raw/events", "TABLE"),
    "invoices": ("main.billing.invoices", None, "TABLE"),
    "features": ("main.ml.features", "s3://lake/ml/features", "TABLE"),
}
JOB_NAMES = {"11": "ingest_events", "22": "build_features", "33": "load_invoices"}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=day, hours=hour, minutes=minute)


def run_id(job: str, day: int) -> str:
    return f"{job}{day:04d}77"


def _side(prefix: str, key: str) -> dict:
    full, path, kind = TABLES[key]
    parts = full.split(".") if full else [None] * 3
    return {f"{prefix}_table_full_name": full, f"{prefix}_table_catalog": parts[0], f"{prefix}_table_schema": parts[1],
            f"{prefix}_table_name": parts[2], f"{prefix}_path": path, f"{prefix}_type": kind}  # fmt: skip


def _lineage_row(job: str, day: int, source: str, target: str | None, when: dt.datetime, metadata: bool = True) -> dict:
    row = {"account_id": "acc", "metastore_id": "ms", "workspace_id": WS, "entity_type": "JOB", "entity_id": job,
           "entity_run_id": run_id(job, day), "event_time": when, "event_date": when.date(), "direct_access": False,
           **_side("source", source), **(_side("target", target) if target else {})}  # fmt: skip
    if metadata:
        row["entity_metadata"] = {"job_info": {"job_id": job, "job_run_id": run_id(job, day)}}
    return row


def pipeline() -> dict[str, pa.Table]:
    timeline, lineage, columns = [], [], []
    for day in range(10):
        common = {"account_id": "acc", "workspace_id": WS, "trigger_type": "CRON", "run_type": "JOB_RUN"}
        # load_invoices: no lineage source (a foreign connection) -> writes main.billing.invoices
        state = {4: ("FAILED", "RUN_EXECUTION_ERROR"), 7: ("CANCELED", "CANCELED")}.get(day, ("SUCCEEDED", "SUCCESS"))
        timeline.append({**common, "job_id": "33", "run_id": run_id("33", day), "period_start_time": at(day, 0, 30),
                         "period_end_time": at(day, 0, 40), "result_state": state[0], "termination_code": state[1]})  # fmt: skip
        if state[0] == "SUCCEEDED":
            row = _lineage_row("33", day, "invoices", "invoices", at(day, 0, 39), metadata=False)
            lineage.append({**row, **{k: None for k in _side("source", "invoices")}})  # a write with no source
        # ingest_events; the day-3 run spans 01:50 .. 02:30 and is sliced at the hour
        if day == 3:
            timeline.append({**common, "job_id": "11", "run_id": run_id("11", 3), "period_start_time": at(3, 1, 50),
                             "period_end_time": at(3, 2), "result_state": None})  # fmt: skip
            timeline.append({**common, "job_id": "11", "run_id": run_id("11", 3), "period_start_time": at(3, 2),
                             "period_end_time": at(3, 2, 30), "result_state": "SUCCEEDED", "termination_code": "SUCCESS"})  # fmt: skip
        else:
            timeline.append({**common, "job_id": "11", "run_id": run_id("11", day), "period_start_time": at(day, 1),
                             "period_end_time": at(day, 1, 10), "result_state": "SUCCEEDED", "termination_code": "SUCCESS"})  # fmt: skip
        lineage.append(_lineage_row("11", day, "landing", "events", at(day, 1, 5)))
        columns.append({**_lineage_row("11", day, "landing", "events", at(day, 1, 5)), "source_column_name": "sid",
                        "target_column_name": "session_id"})  # fmt: skip
        # build_features
        timeline.append({**common, "job_id": "22", "run_id": run_id("22", day), "period_start_time": at(day, 3),
                         "period_end_time": at(day, 3, 20), "result_state": "SUCCEEDED", "termination_code": "SUCCESS"})  # fmt: skip
        for source in ("events", "invoices"):
            lineage.append(_lineage_row("22", day, source, "features", at(day, 3, 15)))
        for source, src_col, tgt_col in (("events", "session_id", "sessions_7d"), ("invoices", "amount", "spend")):
            columns.append({**_lineage_row("22", day, source, "features", at(day, 3, 15)),
                            "source_column_name": src_col, "target_column_name": tgt_col})  # fmt: skip
    notebook = {**_lineage_row("0", 0, "features", None, at(9, 12)), "entity_type": "NOTEBOOK", "entity_id": "999",
                "entity_run_id": None, "entity_metadata": {"notebook_id": "999"}}  # fmt: skip
    lineage.append(notebook)
    jobs = [{"account_id": "acc", "workspace_id": WS, "job_id": job, "name": name, "description": "daily",
             "tags": [("team", "growth")], "change_time": DAY0 - dt.timedelta(days=30), "run_as": "svc"}
            for job, name in JOB_NAMES.items()]  # fmt: skip
    jobs.append({**jobs[1], "description": "sessions over 1 day (was 7)", "tags": [("team", "growth"), ("owner", "ana")],
                 "change_time": at(6, 0, 30)})  # fmt: skip
    tasks = [{"account_id": "acc", "workspace_id": WS, "job_id": job, "task_key": "main", "depends_on_keys": [],
              "change_time": DAY0 - dt.timedelta(days=30)} for job in JOB_NAMES]  # fmt: skip
    tasks.append({**tasks[1], "task_key": "validate", "depends_on_keys": ["main"], "change_time": at(8, 0, 10)})
    extra = [("direct_access", pa.bool_())]
    return {
        "access/table_lineage": table(TABLE_LINEAGE, lineage, extra=extra),
        "access/column_lineage": table(COLUMN_LINEAGE, columns, extra=extra),
        "lakeflow/job_run_timeline": table(JOB_RUN_TIMELINE, timeline),
        "lakeflow/jobs": table(JOBS, jobs),
        "lakeflow/job_tasks": table(JOB_TASKS, tasks),
    }


def export(root: Path, how: str, tables: dict[str, pa.Table] | None = None) -> Path:
    for name, data in (tables or pipeline()).items():
        write(data, root / name, how)
    return root


@pytest.fixture(scope="module", params=["delta", "spark", "parquet"])
def graph(request, tmp_path_factory):
    return load_lineage(export(tmp_path_factory.mktemp(request.param), request.param))


FEATURES = DatasetRef("s3://lake", "ml/features")


def test_tables_are_recognised_and_read(graph):
    assert graph.problems == ()
    assert graph.resolve_dataset("main.ml.features") == FEATURES  # the Unity Catalog name is a symlink
    assert graph.match_dataset("s3://lake/ml/features") == FEATURES
    assert {j.name for j in graph.jobs} == {*JOB_NAMES.values(), "notebook 999"}
    assert len(graph.runs) == 30


def test_upstream_of_a_column_follows_column_lineage(graph):
    up = graph.upstream(FEATURES, column="sessions_7d")
    assert up.column_level
    assert {j.name for j in up.jobs} == {"build_features", "ingest_events"}
    assert DatasetRef("s3://lake", "landing/events") in up.datasets
    whole = graph.upstream(FEATURES)
    assert {j.name for j in whole.jobs} == set(JOB_NAMES.values())
    assert {j.name for j in graph.downstream(FEATURES).jobs} == {"notebook 999"}


def test_a_new_jobs_row_is_a_definition_change_of_the_first_run_under_it(graph):
    found = graph.changes(FEATURES, column="sessions_7d", since=at(5, 0), until=at(7, 0))
    (change,) = [c for c in found if c.kind == "job_definition"]
    assert change.job.name == "build_features" and change.run_id == run_id("22", 6)
    assert change.event_time == at(6, 3, 20)
    assert "job definition changed (settings, version)" in change.detail
    assert "-description: daily" in change.diff and "+description: sessions over 1 day (was 7)" in change.diff
    assert "+tags: owner=ana, team=growth" in change.diff
    assert f"\n+-- version: {at(6, 0, 30).isoformat()}\n" in change.diff  # the version in force, on its own line


def test_failures_aborts_and_task_changes(graph):
    found = graph.changes(FEATURES, since=at(3, 0), until=at(9, 0))
    by_kind = {(c.kind, c.job.name, c.run_id): c for c in found}
    failure = by_kind[("failure", "load_invoices", run_id("33", 4))]
    assert failure.detail == "run failed: result_state FAILED, termination_code RUN_EXECUTION_ERROR"
    assert by_kind[("failure", "load_invoices", run_id("33", 7))].detail.startswith("run was aborted: result_state CANCELED")
    tasks = by_kind[("job_definition", "build_features", run_id("22", 8))]
    assert "+tasks: main; validate (after main)" in tasks.diff
    # the sliced day-3 run ended well at 02:30: no failure
    assert not [c for c in found if c.job.name == "ingest_events"]
    assert graph.runs[run_id("11", 3)].end_time == at(3, 2, 30) and graph.runs[run_id("11", 3)].state == "COMPLETE"


def test_older_spellings_and_types(tmp_path):
    tables = pipeline()
    # job ids as bigint (one third-party reference) and tags as a string (older docs)
    timeline = tables["lakeflow/job_run_timeline"]
    tables["lakeflow/job_run_timeline"] = timeline.set_column(
        timeline.schema.get_field_index("job_id"), "job_id", pa.array([int(x) for x in timeline["job_id"].to_pylist()], pa.int64())
    )
    jobs = tables["lakeflow/jobs"]
    tables["lakeflow/jobs"] = jobs.set_column(jobs.schema.get_field_index("tags"), "tags",
                                              pa.array(["team:growth"] * jobs.num_rows, pa.string()))  # fmt: skip
    # no entity_metadata at all: the entity_* columns tie rows to runs
    tables["access/table_lineage"] = tables["access/table_lineage"].drop_columns(["entity_metadata"])
    graph = load_lineage(export(tmp_path, "parquet", tables))
    assert graph.problems == ()
    assert {c.run_id for c in graph.changes(FEATURES, since=at(5, 0), until=at(7, 0)) if c.kind == "job_definition"} == {run_id("22", 6)}
    assert len(graph.runs_of(next(j for j in graph.jobs if j.name == "build_features"))) == 10


def test_a_missing_required_column_names_it_and_the_table(tmp_path):
    tables = pipeline()
    tables["lakeflow/job_run_timeline"] = tables["lakeflow/job_run_timeline"].drop_columns(["result_state"])
    root = export(tmp_path, "delta", tables)
    with pytest.raises(UnknownColumn, match=r"lakeflow/job_run_timeline: this system.lakeflow.job_run_timeline export has no column 'result_state'"):
        load_lineage(root)
    lineage = pipeline()
    lineage["access/table_lineage"] = lineage["access/table_lineage"].drop_columns(["entity_metadata", "entity_type", "entity_id", "entity_run_id"])
    with pytest.raises(UnknownColumn, match=r"entity_metadata \(or entity_type, entity_id, entity_run_id\)"):
        load_lineage(export(tmp_path / "again", "parquet", lineage))


def test_other_tables_in_the_folder_are_problems_not_failures(tmp_path):
    root = export(tmp_path, "delta")
    pq.write_table(pa.table({"order_id": [1, 2]}), root / "orders.parquet")
    graph = load_lineage(root)
    assert [p.reason for p in graph.problems] == ["not a Unity Catalog system table export (columns: order_id)"]
    assert len(graph.runs) == 30  # and the Delta logs' JSON was not read as OpenLineage events
