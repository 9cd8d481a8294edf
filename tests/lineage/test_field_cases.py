"""The shared lineage cases of ../shared/cases/lineage: facets without types or fields, and runs
whose events disagree on their job or parent (Spark's ``unknown`` first event)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import parent_run, schema_dataset
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.uuid import generate_new_uuid

from mlobs_notebook.lineage import load_lineage

NS = "trino://coordinator:8080"
T0 = datetime(2024, 1, 1, 0, 10, tzinfo=UTC)


def _client(path: Path) -> OpenLineageClient:
    return OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))


def _daily_write(client: OpenLineageClient, day: int, fields: list[tuple[str, str | None]] | None) -> str:
    run_id = str(generate_new_uuid())
    facets = {}
    if fields is not None:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields]
        )
    client.emit(RunEvent(
        eventType=RunState.COMPLETE, eventTime=(T0 + timedelta(days=day)).isoformat(), run=Run(runId=run_id),
        job=Job(namespace="trino", name="daily_sales"), producer="https://github.com/trinodb/trino",
        inputs=[InputDataset(namespace=NS, name="hive.sales.orders")],
        outputs=[OutputDataset(namespace=NS, name="hive.sales.daily", facets=facets)],
    ))  # fmt: skip
    return run_id


def test_fields_without_a_type_are_not_a_schema_change(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    client = _client(path)
    typed = [("day", "date"), ("revenue", "double")]
    _daily_write(client, 0, typed)
    _daily_write(client, 2, [("day", None), ("revenue", None)])  # the spec allows a field without a type
    _daily_write(client, 3, typed)
    _daily_write(client, 4, [("day", "date"), ("revenue", "decimal(12,2)")])  # a real change
    with path.open("a") as f:  # a Trino COMPLETE with "fields": null, as sent (datahub-project/datahub#15867)
        f.write(json.dumps({
            "eventType": "COMPLETE", "eventTime": (T0 + timedelta(days=1)).isoformat(), "producer": "trino",
            "run": {"runId": str(generate_new_uuid()), "facets": {"parent": {"run": {}, "job": {"namespace": "airflow", "name": "dag"}}}},
            "job": {"namespace": "trino", "name": "daily_sales", "facets": {"sql": None}},
            "inputs": [{"namespace": NS, "name": "hive.sales.orders", "facets": None}],
            "outputs": [{"namespace": NS, "name": "hive.sales.daily", "facets": {"schema": {"fields": None},
                                                                             "columnLineage": {"fields": None}}}],
        }) + "\n")  # fmt: skip
    graph = load_lineage(path)
    assert graph.problems == ()
    changes = graph.changes(f"{NS}/hive.sales.daily", since="2024-01-01", until="2024-01-06")
    assert [(c.kind, c.event_time.date().isoformat()) for c in changes] == [("schema", "2024-01-05")]
    assert "revenue double -> decimal(12,2)" in changes[0].detail


def _spark(client: OpenLineageClient, run_id: str, when: str, state: RunState, job: str, parent: str | None = None) -> None:
    facets = {}
    if parent is not None:
        facets["parent"] = parent_run.ParentRunFacet(run=parent_run.Run(runId=parent),
                                                     job=parent_run.Job(namespace="airflow", name="dag.task"))  # fmt: skip
    writes = state != RunState.START
    client.emit(RunEvent(
        eventType=state, eventTime=when, run=Run(runId=run_id, facets=facets), producer="spark",
        job=Job(namespace="spark_integration", name=job),
        inputs=[InputDataset(namespace="s3://lake", name="raw/events")] if writes else [],
        outputs=[OutputDataset(namespace="s3://lake", name="curated/sessions")] if writes else [],
    ))  # fmt: skip


def test_a_run_belongs_to_the_job_its_later_events_name(tmp_path: Path) -> None:
    path = tmp_path / "spark.jsonl"
    client = _client(path)
    run_id = str(generate_new_uuid())
    # OpenLineage/OpenLineage#3846: Spark's first event of the run names the job "unknown"
    _spark(client, run_id, "2025-07-30T11:00:00Z", RunState.START, "unknown")
    _spark(client, run_id, "2025-07-30T11:00:30Z", RunState.RUNNING, "my_session.execute_insert")
    _spark(client, run_id, "2025-07-30T11:01:31Z", RunState.COMPLETE, "my_session.execute_insert")
    graph = load_lineage(path)
    assert graph.problems == ()
    assert str(graph.runs[run_id].job) == "spark_integration/my_session.execute_insert"
    assert [str(j) for j in graph.jobs] == ["spark_integration/my_session.execute_insert"]
    assert [j.name for j in graph.upstream("s3://lake/curated/sessions").jobs] == ["my_session.execute_insert"]


def test_events_of_one_run_that_disagree_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "reused.jsonl"
    client = _client(path)
    run_id, parent_a, parent_b = (str(generate_new_uuid()) for _ in range(3))
    # OpenLineage/OpenLineage#2358: two jobs reuse one runId; MarquezProject/marquez#2158: a later
    # event names another parent run
    _spark(client, run_id, "2025-07-30T11:00:00Z", RunState.START, "load_orders", parent=parent_a)
    _spark(client, run_id, "2025-07-30T11:05:00Z", RunState.COMPLETE, "load_customers", parent=parent_b)
    graph = load_lineage(path)
    reasons = [p.reason for p in graph.problems]
    assert len(reasons) == 2
    assert f"run {run_id}: its events name two jobs, spark_integration/load_orders and spark_integration/load_customers" in reasons[0]
    assert "taken as spark_integration/load_customers's run" in reasons[0]
    assert "two parent runs" in reasons[1] and parent_a in reasons[1] and parent_b in reasons[1]
    assert str(graph.runs[run_id].job) == "spark_integration/load_customers"
    assert graph.runs[run_id].parent.run_id == parent_b
