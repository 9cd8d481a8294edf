"""The demo world's pipeline_bug lineage: the sessionize window change is found, billing is not
blamed at column level, and both appear at dataset level."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mlobs_notebook.lineage import DatasetRef, load_lineage


@pytest.fixture(scope="module")
def demo(demo_world):
    return demo_world, load_lineage(demo_world.lineage_file)


def _week_before(manifest) -> tuple[date, date]:
    onset = date.fromisoformat(manifest.incident_date)
    return onset - timedelta(days=7), onset  # a bare date as until covers the onset day


def test_column_level_changes_name_the_sessionize_window_change(demo):
    manifest, graph = demo
    assert graph.problems == ()
    target = DatasetRef(**manifest.lineage_dataset)
    since, until = _week_before(manifest)
    found = graph.changes(target, "user_session_count_7d", since=since, until=until)
    definitions = [c for c in found if c.kind == "job_definition"]
    assert [c.job.name for c in definitions] == [manifest.suspect_job]
    (change,) = definitions
    assert change.via_column_lineage and change.columns == ("session_count_7d",)
    assert change.event_time.date() == until
    assert "-WHERE started_at >= TIMESTAMP '{{ ds }}' - INTERVAL '7' DAY" in change.diff
    assert "+WHERE started_at >= TIMESTAMP '{{ ds }}' - INTERVAL '1' DAY" in change.diff
    assert not any(c.job.name.startswith("billing_daily.") for c in found)


def test_dataset_level_changes_include_the_billing_change_too(demo):
    manifest, graph = demo
    since, until = _week_before(manifest)
    found = graph.changes(DatasetRef(**manifest.lineage_dataset), since=since, until=until)
    jobs = {c.job.name for c in found if c.kind == "job_definition"}
    assert {manifest.suspect_job, "billing_daily.aggregate_billing"} <= jobs


def test_training_source_uri_matches_the_lineage_dataset(demo):
    manifest, graph = demo
    assert graph.match_dataset(manifest.training_source_uri) == DatasetRef(**manifest.lineage_dataset)
