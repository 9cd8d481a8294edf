"""upstream() and changes() on a pipeline written with the real openlineage-python client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mlobs_notebook.errors import InputError, UnknownColumn, UnknownDataset
from mlobs_notebook.lineage import DatasetRef, JobRef, load_lineage

from .conftest import LAKE, day

FEATURES = DatasetRef(LAKE, "warehouse/features/user_activity_features")
SESSIONS = DatasetRef(LAKE, "warehouse/analytics/user_sessions")
BILLING = DatasetRef(LAKE, "warehouse/analytics/user_billing_summary")
RAW = DatasetRef(LAKE, "raw/sessions")
SESSIONIZE = JobRef("churn-airflow", "churn_features_daily.sessionize")
AGG_BILLING = JobRef("churn-airflow", "billing_daily.aggregate_billing")
INGEST_INVOICES = JobRef("churn-airflow", "billing_daily.ingest_invoices")


@pytest.fixture(scope="module")
def graph(mini_world):
    return load_lineage(mini_world.path)


def test_runs_are_merged_from_start_and_complete(graph, mini_world):
    assert graph.problems == ()
    assert graph.event_count == 2 * len(graph.runs)
    run = graph.runs[mini_world.sessionize_change_run]
    assert run.event_count == 2 and run.state == "COMPLETE"
    assert run.start_time == day(10) + timedelta(hours=1)
    assert run.end_time == run.event_time == day(10) + timedelta(hours=1, minutes=5)
    # START had no inputs or outputs: they come from the COMPLETE event
    assert [d.ref for d in run.inputs] == [RAW] and [d.ref for d in run.outputs] == [SESSIONS]
    assert "INTERVAL '1' DAY" in run.definition.sql


def test_column_level_changes_name_the_sessionize_run_and_not_billing(graph, mini_world):
    found = graph.changes(FEATURES, "user_session_count_7d", since=day(7), until=day(11))
    definition = [c for c in found if c.kind == "job_definition"]
    assert [(c.job, c.run_id) for c in definition] == [(SESSIONIZE, mini_world.sessionize_change_run)]
    change = definition[0]
    assert change.via_column_lineage and change.distance == 2
    assert change.datasets == (SESSIONS,) and change.columns == ("session_count_7d",)
    assert "-       count(*) FILTER (WHERE ts > now() - INTERVAL '7' DAY) AS session_count_7d" in change.diff
    assert "+       count(*) FILTER (WHERE ts > now() - INTERVAL '1' DAY) AS session_count_7d" in change.diff
    assert all(c.job not in (AGG_BILLING, INGEST_INVOICES) for c in found)


def test_dataset_level_changes_include_billing_and_its_failure(graph, mini_world):
    found = graph.changes(FEATURES, since=day(7), until=day(11))
    kinds = {(c.kind, c.job) for c in found}
    assert ("job_definition", SESSIONIZE) in kinds
    assert ("job_definition", AGG_BILLING) in kinds
    failure = [c for c in found if c.kind == "failure"]
    assert [(c.job, c.run_id) for c in failure] == [(INGEST_INVOICES, mini_world.failed_run)]
    assert "connection reset by peer" in failure[0].detail
    assert not any(c.via_column_lineage for c in found)


def test_time_range_is_respected(graph):
    before = graph.changes(FEATURES, since=day(0), until=day(9))
    assert not [c for c in before if c.kind == "job_definition"]
    assert all(day(0) <= c.event_time <= day(9) for c in before)
    # naive strings are UTC; a bare date as until includes that whole day
    by_dates = graph.changes(FEATURES, since="2024-03-11T00:00", until=day(11).date())
    assert by_dates == graph.changes(
        FEATURES, since=day(10) - timedelta(hours=2), until=day(12) - timedelta(hours=2, microseconds=1)
    )
    assert {c.event_time.date() for c in by_dates} == {day(10).date(), day(11).date()}


def test_volume_outlier_is_reported_once(graph, mini_world):
    volume = [c for c in graph.changes(FEATURES, since=day(0), until=day(13)) if c.kind == "volume"]
    assert [(c.run_id, c.datasets) for c in volume] == [(mini_world.volume_run, (RAW,))]
    assert "100 rows" in volume[0].detail


def test_schema_change_lists_added_and_retyped_fields(graph, mini_world):
    schema = [c for c in graph.changes(SESSIONS, since=day(0), until=day(13)) if c.kind == "schema"]
    assert [c.run_id for c in schema] == [mini_world.schema_run]
    assert set(schema[0].columns) == {"avg_gap", "session_count_7d"}
    assert "added avg_gap" in schema[0].detail and "session_count_7d int -> bigint" in schema[0].detail


def test_column_upstream_follows_column_lineage_then_falls_back(graph):
    up = graph.upstream(FEATURES, "user_session_count_7d")
    assert SESSIONIZE in up.jobs and AGG_BILLING not in up.jobs and BILLING not in up.datasets
    assert (SESSIONS, "session_count_7d") in {(c.dataset, c.field) for c in up.columns}
    # ingest_raw_sessions gives no column lineage: dataset level there, and said so
    assert up.column_level is False and up.fallback_datasets == (RAW,)
    assert "raw/sessions" in up.note
    assert up.job_distance[SESSIONIZE] == 2
    layers = {n.id: n.layer for n in up.nodes}
    assert layers[f"dataset:{LAKE}:{FEATURES.name}"] == 0
    assert layers[f"job:churn-airflow:{SESSIONIZE.name}"] == 3


def test_column_upstream_without_fallback_is_column_level(graph):
    up = graph.upstream(SESSIONS, "user_id", depth=1)
    assert up.column_level and up.note is None
    assert [str(c) for c in up.columns] == [f"{LAKE}/raw/sessions#user_id"]
    assert up.jobs == (SESSIONIZE,)


def test_dataset_upstream_and_depth(graph):
    full = graph.upstream(FEATURES)
    assert {j.name for j in full.jobs} == {
        "churn_features_daily.build_features", "churn_features_daily.sessionize",
        "churn_features_daily.ingest_raw_sessions", "billing_daily.aggregate_billing", "billing_daily.ingest_invoices",
    }  # fmt: skip
    one = graph.upstream(FEATURES, depth=1)
    assert [j.name for j in one.jobs] == ["churn_features_daily.build_features"]
    assert set(one.datasets) == {SESSIONS, BILLING}
    assert {(e.kind) for e in full.edges} == {"reads", "writes"}


def test_symlinks_merge_identities(graph):
    assert graph.datasets[SESSIONS].aliases == (DatasetRef("iceberg://mlobs_demo", "analytics.user_sessions"),)
    assert graph.resolve_dataset(("iceberg://mlobs_demo", "analytics.user_sessions")) == SESSIONS
    assert graph.match_dataset("iceberg://mlobs_demo/features.user_activity_features@8234523") == FEATURES
    assert graph.match_dataset("s3a://churn-lake/warehouse/features/user_activity_features/") == FEATURES
    assert graph.match_dataset("features.user_activity_features") == FEATURES
    assert graph.match_dataset("s3://churn-lake/nope") is None


def test_dataset_versions_are_tied_to_runs_and_drop_is_not_a_write(graph, mini_world):
    versions = graph.datasets[SESSIONS].versions
    assert len(versions) == 14
    assert versions[10].run_id == mini_world.sessionize_change_run
    staging = graph.datasets[DatasetRef(LAKE, "tmp/staging")]
    assert staging.versions == () and staging.writers == ()
    cleanup = graph.runs_of("churn_features_daily.cleanup_tmp")
    assert all(r.outputs == () and r.dropped == (DatasetRef(LAKE, "tmp/staging"),) for r in cleanup)


def test_parent_and_root_runs(graph, mini_world):
    run = graph.runs[mini_world.sessionize_change_run]
    dag = JobRef("churn-airflow", "churn_features_daily")
    assert run.parent.job == dag and run.parent.run_id == mini_world.dag_runs[10]
    assert run.root == run.parent  # the DAG run is the top of the chain


def test_bad_arguments_are_clear(graph):
    with pytest.raises(UnknownDataset, match="no dataset s3://churn-lake/missing"):
        graph.changes("s3://churn-lake/missing")
    with pytest.raises(UnknownColumn, match="user_session_count_7d"):
        graph.upstream(FEATURES, "no_such_column")
    with pytest.raises(InputError, match="since"):
        graph.changes(FEATURES, since="yesterday")
    with pytest.raises(InputError, match="after until"):
        graph.changes(FEATURES, since=day(5), until=day(1))


def test_results_as_polars_frames(graph, mini_world):
    from mlobs_notebook.lineage import changes_to_polars

    found = graph.changes(FEATURES, since=day(7), until=day(11))
    frame = changes_to_polars(found)
    assert frame.height == len(found) and frame["run_id"].to_list() == [c.run_id for c in found]
    assert frame.filter(frame["kind"] == "job_definition")["diff"].str.starts_with("--- ").all()
    nodes = graph.upstream(FEATURES).to_polars()
    assert nodes.filter(nodes["layer"] == 0)["kind"].to_list() == ["dataset"]
    assert set(nodes["kind"]) == {"dataset", "job"}


def test_downstream_one_hop_and_node_ids(graph):
    from mlobs_notebook.lineage import node_id

    down = graph.downstream(SESSIONS, depth=1)
    assert down.direction == "downstream" and [j.name for j in down.jobs] == ["churn_features_daily.build_features"]
    assert down.datasets == (FEATURES,)
    layers = {n.id: n.layer for n in down.nodes}
    assert layers[node_id(SESSIONS)] == 0 and layers[node_id(FEATURES)] == -2
    assert layers[node_id(JobRef("churn-airflow", "churn_features_daily.build_features"))] == -1
    full = graph.downstream(RAW)
    assert FEATURES in full.datasets and SESSIONIZE in full.jobs
    up = graph.upstream(FEATURES, "user_session_count_7d")
    ids = {n.id for n in up.nodes}
    assert node_id(SESSIONIZE) in ids and {e.source for e in up.edges} | {e.target for e in up.edges} <= ids


def test_full_graph_holds_runs_and_versions(graph, mini_world):
    g = graph.graph
    run = ("run", mini_world.sessionize_change_run)
    version = ("version", SESSIONS, mini_world.sessionize_change_run)
    assert g.nodes[run]["kind"] == "run" and g.nodes[version]["kind"] == "version"
    assert g.edges[run, ("job", SESSIONIZE)]["kind"] == "run_of"
    assert g.edges[run, version]["kind"] == "wrote" and g.edges[version, ("dataset", SESSIONS)]["kind"] == "version_of"
    assert run not in graph.lineage_graph


def test_mlflow_dataset_sources_match_from_their_stored_json(graph):
    import json

    from mlobs_notebook.lineage import match_mlflow_source

    stored = {"uri": "iceberg://mlobs_demo/features.user_activity_features@42", "catalog": "mlobs_demo",
              "table": "features.user_activity_features", "snapshot_id": 42}  # fmt: skip
    assert match_mlflow_source(graph, stored) == FEATURES
    without_uri = {"catalog": "mlobs_demo", "table": "analytics.user_sessions"}
    assert match_mlflow_source(graph, json.dumps(without_uri)) == SESSIONS
    assert match_mlflow_source(graph, {"uri": "s3://elsewhere/x"}) is None
    assert match_mlflow_source(graph, "s3://churn-lake/raw/sessions") == RAW
