"""LineageExplorer: selection, time range, column and expansion, set as the browser sets them."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from panels_support import DRIFTED, target, week_before_incident

from mlobs_notebook.errors import UnknownDataset
from mlobs_notebook.plots import _style
from mlobs_notebook.widgets import LineageExplorer

PLOTLY = "application/vnd.plotly.v1+json"
SESSIONIZE = "job:churn-airflow:churn_features_daily.sessionize"


def sent(panel):
    """The figure the frontend receives in the panel's output."""
    return panel.displays["lineage"].data[PLOTLY]


def details(panel):
    """The HTML of the selection's details (the changes on the path when nothing is selected)."""
    return panel.displays["details"].data["text/html"]


def trace(fig, name):
    [t] = [t for t in fig["data"] if t.get("name") == name]
    return t


def rings(fig):
    jobs = trace(fig, "jobs")
    return dict(zip(jobs["customdata"], jobs["marker"]["line"]["color"], strict=True))


@pytest.fixture
def explorer(world, demo_lineage):
    since, until = week_before_incident(world)
    return LineageExplorer(demo_lineage, target(world), DRIFTED, since=since, until=until)


def test_opens_on_the_column_path_with_the_change_listed(explorer):
    assert rings(sent(explorer))[SESSIONIZE] == _style.CHANGED
    assert "1 change(s) on this path" in details(explorer)
    assert "job definition changed" in details(explorer)
    assert explorer.node.value == ""
    assert SESSIONIZE in [v for _, v in explorer.node.options]


def test_selecting_a_node_shows_its_details_and_ring(explorer, demo_lineage):
    before = copy.deepcopy(sent(explorer))
    explorer.node.value = SESSIONIZE
    fig = sent(explorer)
    assert rings(fig)[SESSIONIZE] == _style.SELECTED
    assert "churn_features_daily.sessionize" in details(explorer)
    assert "runs in range" in details(explorer) and "facets" in details(explorer)
    # same nodes, same places: only the rings changed
    assert [t["x"] for t in fig["data"]] == [t["x"] for t in before["data"]]
    explorer.node.value = ""
    assert rings(sent(explorer))[SESSIONIZE] == _style.CHANGED


def test_a_time_range_before_the_change_clears_the_highlight(explorer):
    explorer.since.value = date(2026, 7, 10)
    explorer.until.value = date(2026, 7, 20)
    assert explorer.changes == []
    assert set(rings(sent(explorer)).values()) == {"#555555"}
    assert "0 change(s) on this path from 2026-07-10 to 2026-07-20" in details(explorer)


def test_an_inverted_range_is_reported_not_raised(explorer):
    drawn = copy.deepcopy(sent(explorer))
    explorer.until.value = date(2026, 7, 1)
    assert "is after until" in details(explorer)
    assert sent(explorer) == drawn


def test_whole_dataset_brings_in_billing(explorer):
    explorer.column.value = ""
    jobs = set(trace(sent(explorer), "jobs")["customdata"])
    assert "job:churn-airflow:billing_daily.aggregate_billing" in jobs
    assert not any(t.get("name") == "columns" and t["customdata"] for t in sent(explorer)["data"])


def test_expand_down_then_reset(explorer, demo_lineage):
    n = len(explorer.upstream.nodes)
    explorer.node.value = next(v for _, v in explorer.node.options if v.startswith("dataset:") and v.endswith("user_activity_features"))
    explorer.expand_down.click()
    ids = set(trace(sent(explorer), "jobs")["customdata"])
    assert "job:churn-airflow:churn_features_daily.snapshot_training_features" in ids
    assert len(explorer.upstream.nodes) == n + 2
    assert explorer.node.value.endswith("user_activity_features")  # the selection survives
    explorer.reset.click()
    assert len(explorer.upstream.nodes) == n


def test_unknown_dataset_is_named(demo_lineage):
    with pytest.raises(UnknownDataset, match="no_such_table"):
        LineageExplorer(demo_lineage, "s3://nowhere/no_such_table")


def test_setting_the_suspects_rings_them(explorer):
    explorer.highlight = ["churn_features_daily.ingest_raw_sessions"]
    assert rings(sent(explorer))["job:churn-airflow:churn_features_daily.ingest_raw_sessions"] == _style.SUSPECT
    assert rings(sent(explorer))[SESSIONIZE] == _style.CHANGED
