"""The loop closed on the demo world: the scheduler's drift check fires after the incident and
not before, and its failed assertion shows on the feature table in the demo's own lineage.

Uses the session's ``demo_world`` (read-only: the lineage file is copied before appending).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest

from mlobs_notebook.actions.drift_check import check_feature_drift
from mlobs_notebook.actions.writeback import emit_quality_facets, quality_assertions
from mlobs_notebook.errors import FeatureDriftDetected
from mlobs_notebook.lineage import load_lineage

pytestmark = pytest.mark.slow  # builds the demo world when no other test did


def _check(world, start: date, threshold: float = 0.15):
    catalog = {"type": "sql", "uri": world.catalog["uri"], "warehouse": world.catalog["warehouse"]}
    return check_feature_drift(
        f"iceberg://{world.catalog['name']}/{world.table}",
        baseline=f"models:/{world.model}@{world.alias}",
        threshold=threshold,
        time_column=world.time_column,
        start=start,
        end=start + timedelta(days=7),
        columns=[*world.drifted_features, "monthly_spend", "plan", "tenure_days"],
        catalog_properties=catalog,
        tracking_uri=world.tracking_uri,
    )


def test_drift_check_fires_after_the_incident_only(demo_world):
    incident = date.fromisoformat(demo_world.incident_date)
    _check(demo_world, incident - timedelta(days=10))  # the week before: quiet, returns
    with pytest.raises(FeatureDriftDetected) as caught:
        _check(demo_world, incident + timedelta(days=2))
    assert sorted(caught.value.scores) == sorted(demo_world.drifted_features)


def test_failed_assertion_shows_on_the_feature_table_in_the_demo_lineage(demo_world, tmp_path):
    from openlineage.client.transport.file import FileConfig, FileTransport

    events = tmp_path / "events.jsonl"
    shutil.copyfile(demo_world.lineage_file, events)
    incident = date.fromisoformat(demo_world.incident_date)
    with pytest.raises(FeatureDriftDetected) as caught:
        _check(demo_world, incident + timedelta(days=2))
    dataset = (demo_world.lineage_dataset["namespace"], demo_world.lineage_dataset["name"])
    emit_quality_facets(caught.value.report, dataset,
                        FileTransport(FileConfig(log_file_path=str(events), append=True)),
                        threshold=0.15, job=("churn-airflow", "churn_retraining.check_drift"))

    graph = load_lineage(events)
    # the Iceberg name of the same table (a symlink in the demo's events) finds the assertions too
    by_symlink = quality_assertions(graph, f"iceberg://{demo_world.catalog['name']}/{demo_world.table}")
    failed = by_symlink.filter(~by_symlink["success"])
    assert sorted(failed["column"]) == sorted(demo_world.drifted_features)
    assert set(by_symlink["job"]) == {"churn-airflow/churn_retraining.check_drift"}
