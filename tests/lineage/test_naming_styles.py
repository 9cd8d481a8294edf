"""The same table under the names different tools give it: MLflow's source URIs against the
OpenLineage dataset a Spark or Airflow integration emitted. Events written by openlineage-python."""

from __future__ import annotations

import pytest
from openlineage.client import OpenLineageClient, event_v2
from openlineage.client.transport.file import FileConfig, FileTransport

from mlobs_notebook.lineage import DatasetRef, load_lineage


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    path = tmp_path_factory.mktemp("naming") / "events.jsonl"
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    outputs = [("file", "/data/lake/features"), ("s3a://lake", "warehouse/fraud/features/"),
               ("s3://other", "tables/risk"), ("abfss://gold@acct.dfs.core.windows.net", "marts/churn")]
    for i, (namespace, name) in enumerate(outputs):
        client.emit(event_v2.RunEvent(
            eventType=event_v2.RunState.COMPLETE, eventTime=f"2026-04-0{i + 1}T03:00:00+00:00",
            producer="https://example.com/t", run=event_v2.Run(runId=f"0190c6d8-0000-7000-8000-00000000000{i}"),
            job=event_v2.Job(namespace="spark", name=f"job_{i}"), inputs=[],
            outputs=[event_v2.OutputDataset(namespace=namespace, name=name)],
        ))
    return load_lineage(str(path))


@pytest.mark.parametrize("uri", [
    "delta:///data/lake/features@19", "delta:///data/lake/features", "file:///data/lake/features",
    "/data/lake/features/", "file:///data/lake/features/",
])
def test_mlflow_delta_and_file_uris_find_the_file_dataset(graph, uri):
    assert graph.match_dataset(uri) == DatasetRef("file", "/data/lake/features")


@pytest.mark.parametrize("uri", [
    "s3://lake/warehouse/fraud/features", "s3://lake/warehouse/fraud/features/", "s3a://lake/warehouse/fraud/features",
    "delta://s3://lake/warehouse/fraud/features@3",
])
def test_s3_finds_s3a_with_or_without_a_trailing_slash(graph, uri):
    assert graph.match_dataset(uri) == DatasetRef("s3a://lake", "warehouse/fraud/features/")


def test_s3a_in_mlflow_finds_s3_in_the_lineage_and_abfs_finds_abfss(graph):
    assert graph.match_dataset("s3a://other/tables/risk/") == DatasetRef("s3://other", "tables/risk")
    assert graph.match_dataset("abfs://gold@acct.dfs.core.windows.net/marts/churn") == DatasetRef(
        "abfss://gold@acct.dfs.core.windows.net", "marts/churn")


def test_nothing_matching_lists_the_closest_names(graph):
    assert graph.match_dataset("s3://lake/warehouse/fraud/feature") is None
    assert graph.closest_datasets("s3://lake/warehouse/fraud/feature")[0] == "s3a://lake/warehouse/fraud/features/"
