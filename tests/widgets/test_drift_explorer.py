"""DriftExplorer, driven as the browser drives it: by setting the controls' values."""

from __future__ import annotations

import copy

import polars as pl
import pytest
from panels_support import DRIFTED, bins_row

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.plots import feature_ranking, report_windows
from mlobs_notebook.widgets import ALL_WINDOWS, DriftExplorer

PLOTLY = "application/vnd.plotly.v1+json"


def sent(panel, name):
    """The figure the frontend receives in the panel's output ``name``."""
    return panel.displays[name].data[PLOTLY]


def snapshot(panel):
    return {name: copy.deepcopy(sent(panel, name)) for name in panel.figures}


def controls(panel):
    return {c: (getattr(panel, c).value, tuple(getattr(panel, c).options)) for c in ("feature", "window", "statistic")}


@pytest.fixture
def explorer(demo_drift):
    return DriftExplorer(demo_drift)


def test_opens_on_the_most_drifted_feature_and_the_latest_window(explorer, demo_drift):
    assert explorer.feature.value == DRIFTED
    assert explorer.window.value == report_windows(demo_drift)[-1]
    assert [v for _, v in explorer.feature.options] == feature_ranking(demo_drift)["column_name"].to_list()
    assert list(explorer.displays) == ["summary", "ranking", "over_windows", "histogram", "table"]
    assert set(explorer.figures) == {"ranking", "histogram", "over_windows"}


def test_the_summary_and_the_table_follow_the_controls(explorer, demo_drift):
    explorer.feature.value = "plan"
    explorer.statistic.value = "js_distance"
    summary = explorer.displays["summary"].data
    assert "feature plan" in summary["text/html"] and "statistic js_distance" in summary["text/html"]
    assert summary["text/plain"] == repr(explorer)
    table = explorer.displays["table"].data["text/html"]
    ranked = feature_ranking(demo_drift, "js_distance")["column_name"].to_list()
    assert "worst js_distance" in table
    assert [table.index(f"<td style=\"text-align:left\">{name}</td>") for name in ranked] == sorted(
        table.index(f"<td style=\"text-align:left\">{name}</td>") for name in ranked)  # in ranking order


def test_changing_the_feature_updates_its_figures_and_nothing_else(explorer, demo_drift):
    before, state = snapshot(explorer), controls(explorer)
    explorer.feature.value = "plan"
    after = snapshot(explorer)
    row = bins_row(demo_drift, "plan", explorer.window.value)
    hist = after["histogram"]["data"]
    assert hist[0]["customdata"] == row["baseline_counts"] and hist[1]["customdata"] == row["current_counts"]
    assert hist[0]["x"] == ["free", "basic", "pro", "enterprise", "null"]
    psi = demo_drift.table.filter((pl.col("column_name") == "plan") & (pl.col("drift_type") == "BASELINE")).sort("window_start")
    assert after["over_windows"]["data"][0]["y"] == pytest.approx(psi["population_stability_index"].to_list())
    assert after["histogram"] != before["histogram"] and after["over_windows"] != before["over_windows"]
    assert after["ranking"] == before["ranking"]
    assert controls(explorer) == {**state, "feature": ("plan", state["feature"][1])}


def test_changing_the_window_updates_the_histogram_and_the_window_mark(explorer, demo_drift):
    windows = report_windows(demo_drift)
    before, state = snapshot(explorer), controls(explorer)
    explorer.window.value = windows[3]
    after = snapshot(explorer)
    row = bins_row(demo_drift, DRIFTED, windows[3])
    assert after["histogram"]["data"][1]["customdata"] == row["current_counts"]
    assert after["histogram"]["data"][0]["customdata"] == row["baseline_counts"]
    # the statistic's data stay; only the mark of the chosen window moves
    assert after["over_windows"]["data"] == before["over_windows"]["data"]
    marks = [s for s in after["over_windows"]["layout"]["shapes"] if s["xref"] == "x"]
    assert marks[0]["x0"].startswith(windows[3].date().isoformat())
    assert after["ranking"] == before["ranking"]
    assert controls(explorer) == {**state, "window": (windows[3], state["window"][1])}


def test_all_windows_pools_the_current_counts(explorer, demo_drift):
    explorer.window.value = ALL_WINDOWS
    rows = demo_drift.bins.filter((pl.col("column_name") == DRIFTED) & (pl.col("drift_type") == "BASELINE"))
    pooled = [sum(c) for c in zip(*rows["current_counts"].to_list(), strict=True)]
    assert sent(explorer, "histogram")["data"][1]["customdata"] == pooled


def test_changing_the_statistic_reranks_and_redraws_the_series(explorer, demo_drift):
    before = snapshot(explorer)
    explorer.statistic.value = "js_distance"
    after = snapshot(explorer)
    js = demo_drift.table.filter((pl.col("column_name") == DRIFTED) & (pl.col("drift_type") == "BASELINE")).sort("window_start")
    assert after["over_windows"]["data"][0]["y"] == pytest.approx(js["js_distance"].to_list())
    assert after["ranking"]["data"][0]["x"] == pytest.approx(feature_ranking(demo_drift, "js_distance")["worst"].to_list())
    assert after["histogram"] == before["histogram"]


def test_bad_arguments(demo_drift):
    with pytest.raises(UnknownColumn, match="Compared columns: user_session_count_7d"):
        DriftExplorer(demo_drift, feature="nope")


def test_a_report_without_windows_and_consecutive_drift():
    from datetime import datetime, timedelta

    from mlobs_notebook import compute_drift

    base = pl.DataFrame({"x": [float(i % 30) for i in range(600)]})
    single = DriftExplorer(compute_drift(base, base.with_columns(pl.col("x") + 3)))
    assert [v for _, v in single.window.options] == [ALL_WINDOWS]
    assert sum(sent(single, "histogram")["data"][1]["customdata"]) == 600
    days = [datetime(2026, 1, 1) + timedelta(days=i % 3) for i in range(600)]
    cur = base.with_columns(t=pl.Series(days), x=pl.col("x") + pl.Series([float(i % 3) * 10 for i in range(600)]))
    report = compute_drift(base, cur, time_column="t", granularity="1d")
    explorer = DriftExplorer(report, drift_type="CONSECUTIVE")
    assert ALL_WINDOWS not in [v for _, v in explorer.window.options]  # pooling needs one reference
    hist = sent(explorer, "histogram")["data"]
    assert hist[0]["name"] == "previous window"
    rows = report.bins.filter((pl.col("drift_type") == "CONSECUTIVE") & (pl.col("window_start") == explorer.window.value))
    assert hist[0]["customdata"] == rows["baseline_counts"][0].to_list()
