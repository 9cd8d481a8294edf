"""DriftReport: its tables agree with each other and serialise to JSON."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.drift import DriftReport, compute_drift


@pytest.fixture(scope="module")
def report(baseline: pl.DataFrame, current: pl.DataFrame) -> DriftReport:
    return compute_drift(baseline, current, time_column="ts", granularity="1d")


def test_report_is_frozen(report: DriftReport) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.table = pl.DataFrame()  # type: ignore[misc]


def test_one_row_per_window_column_and_drift_type(report: DriftReport) -> None:
    keys = report.table.select("window_start", "column_name", "drift_type")
    assert keys.n_unique() == report.table.height
    windows = report.table["window_start"].n_unique()
    columns = report.table["column_name"].n_unique()
    assert report.table.height == columns * (windows + windows - 1)


def test_bins_hold_the_counts_behind_the_statistics(report: DriftReport, current: pl.DataFrame) -> None:
    from mlobs_notebook.drift.statistics.psi import population_stability_index

    joined = report.table.join(report.bins, on=["window_start", "column_name", "drift_type"])
    assert joined.height == report.table.height
    for row in joined.iter_rows(named=True):
        assert sum(row["current_counts"]) == row["count"]
        assert sum(row["baseline_counts"]) == row["reference_count"]
        if row["kind"] == "numeric":
            assert len(row["bin_edges"]) == len(row["current_counts"])  # k+1 edges, k bins + null
            psi = population_stability_index(row["baseline_counts"], row["current_counts"])[0]
            assert psi == pytest.approx(row["population_stability_index"], rel=1e-12)
    # naive times are UTC: the windows are their UTC days, labelled aware
    x_first = current.filter(pl.col("ts").dt.replace_time_zone("UTC").dt.truncate("1d") == report.table["window_start"].min())["x"]
    edges = report.baseline.bin_edges("x")
    expected = np.histogram(x_first.to_numpy(), bins=edges)[0]
    counts = report.bins.filter(pl.col("column_name") == "x", pl.col("drift_type") == "BASELINE").row(0, named=True)
    # np.histogram closes the last bin; no value sits on an edge here, so the counts agree
    assert counts["current_counts"][:-1] == expected.tolist()


def test_to_rows_is_json_with_bins_for_numeric_columns(report: DriftReport) -> None:
    rows = json.loads(json.dumps({"rows": report.to_rows()}, allow_nan=False))["rows"]
    assert len(rows) == report.table.height
    numeric = next(r for r in rows if r["kind"] == "numeric")
    categorical = next(r for r in rows if r["kind"] == "categorical")
    assert numeric["bin_edges"][0] == "-inf" and numeric["bin_edges"][-1] == "inf"
    assert {"baseline_counts", "current_counts"} <= set(numeric) and "categories" not in numeric
    assert categorical["categories"][-1] is None and "bin_edges" not in categorical
    assert set(report.table.columns) <= set(numeric)


def test_profile_has_baseline_and_every_window(report: DriftReport) -> None:
    profile = report.profile
    assert set(profile["source"]) == {"baseline", "current"}
    x = profile.filter(pl.col("column_name") == "x", pl.col("source") == "current")
    assert x.height == report.table["window_start"].n_unique()
    assert (x["p05"] <= x["p50"]).all() and (x["p50"] <= x["p95"]).all()
    assert (x["min"] <= x["p05"]).all()


def test_drifted_features_are_ranked(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    moved = current.with_columns(pl.col("y") * 3, pl.col("x") + 0.1)
    report = compute_drift(baseline, moved, time_column="ts", granularity="1d")
    ranked = report.drifted_features()
    assert ranked["column_name"].to_list()[0] == "y"
    assert (ranked["drifted_windows"] > 0).all()
    assert ranked["drifted_windows"].to_list() == sorted(ranked["drifted_windows"].to_list(), reverse=True)
    with pytest.raises(ValueError, match="BASELINE"):
        report.drifted_features("SIDEWAYS")


def test_html_names_the_drifted_columns(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    moved = current.with_columns(pl.col("y") * 3)
    html = compute_drift(baseline, moved.drop("code"))._repr_html_()
    assert "<table" in html and ">y</td>" in html
    assert "code" in html  # the schema finding for the missing column
