"""Windows in one pass give what comparing each window on its own gives."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from mlobs_notebook.drift import compute_drift, fit_baseline
from mlobs_notebook.drift.assemble import STAT_COLUMNS
from mlobs_notebook.errors import InputError, UnknownColumn


def _rows(table: pl.DataFrame) -> dict[tuple, dict]:
    return {(r["column_name"], r["drift_type"]): r for r in table.iter_rows(named=True)}


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def test_each_window_equals_its_own_comparison(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    profile = fit_baseline(baseline.drop("ts"))
    report = compute_drift(profile, current, time_column="ts", granularity="1d")
    windowed = report.table.filter(pl.col("drift_type") == "BASELINE")
    starts = windowed["window_start"].unique().sort()
    assert len(starts) == 14  # 2,000 rows every 10 minutes
    for start in starts:
        alone = current.filter(pl.col("ts").dt.replace_time_zone("UTC").dt.truncate("1d") == start).drop("ts")
        expected = _rows(compute_drift(profile, alone).table)
        for row in windowed.filter(pl.col("window_start") == start).iter_rows(named=True):
            other = expected[(row["column_name"], "BASELINE")]
            for name in [*STAT_COLUMNS, "count", "avg_delta", "percent_null_delta", "status"]:
                assert _close(row[name], other[name]), (start, row["column_name"], name)
            assert row["window_end"] == start + dt.timedelta(days=1)


def test_consecutive_rows_compare_each_window_with_the_one_before(current: pl.DataFrame) -> None:
    report = compute_drift(current.head(10), current, time_column="ts", granularity="1d")
    consecutive = report.table.filter(pl.col("drift_type") == "CONSECUTIVE", pl.col("column_name") == "x")
    starts = report.table["window_start"].unique().sort()
    assert consecutive["window_start"].to_list() == starts[1:].to_list()
    from scipy import stats

    for row in consecutive.iter_rows(named=True):
        now = current.filter(pl.col("ts").dt.replace_time_zone("UTC").dt.truncate("1d") == row["window_start"])["x"].to_numpy()
        before = current.filter(
            pl.col("ts").dt.replace_time_zone("UTC").dt.truncate("1d") == row["window_start"] - dt.timedelta(days=1)
        )["x"].to_numpy()
        assert row["ks_statistic"] == pytest.approx(stats.ks_2samp(before, now).statistic, abs=1e-12)
        assert row["wasserstein_distance"] == pytest.approx(stats.wasserstein_distance(before, now), rel=1e-9)
        assert row["count_delta"] == len(now) - len(before)


def test_a_gap_in_the_data_is_an_empty_window_with_null_statistics(baseline: pl.DataFrame, frame_factory) -> None:
    early = frame_factory(200, seed=3, start=dt.datetime(2024, 3, 1))
    late = frame_factory(200, seed=4, start=dt.datetime(2024, 3, 5))
    report = compute_drift(baseline, pl.concat([early, late]), time_column="ts", granularity="1d")
    rows = report.table.filter(pl.col("drift_type") == "BASELINE", pl.col("column_name") == "x")
    empty = rows.filter(pl.col("count") == 0)
    assert empty["window_start"].to_list() == [dt.datetime(2024, 3, 3, tzinfo=dt.UTC), dt.datetime(2024, 3, 4, tzinfo=dt.UTC)]
    for name in STAT_COLUMNS:
        assert empty[name].null_count() == empty.height
    assert set(empty["status"]) == {"empty"} and empty["drifted"].null_count() == empty.height
    assert any("2 of" in note and "have no rows" in note and "2024-03-03" in note for note in report.notes)
    # the window after the gap has no previous data to compare with
    after = report.table.filter(
        pl.col("drift_type") == "CONSECUTIVE", pl.col("window_start") == dt.datetime(2024, 3, 5, tzinfo=dt.UTC), pl.col("column_name") == "x"
    )
    assert after["population_stability_index"].to_list() == [None]


@pytest.mark.parametrize("granularity", ["1h", "1d", "1w"])
def test_window_bounds_follow_the_granularity(current: pl.DataFrame, granularity: str) -> None:
    report = compute_drift(current.head(100), current, time_column="ts", granularity=granularity, consecutive=False)
    table = report.table.filter(pl.col("column_name") == "x")
    spans = (table["window_end"] - table["window_start"]).unique().to_list()
    step = {"1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1), "1w": dt.timedelta(weeks=1)}[granularity]
    assert spans == [step]
    assert table["count"].sum() == current.height
    assert set(table["granularity"].to_list()) == {granularity}


def test_time_column_as_date_and_as_text(current: pl.DataFrame) -> None:
    as_text = current.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    as_date = current.with_columns(pl.col("ts").dt.date())
    reference = compute_drift(current.head(100), current, time_column="ts", granularity="1d").table
    for variant in (as_text, as_date):
        table = compute_drift(current.head(100), variant, time_column="ts", granularity="1d").table
        assert table["population_stability_index"].to_list() == reference["population_stability_index"].to_list()


def test_bad_window_arguments_are_input_errors(current: pl.DataFrame) -> None:
    with pytest.raises(InputError, match="granularity 'one day'"):
        compute_drift(current, current, time_column="ts", granularity="one day")
    with pytest.raises(InputError, match="needs a granularity"):
        compute_drift(current, current, time_column="ts")
    with pytest.raises(UnknownColumn, match="'when'"):
        compute_drift(current, current, time_column="when", granularity="1d")
    with pytest.raises(InputError, match="is Float64"):
        compute_drift(current, current, time_column="x", granularity="1d")
