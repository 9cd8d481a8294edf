"""Drift figures draw the report's numbers: bins for bins, statistics for statistics."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest
from panels_support import DRIFTED, bins_row

from mlobs_notebook import compute_drift
from mlobs_notebook.errors import InputError, UnknownColumn, UnknownStatistic
from mlobs_notebook.plots import (
    drift_over_windows,
    drift_ranking,
    feature_ranking,
    histogram_overlay,
    metric_series_figure,
    report_windows,
)


def _windows(report):
    return [w for w in report_windows(report) if w is not None]


@pytest.mark.parametrize("column", ["user_session_count_7d", "tenure_days", "plan", "monthly_spend"])
def test_histogram_counts_are_the_reports_bins(demo_drift, column):
    window = _windows(demo_drift)[40]
    fig = histogram_overlay(demo_drift, column, window)
    row = bins_row(demo_drift, column, window)
    baseline, current = fig.data
    assert list(baseline.customdata) == row["baseline_counts"]
    assert list(current.customdata) == row["current_counts"]
    for trace, counts in ((baseline, row["baseline_counts"]), (current, row["current_counts"])):
        total = sum(counts)
        assert [round(y * total) for y in trace.y] == counts
        assert math.isclose(sum(trace.y), 1.0)
    assert len(baseline.x) == len(row["baseline_counts"])
    assert baseline.x[-1] == "null"


def test_numeric_bins_are_labelled_by_their_edges_and_overlaid(demo_drift):
    window = _windows(demo_drift)[0]
    fig = histogram_overlay(demo_drift, DRIFTED, window)
    edges = bins_row(demo_drift, DRIFTED, window)["bin_edges"]
    labels = list(fig.data[0].x)
    assert len(labels) == len(edges)  # one per bin (len(edges) - 1) and the null bin
    assert labels[0] == f"< {edges[1]:.4g}" and labels[-2] == f">= {edges[-2]:.4g}"
    assert labels[1] == f"[{edges[1]:.4g}, {edges[2]:.4g})"
    assert fig.layout.barmode == "overlay"


def test_categorical_bars_stand_side_by_side_per_category(demo_drift):
    window = _windows(demo_drift)[5]
    fig = histogram_overlay(demo_drift, "plan", window)
    row = bins_row(demo_drift, "plan", window)
    assert fig.layout.barmode == "group"
    assert list(fig.data[0].x) == [c if c is not None else "null" for c in row["categories"]]


def test_pooled_histogram_sums_the_windows(demo_drift):
    fig = histogram_overlay(demo_drift, DRIFTED, None)
    rows = demo_drift.bins.filter((pl.col("column_name") == DRIFTED) & (pl.col("drift_type") == "BASELINE"))
    counts = np.array(rows["current_counts"].to_list()).sum(axis=0)
    assert list(fig.data[1].customdata) == counts.tolist()
    assert list(fig.data[0].customdata) == rows["baseline_counts"][0].to_list()
    assert "all windows" in fig.layout.title.text


def test_raw_counts_when_not_normalized(demo_drift):
    window = _windows(demo_drift)[-1]
    fig = histogram_overlay(demo_drift, DRIFTED, window.date(), normalize=False)
    assert list(fig.data[1].y) == bins_row(demo_drift, DRIFTED, window)["current_counts"]


def test_statistic_over_windows_with_threshold_lines(demo_drift):
    window = _windows(demo_drift)[10]
    fig = drift_over_windows(demo_drift, DRIFTED, window=window.isoformat())
    rows = demo_drift.table.filter((pl.col("column_name") == DRIFTED) & (pl.col("drift_type") == "BASELINE")).sort("window_start")
    assert list(fig.data[0].y) == rows["population_stability_index"].to_list()
    assert list(fig.data[0].customdata) == rows["status"].to_list()
    levels = sorted(s.y0 for s in fig.layout.shapes if s.xref == "paper")
    assert levels == [0.1, 0.2]  # warn and drift, as the report judged PSI
    marker = [s for s in fig.layout.shapes if s.xref == "x"]
    assert len(marker) == 1 and str(marker[0].x0).startswith(window.date().isoformat())


def test_threshold_follows_the_reports_own_levels():
    base = pl.DataFrame({"x": [float(i % 50) for i in range(2000)], "c": ["a", "b"] * 1000})
    cur = pl.DataFrame({"x": [float(i % 50) + 20 for i in range(2000)], "c": ["a", "a", "b", "b"] * 500})
    report = compute_drift(base, cur, thresholds={"js_distance": (0.05, 0.3)})
    fig = drift_over_windows(report, "x", "js_distance")
    assert sorted(s.y0 for s in fig.layout.shapes) == [0.05, 0.3]
    assert "judge" not in fig.layout.annotations[0].text
    # a statistic the report computed but did not judge by shows its registered default, labelled
    fig = drift_over_windows(report, "x", "tv_distance")
    assert "not used to judge" in fig.layout.annotations[0].text
    # a report without windows draws one point
    assert list(drift_over_windows(report, "x").data[0].x) == ["all data"]
    assert list(histogram_overlay(report, "c").data[1].customdata)[:2] == [1000, 1000]


def test_ranking_puts_the_drifted_feature_first(demo_drift, world):
    ranking = feature_ranking(demo_drift)
    assert ranking["column_name"][0] == DRIFTED == world.drifted_features[0]
    assert ranking["status"][0] == "drift" and set(ranking["status"][1:]) == {"ok"}
    fig = drift_ranking(demo_drift)
    assert list(fig.data[0].y) == ranking["column_name"].to_list()
    worst = demo_drift.table.filter(pl.col("drift_type") == "BASELINE").group_by("column_name").agg(
        pl.col("population_stability_index").max()
    )
    expected = dict(worst.iter_rows())
    assert dict(zip(fig.data[0].y, fig.data[0].x, strict=True)) == pytest.approx(expected)


def test_ranking_by_a_p_value_takes_the_smallest():
    base = pl.DataFrame({"x": [float(i % 50) for i in range(2000)], "y": [float(i % 7) for i in range(2000)]})
    cur = pl.DataFrame({"x": [float(i % 50) + 5 for i in range(2000)], "y": [float(i % 7) for i in range(2000)]})
    report = compute_drift(base, cur, statistics=["ks_pvalue", "population_stability_index"])
    ranking = feature_ranking(report, "ks_pvalue")
    assert ranking["column_name"].to_list() == ["x", "y"]
    assert ranking["worst"][0] == report.table.filter(pl.col("column_name") == "x")["ks_pvalue"].min()


def test_bad_arguments_say_what_exists(demo_drift):
    with pytest.raises(UnknownColumn, match="user_session_count_7d"):
        histogram_overlay(demo_drift, "no_such_feature")
    with pytest.raises(InputError, match="61 windows start 2026-06-30 .. 2026-08-29"):
        histogram_overlay(demo_drift, DRIFTED, date(2020, 1, 1))
    with pytest.raises(InputError, match="ISO 8601"):
        histogram_overlay(demo_drift, DRIFTED, "yesterday")
    with pytest.raises(UnknownStatistic, match="population_stability_index"):
        drift_over_windows(demo_drift, DRIFTED, "no_such_statistic")
    with pytest.raises(InputError, match="drift_type"):
        drift_ranking(demo_drift, drift_type="SIDEWAYS")


def test_metric_series_figure_draws_the_frame():
    frame = pl.DataFrame({"date": [date(2026, 7, 2), date(2026, 7, 1)], "value": [0.7, 0.8], "run_id": ["b", "a"]})
    fig = metric_series_figure(frame, "auc", marks={"incident": "2026-07-01"})
    assert list(fig.data[0].y) == [0.8, 0.7] and list(fig.data[0].customdata) == ["a", "b"]
    assert fig.layout.shapes[0].x0 == "2026-07-01" and fig.layout.annotations[0].text == "incident"
    with pytest.raises(UnknownColumn, match="Its columns: when, auc"):
        metric_series_figure(pl.DataFrame({"when": [datetime(2026, 1, 1)], "auc": [0.5]}))
    assert list(metric_series_figure({"when": [1, 2], "auc": [0.5, 0.6]}, x="when", y="auc").data[0].y) == [0.5, 0.6]
