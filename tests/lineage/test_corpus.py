"""Every file of the shared OpenLineage corpus loads; each integration folder yields known facts.

The corpus (../shared/openlineage-corpus, see its SOURCES.md) mixes complete events with the
*expected* events of integration tests, which omit ``runId`` and ``eventTime`` or hold matcher
placeholders. Loaded as they are, those events are problems (never exceptions). To check what
they say, ``complete()`` substitutes what the matchers left out (a UUID per event, a time per
event), as SOURCES.md suggests, and loads the result from dicts.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlobs_notebook.lineage import DatasetRef, JobRef, load_lineage


def events_of(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else [data]


def complete(paths: list[Path]) -> list[dict]:
    """The events of ``paths`` with missing or placeholder runIds and eventTimes filled in;
    events of one job in one file share a run (START and COMPLETE of one run)."""
    out, t0 = [], datetime(2024, 1, 1, tzinfo=UTC)
    for path in paths:
        for ev in events_of(path):
            ev = json.loads(json.dumps(ev))
            job = ev.get("job", {})
            key = f"{path.name}/{job.get('namespace')}/{job.get('name')}"
            run = ev.setdefault("run", {})
            rid = run.get("runId")
            if not isinstance(rid, str) or "{" in rid:
                run["runId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
            t = ev.get("eventTime")
            if not isinstance(t, str) or "{" in t:
                ev["eventTime"] = (t0 + timedelta(seconds=len(out))).isoformat()
            out.append(ev)
    return out


def test_every_corpus_file_loads_without_an_exception(corpus):
    files = sorted(p for p in corpus.rglob("*.json"))
    assert len(files) > 130
    total_runs = 0
    for path in files:
        g = load_lineage(path)
        total_runs += len(g.runs)
        for p in g.problems:
            assert p.source == str(path) and p.reason
        # something was read from each file, or each unusable part was said out loud
        assert g.event_count or g.problems, path
    assert total_runs > 100


def test_airflow(corpus):
    g = load_lineage(corpus / "airflow" / "compat-gcp-dag")
    assert g.problems == () and len(g.runs) == 16
    upload = JobRef("airflow", "BQ.upload")
    (run,) = g.runs_of(upload)
    assert run.state == "COMPLETE" and run.event_count == 2
    assert run.parent == run.root and run.parent.job == JobRef("airflow", "BQ")
    assert run.parent.run_id == "01936893-9751-7a91-a2a0-a51101a3970c"
    assert {str(d.ref) for d in run.inputs} == {"gs://mock-bucket/copied.csv", "gs://mock-bucket/test.csv"}
    copied = g.upstream(DatasetRef("bigquery", "mock-project.test.upload_cp"), "a")
    assert copied.column_level and [str(c) for c in copied.columns] == [
        "bigquery/mock-project.test.upload#a", "gs://mock-bucket/copied.csv#a", "gs://mock-bucket/test.csv#a"]
    assert [j.name for j in copied.jobs] == ["BQ.copy", "BQ.upload"]
    assert g.runs_of("dag.task_0")[0].definition.source_code == "exit 0;"
    # the legacy expected events have no runId or eventTime: problems as read, facts once completed
    legacy = corpus / "airflow" / "ol-legacy-integration-expected" / "failing_bash.json"
    assert len(load_lineage(legacy).problems) == 4
    filled = load_lineage(complete([legacy]))
    (failed,) = [r for r in filled.runs.values() if r.failed]
    assert failed.job.name == "bash_dag.failing_task" and failed.parent.job.name == "bash_dag"


def test_dbt_runs_told_apart_by_job_and_time(corpus):
    g = load_lineage(corpus / "dbt" / "postgres_run_failed.json")
    assert g.problems == () and len(g.runs) == 4  # 8 events, all runIds "{{ any(result) }}"
    orders = g.runs["dbt-test-namespace/model.jaffle_shop.orders@2024-11-22T15:58:08.383825+00:00"]
    assert orders.state == "FAIL" and orders.event_count == 2
    assert "syntax error" in orders.error_message
    assert orders.parent.run_id == "dbt-test-namespace/dbt-run-jaffle_shop@2024-11-22T15:58:03.518877+00:00"
    assert {str(d.ref) for d in orders.inputs} == {
        "postgres://postgres:5432/postgres.public.stg_orders", "postgres://postgres:5432/postgres.public.stg_payments"}
    sql2 = g.runs_of("model.jaffle_shop.orders.sql.2")[0]
    assert sql2.root.job.name == "dbt-run-jaffle_shop" and sql2.definition.sql
    bq = load_lineage(corpus / "dbt" / "bigquery_run_successful.json")
    up = bq.upstream(("bigquery", "example-bigquery-project.jaffle_shop.stg_locations"), "location_id")
    assert up.column_level and [str(c) for c in up.columns] == ["bigquery/example-bigquery-project.raw.raw_stores#id"]
    build = load_lineage(corpus / "dbt" / "postgres_build.json")
    assert len(build.runs) == 93 and all(r.event_count == 2 for r in build.runs.values())


def test_flink(corpus):
    raw = load_lineage(corpus / "flink")
    assert raw.runs == {} and len(raw.problems) == 5
    assert all("eventTime" in p.reason for p in raw.problems)
    g = load_lineage(complete(sorted((corpus / "flink").glob("*.json"))))
    assert g.problems == ()
    (failed,) = [r for r in g.runs.values() if r.failed]
    assert failed.job == JobRef("flink_job_namespace", "flink_failed_job")
    assert failed.error_message == "Application Status: FAILED"
    stateful = g.jobs[JobRef("flink_job_namespace", "flink_examples_stateful")]
    assert DatasetRef("kafka://kafka-cluster-prod:9092", "io.openlineage.flink.kafka.input1") in stateful.inputs
    sql = g.datasets[DatasetRef("kafka://kafka-cluster-prod:9092", "io.openlineage.flink.kafka.output")]
    assert sql.aliases and sql.schema


def test_hive_column_lineage(corpus):
    g = load_lineage(complete([corpus / "hive" / "cllSimpleQueryMaskingComplete.json"]))
    xxx = DatasetRef("hive://localhost:9083", "test.xxx")
    (run,) = g.runs.values()
    assert run.definition.sql and run.state == "COMPLETE"
    assert g.datasets[xxx].has_column_lineage and g.datasets[xxx].schema
    edges = {(e.target_field, e.source.field, e.transformations) for e, _, _ in g._data.column_edges}
    assert ("mt", "a", ("DIRECT/TRANSFORMATION (masking)",)) in edges
    assert ("a", "b", ("DIRECT/AGGREGATION",)) in edges
    assert (None, "a", ("INDIRECT/GROUP_BY",)) in edges  # the dataset array: affects every column
    up = g.upstream(xxx, "ma")
    assert up.column_level and {str(c) for c in up.columns} == {"hive://localhost:9083/test.t1#b", "hive://localhost:9083/test.t1#a"}


def test_marquez(corpus):
    g = load_lineage(corpus / "marquez" / "apples")
    assert g.problems == ()
    apples = g.datasets[DatasetRef("grandmas.kitchen", "apples")]
    assert [v.run_id[:8] for v in apples.versions] == ["fc57cd10", "155dbf08"]  # one version per write
    pie = g.upstream(("grandmas.kitchen", "apple.pie"))
    assert {j.name for j in pie.jobs} == {"prepare_apple_pie", "prepare_apple_filling", "gather_apples"}
    assert DatasetRef("backyard", "crab.apples") in pie.datasets
    # the demo seed uses template eventTimes: problems as read, a column-lineage graph once filled
    template = corpus / "marquez" / "docker_metadata.template.json"
    assert len(load_lineage(template).problems) == 26
    seed = load_lineage(complete([template]))
    assert len(seed.runs) == 13 and seed.problems == ()
    assert seed.upstream(("food_delivery", "public.delivery_7_days"), "order_placed_on").columns
    node = load_lineage(corpus / "marquez" / "api-responses" / "column_lineage_node.json")
    (edge,) = node._data.column_edges
    assert (edge[0].target_field, str(edge[0].source)) == ("columnA", "namespace/otherDataset#columnB")


def test_python_client(corpus):
    g = load_lineage(corpus / "python-client")
    assert g.problems == ()
    run = g.runs["ea041791-68bc-4ae1-bd89-4c8106a157e4"]
    assert run.parent.run_id == "3f5e83fa-3480-44ff-99c5-ff943904e5e8"
    (out,) = run.outputs
    assert out.row_count == 2000 and [f.name for f in out.schema] == ["column1"]
    job = g.jobs[JobRef("openlineage", "name")]  # its lineage comes from a JobEvent (no run)
    assert job.outputs == (DatasetRef("openlineage", "dataset_b"),)
    assert [g.runs[r].outputs for r in job.run_ids] == [()]
    assert [f.name for f in g.datasets[DatasetRef("openlineage", "name")].schema] == ["a", "b"]  # a DatasetEvent


def test_spark(corpus):
    g = load_lineage(corpus / "spark" / "compat-cll-hive-ctas")
    assert g.problems == ()
    tbl1 = DatasetRef("file", "/tmp/cll_test/tbl1")
    assert g.resolve_dataset(("file:/tmp/cll_test", "default.tbl1")) == tbl1  # through symlinks
    up = g.upstream(tbl1, "agg")
    assert "file//tmp/cll_test/cll_source2#c" in {str(c) for c in up.columns}
    # the sources were written by CREATE TABLE jobs without column lineage: said, not hidden
    assert not up.column_level and {d.name for d in up.fallback_datasets} == {"/tmp/cll_test/cll_source1", "/tmp/cll_test/cll_source2"}
    ctas = g.runs_of(up.jobs[0])[0]
    assert ctas.parent.job.name == "open_lineage_integration_create_table" and ctas.event_count == 4
    dataproc = load_lineage(corpus / "spark" / "compat-dataproc-bigquery-complete")
    drops = [r for r in dataproc.runs.values() if r.job.name.endswith("drop_table")]
    assert drops and all(r.outputs == () and r.dropped for r in drops)  # a DROP is not a write
    t1 = DatasetRef("hdfs://dataproc-producer-test-m", "/user/hive/warehouse/t1")
    assert all(v.job.name != "cl_i_test_application.drop_table" for v in dataproc.datasets[t1].versions)
    assert DatasetRef("hive://dataproc-producer-test-m:9083", "default.t1") in dataproc.datasets[t1].aliases
    expected = corpus / "spark" / "ol-container-expected"
    delta = load_lineage(complete([expected / "pysparkWriteDeltaTableVersionEnd.json"]))
    (version,) = delta.datasets[DatasetRef("file", "/tmp/delta/versioned_table")].versions
    assert version.version == "2"  # the dataset's own version facet, kept on our version record
    dropped = load_lineage(complete([expected / "pysparkV2DropTableCompleteEvent.json"]))
    assert dropped.runs == {} and len(dropped.problems) == 1  # no job name: a problem, even filled
    partial = load_lineage(corpus / "spark" / "ol-sparksql")
    assert [p.reason for p in partial.problems] == ["event skipped: RunEvent has no run.runId"] * 4


def test_spec(corpus):
    g = load_lineage(corpus / "spec" / "example_full_event.json")
    (run,) = g.runs.values()
    assert run.definition.sql == "SELECT 1" and run.job == JobRef("food_delivery", "dbt")
    fragments = load_lineage(corpus / "spec" / "facet-examples")
    assert fragments.event_count == 0 and len(fragments.problems) == 16
    assert all("not an OpenLineage event" in p.reason for p in fragments.problems)


@pytest.mark.parametrize("name", ["ColumnLineageDatasetFacet_1.json", "ColumnLineageDatasetFacet_2.json"])
def test_spec_column_lineage_fragments_in_both_forms(corpus, name):
    from mlobs_notebook.lineage.readers.openlineage import parse_column_lineage

    facet = json.loads((corpus / "spec" / "facet-examples" / name).read_text())["columnLineage"]
    edges = parse_column_lineage(facet, DatasetRef("out", "t"))
    per_field = [e for e in edges if e.target_field is not None]
    whole = [e for e in edges if e.target_field is None]
    assert len(per_field) == sum(len(f["inputFields"]) for f in facet["fields"].values())
    assert len(whole) == len(facet.get("dataset", []))
    if name.endswith("_1.json"):  # deprecated transformationType alongside the current form
        name_edges = [e for e in edges if e.target_field == "NAME"]
        assert ("DIRECT/IDENTITY",) in {e.transformations for e in name_edges}
    else:
        assert {e.transformations for e in whole} == {("INDIRECT/SORT",), ("INDIRECT/FILTER",)}
