"""Drift written back: MLflow metrics and artifacts on a real sqlite store, OpenLineage events
written by the openlineage-python client, validated against the spec and read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlobs_notebook.actions.writeback import (
    ASSERTION,
    emit_quality_facets,
    log_drift,
    metric_key,
    quality_assertions,
)
from mlobs_notebook.drift import compute_drift
from mlobs_notebook.errors import InputError
from mlobs_notebook.lineage import load_lineage
from mlobs_notebook.sources.evaluations import metric_series

pytest_plugins = ["tests.mlflow_fixtures"]

DATASET = ("s3://churn-lake", "warehouse/features/user_activity_features")
START = datetime(2026, 3, 1)


def _frames(seed: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """x drifts more each day, c turns null, y stays put."""
    rng = np.random.default_rng(seed)
    base = pl.DataFrame({
        "x": rng.normal(size=3000),
        "y": rng.normal(size=3000),
        "c": rng.choice(["a", "b", "c"], 3000).tolist(),
    })
    day = np.repeat(np.arange(3), 1000)
    plan = rng.choice(["a", "b", "c"], 3000).astype(object)
    plan[(day == 2) & (rng.random(3000) < 0.5)] = None
    current = pl.DataFrame({
        "ts": [START + timedelta(days=int(d), minutes=i % 1000) for i, d in enumerate(day)],
        "x": rng.normal(size=3000) + day * 0.8,
        "y": rng.normal(size=3000),
        "c": plan.tolist(),
    })
    return base, current


@pytest.fixture(scope="module")
def frames():
    return _frames()


@pytest.fixture(scope="module")
def report(frames):
    base, current = frames
    return compute_drift(base, current, time_column="ts", granularity="1d")


@pytest.fixture
def store(mlflow_world, tmp_path):
    """The template store (a private copy) with an evaluation run in an experiment of our own."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_world.tracking_uri, registry_uri=mlflow_world.tracking_uri)
    experiment = client.create_experiment("drift-eval", artifact_location=(tmp_path / "art").as_uri())
    run_id = client.create_run(experiment, tags={"env": "production"}).info.run_id
    return mlflow_world, client, run_id


def _baseline_rows(report, column):
    return (report.table.filter((pl.col("drift_type") == "BASELINE") & (pl.col("column_name") == column))
            .sort("window_start"))


def test_metrics_read_back_through_metric_series_and_match_the_report(store, report):
    world, client, run_id = store
    logged = log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)
    assert not logged.skipped and logged.metrics > 0

    for column in ("x", "y", "c"):
        expected = _baseline_rows(report, column)
        for statistic in ("population_stability_index", "js_distance", "percent_null_delta"):
            series = metric_series(run_id, metric=metric_key(column, statistic), run_id=run_id,
                                   tracking_uri=world.tracking_uri)
            assert series["window_start"].to_list() == expected["window_start"].to_list()
            np.testing.assert_allclose(series["value"].to_numpy(), expected[statistic].to_numpy(), rtol=1e-12)
    # steps are the window index and timestamps the window start (metric history keeps both)
    history = client.get_metric_history(run_id, metric_key("x", "ks_statistic"))
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == [0, 1, 2]
    assert sorted(m.timestamp for m in history) == [
        int((START + timedelta(days=d)).replace(tzinfo=UTC).timestamp() * 1000) for d in range(3)]
    drifted = client.get_metric_history(run_id, metric_key("x", "drifted"))
    assert [m.value for m in sorted(drifted, key=lambda m: m.step)] == [
        float(v) for v in _baseline_rows(report, "x")["drifted"]]
    # categorical columns carry no KS: nothing is logged rather than NaN
    assert client.get_metric_history(run_id, metric_key("c", "ks_statistic")) == []


def test_report_artifact_is_the_full_report(store, report, tmp_path):
    world, client, run_id = store
    logged = log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)
    folder = client.download_artifacts(run_id, logged.artifact_path, str(tmp_path / "down"))
    assert_frame_equal(pl.read_parquet(f"{folder}/drift_report.parquet"), report.table)
    assert_frame_equal(pl.read_parquet(f"{folder}/drift_profile.parquet"), report.profile)
    assert pl.read_parquet(f"{folder}/drift_bins.parquet").height == report.bins.height


def test_logging_the_same_report_twice_is_a_no_op(store, report, frames):
    world, client, run_id = store
    first = log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)
    again = log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)

    assert again.skipped and again.digest == first.digest and again.metrics == 0
    assert len(client.get_metric_history(run_id, metric_key("x", "population_stability_index"))) == 3
    assert len(client.list_artifacts(run_id, "drift")) == 1
    # another report is another log
    base, current = frames
    other = compute_drift(base, current.with_columns(pl.col("y") + 1), time_column="ts", granularity="1d")
    assert not log_drift(other, run_id=run_id, tracking_uri=world.tracking_uri).skipped
    assert len(client.list_artifacts(run_id, "drift")) == 2


def test_metrics_land_on_the_models_logged_model(store, report):
    world, client, _ = store
    logged = log_drift(report, model="churn_model", tracking_uri=world.tracking_uri)

    assert logged.model_id == world.logged_model_id
    keys = {m.key for m in client.get_logged_model(world.logged_model_id).metrics}
    assert metric_key("x", "population_stability_index") in keys
    drift_run = client.get_run(logged.run_id)
    assert drift_run.data.tags["mlobs.kind"] == "drift"
    assert drift_run.info.experiment_id == world.experiment_id  # the model's experiment
    again = log_drift(report, model="churn_model", tracking_uri=world.tracking_uri)
    assert again.skipped and again.run_id == logged.run_id


def test_log_drift_needs_a_target(report):
    with pytest.raises(InputError, match="run_id= .* or model="):
        log_drift(report)


def _file_transport(path):
    from openlineage.client.transport.file import FileConfig, FileTransport

    return FileTransport(FileConfig(log_file_path=str(path), append=True))


def test_quality_event_validates_and_shows_the_failed_assertion_in_our_lineage(report, frames, tmp_path):
    from conftest import shared_path
    from ol_spec import validation_errors

    spec = shared_path("openlineage-spec")
    events = tmp_path / "events.jsonl"
    emit_quality_facets(report, DATASET, _file_transport(events), threshold=0.2)

    [line] = events.read_text().splitlines()
    event = json.loads(line)
    assert validation_errors(event, spec) == []
    facets = event["inputs"][0]["inputFacets"]
    _, current = frames
    assert facets["dataQualityMetrics"]["rowCount"] == current.height
    assert {c: m["nullCount"] for c, m in facets["dataQualityMetrics"]["columnMetrics"].items()} == {
        c: current[c].null_count() for c in ("x", "y", "c")}

    graph = load_lineage(events)
    assert graph.problems == ()
    found = quality_assertions(graph, DATASET)
    outcome = dict(zip(found["column"], found["success"], strict=True))
    assert outcome == {"c": False, "x": False, "y": True}
    assert set(found["assertion"]) == {ASSERTION}
    worst_x = _baseline_rows(report, "x")["population_stability_index"].max()
    assert float(found.filter(pl.col("column") == "x")["actual"][0]) == pytest.approx(worst_x, rel=1e-5)


def test_without_threshold_the_reports_own_flags_decide(report, tmp_path):
    events = tmp_path / "events.jsonl"
    emit_quality_facets(report, {"namespace": DATASET[0], "name": DATASET[1]}, _file_transport(events))
    found = quality_assertions(load_lineage(events), DATASET)
    flagged = set(report.drifted_features()["column_name"])
    assert {c for c, ok in zip(found["column"], found["success"], strict=True) if not ok} == flagged


def test_event_goes_through_the_clients_configured_transport(report, tmp_path, monkeypatch):
    events = tmp_path / "configured.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(events))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    event = emit_quality_facets(report, DATASET, threshold=0.2)
    assert json.loads(events.read_text())["run"]["runId"] == event.run.runId


def test_bad_dataset_is_named(report):
    with pytest.raises(InputError, match="dataset must be"):
        emit_quality_facets(report, "warehouse/features", object())


def test_interrupted_log_is_completed_without_duplicates(store, report, monkeypatch):
    """The digest tag is written last: a log that died before it is redone, and MLflow keeps one
    copy of each identical (key, step, timestamp, value) metric."""
    from mlflow.tracking import MlflowClient

    world, client, run_id = store
    real = MlflowClient.set_tag

    def dies(self, run, key, value, *args, **kwargs):
        if key.startswith("mlobs.drift."):
            raise RuntimeError("injected: the process died before the tag")
        return real(self, run, key, value, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "set_tag", dies)
    with pytest.raises(RuntimeError, match="injected"):
        log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)
    monkeypatch.undo()

    redone = log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri)
    assert not redone.skipped
    assert len(client.get_metric_history(run_id, metric_key("x", "population_stability_index"))) == 3
    assert log_drift(report, run_id=run_id, tracking_uri=world.tracking_uri).skipped
