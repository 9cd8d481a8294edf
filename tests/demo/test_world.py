"""The default demo world, built once per session on the real stores (sqlite MLflow, pyiceberg
SQL catalog, OpenLineage file transport), checked against the story it tells."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import shared_path
from ol_spec import validation_errors

from mlobs_notebook.demo import Manifest
from mlobs_notebook.demo import features as feat
from mlobs_notebook.demo.iceberg_store import DAY_PROPERTY, IcebergLocation, open_catalog


@pytest.fixture(scope="module")
def client(demo_world):
    from mlflow.tracking import MlflowClient

    return MlflowClient(demo_world.tracking_uri, registry_uri=demo_world.tracking_uri)


@pytest.fixture(scope="module")
def table(demo_world):
    c = demo_world.catalog
    location = IcebergLocation(c["name"], c["uri"], c["warehouse"], demo_world.table)
    return open_catalog(location).load_table(demo_world.table)


def _timeline(m: Manifest) -> feat.Timeline:
    return feat.make_timeline(m.days, m.incident_date is not None, m.label_delay_days)


def test_folder_holds_every_store(demo_world):
    root = Path(demo_world.path)
    assert (root / "mlflow.db").is_file()
    assert (root / "iceberg" / "catalog.db").is_file()
    assert any((root / "iceberg" / "warehouse").rglob("*.parquet"))
    assert Path(demo_world.lineage_file).is_file()
    assert Manifest.load(root) == demo_world
    assert demo_world.tracking_uri == f"sqlite:///{root / 'mlflow.db'}"
    assert demo_world.tracking_uri.startswith("sqlite:////")  # absolute


def test_production_alias_resolves_to_run_with_one_iceberg_training_input(demo_world, client):
    version = client.get_model_version_by_alias(demo_world.model, demo_world.alias)
    assert int(version.version) == demo_world.model_version
    run = client.get_run(version.run_id)
    training = [
        d for d in run.inputs.dataset_inputs
        if any(t.key == "mlflow.data.context" and t.value == "training" for t in d.tags)
    ]
    assert len(run.inputs.dataset_inputs) == 1 and len(training) == 1
    dataset = training[0].dataset
    assert dataset.source_type == "iceberg"
    source = json.loads(dataset.source)
    assert source["uri"] == demo_world.training_source_uri
    assert source["uri"] == (
        f"iceberg://{demo_world.catalog['name']}/{demo_world.table}@{demo_world.training_snapshot_id}"
    )
    assert source["snapshot_id"] == demo_world.training_snapshot_id
    assert source["catalog_properties"]["uri"] == demo_world.catalog["uri"]


def test_training_snapshot_holds_exactly_the_training_rows(demo_world, table):
    scanned = pl.from_arrow(table.scan(snapshot_id=demo_world.training_snapshot_id).to_arrow())
    timeline = _timeline(demo_world)
    expected = pl.concat(
        feat.day_features(demo_world.seed, d, timeline, demo_world.scenario, demo_world.rows_per_day)
        for d in range(timeline.training_day + 1)
    )
    key = ["feature_timestamp", "user_id"]
    assert scanned.height == expected.height == demo_world.rows_per_day * (timeline.training_day + 1)
    assert scanned.sort(key).equals(expected.sort(key))
    assert scanned[demo_world.time_column].max().date().isoformat() == demo_world.training_date


def test_one_snapshot_per_day_each_adding_that_days_rows(demo_world, table):
    snapshots = table.snapshots()
    assert len(snapshots) == demo_world.days
    days = [s.summary.additional_properties[DAY_PROPERTY] for s in snapshots]
    assert days == sorted(demo_world.snapshots) == list(demo_world.snapshots)
    assert [s.snapshot_id for s in snapshots] == list(demo_world.snapshots.values())
    assert [int(s.summary.additional_properties["added-records"]) for s in snapshots] == [
        demo_world.rows_per_day
    ] * demo_world.days
    latest = pl.from_arrow(table.scan().to_arrow())
    per_day = latest.group_by(pl.col(demo_world.time_column).dt.date().alias("d")).len()
    assert per_day.height == demo_world.days
    assert set(per_day["len"].to_list()) == {demo_world.rows_per_day}


def test_evaluation_runs_one_per_day_on_delayed_labels(demo_world, client):
    experiment = client.get_experiment_by_name(demo_world.experiment)
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=demo_world.eval_filter, max_results=1000
    )
    timeline = _timeline(demo_world)
    assert len(runs) == len(timeline.evaluation_days())
    by_day = {}
    for run in runs:
        start = datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC).date()
        assert run.data.tags["evaluation_date"] == start.isoformat()
        labels_of = datetime.fromisoformat(run.data.params["labels_of"]).date()
        assert (start - labels_of).days == demo_world.label_delay_days
        assert 0.5 < run.data.metrics[demo_world.metric] <= 1.0
        by_day[start] = run.data.metrics[demo_world.metric]
    assert len(by_day) == len(runs)  # one per day


def test_auc_falls_from_incident_plus_label_delay(demo_world, client):
    experiment = client.get_experiment_by_name(demo_world.experiment)
    runs = client.search_runs([experiment.experiment_id], filter_string=demo_world.eval_filter, max_results=1000)
    incident = datetime.fromisoformat(demo_world.incident_date).date()
    auc = {datetime.fromtimestamp(r.info.start_time / 1000, tz=UTC).date(): r.data.metrics["auc"] for r in runs}
    before = [v for d, v in auc.items() if (d - incident).days < demo_world.label_delay_days]
    after = [v for d, v in auc.items() if (d - incident).days >= demo_world.label_delay_days]
    assert np.mean(before) - np.mean(after) > 0.04, (np.mean(before), np.mean(after))
    # the labels of the days before the incident keep the AUC where it was
    assert max(after) < np.mean(before)


def test_every_lineage_event_validates_against_the_spec(demo_world):
    spec = shared_path("openlineage-spec")
    lines = Path(demo_world.lineage_file).read_text().splitlines()
    assert len(lines) == demo_world.lineage_events > 0
    for number, line in enumerate(lines, start=1):
        errors = validation_errors(json.loads(line), spec)
        assert not errors, f"line {number}: {errors[:3]}"


def test_lineage_names_the_feature_table_by_its_catalog_symlink(demo_world):
    target = demo_world.lineage_dataset
    writes = []
    for line in Path(demo_world.lineage_file).read_text().splitlines():
        event = json.loads(line)
        for out in event.get("outputs", []):
            if (out["namespace"], out["name"]) == (target["namespace"], target["name"]):
                writes.append(out)
    assert len(writes) == demo_world.days  # build_features writes it once a day
    identifiers = writes[0]["facets"]["symlinks"]["identifiers"]
    assert {"namespace": "iceberg://mlobs_demo", "name": demo_world.table, "type": "TABLE"} in identifiers
