"""The shared field cases of ../shared/cases/drift (inputs that broke comparable tools), each
rebuilt here with the right value: scipy's, or the documented definition's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlobs_notebook.drift import compute_drift
from mlobs_notebook.errors import InputError


def _row(report, column: str, drift_type: str = "BASELINE") -> dict:
    rows = report.table.filter(pl.col("column_name") == column, pl.col("drift_type") == drift_type)
    assert rows.height == 1
    return rows.row(0, named=True)


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    """PSI on shares, an empty share replaced by 1e-4 (the engine's documented convention)."""
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    return float(np.sum((q - p) * np.log(q / p)))


# --- all_null_column: a column with no value at all is compared, not dropped ---------------------


@pytest.fixture(scope="module")
def all_null(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | pd.DataFrame]:
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"x": rng.normal(0, 1, 500), "empty_f": np.full(500, np.nan), "empty_o": [None] * 500})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 400), "empty_f": np.full(400, np.nan), "empty_o": [None] * 400})
    filled = cur.copy()
    filled["empty_f"], filled["empty_o"] = rng.normal(0, 1, 400), ["a"] * 400
    folder = tmp_path_factory.mktemp("all_null")
    paths = {name: folder / f"{name}.parquet" for name in ("base", "cur", "filled")}
    for name, frame in (("base", base), ("cur", cur), ("filled", filled)):
        frame.to_parquet(paths[name])
    return {**paths, "base_frame": base, "cur_frame": cur}


def test_a_null_typed_parquet_column_is_compared(all_null) -> None:
    base = pl.read_parquet(all_null["base"])
    assert base.schema["empty_o"] == pl.Null  # how parquet stores an all-None pandas column
    report = compute_drift(base, pl.read_parquet(all_null["cur"]))
    assert not report.schema_findings
    for column in ("empty_f", "empty_o"):
        row = _row(report, column)
        assert row["reference_null_rate"] == row["current_null_rate"] == 1.0
        assert row["js_distance"] == 0.0 and row["status"] == "ok"
    x = _row(report, "x")
    frames = all_null["base_frame"], all_null["cur_frame"]
    assert x["ks_statistic"] == pytest.approx(stats.ks_2samp(frames[0].x, frames[1].x).statistic, abs=1e-12)
    assert x["wasserstein_distance"] == pytest.approx(stats.wasserstein_distance(frames[0].x, frames[1].x), rel=1e-9)


def test_a_null_typed_baseline_column_that_fills_up_is_drift(all_null) -> None:
    report = compute_drift(pl.read_parquet(all_null["base"]), pl.read_parquet(all_null["filled"]))
    for column, kind in (("empty_f", "numeric"), ("empty_o", "categorical")):
        row = _row(report, column)
        assert row["kind"] == kind
        # null rate 1.0 -> 0.0: all the mass leaves the null bin
        assert row["js_distance"] == pytest.approx(jensenshannon([0, 1], [1, 0], base=2))
        assert row["percent_null_delta"] == -100.0 and row["status"] == "drift"
    finding = next(f for f in report.schema_findings if f.column == "empty_o")
    assert finding.compared and "type Null" in finding.detail


# --- int_codes_become_float: values compare by value, whatever the dtype -----------------------


def test_integer_codes_that_arrive_as_floats_compare_by_value() -> None:
    base = pd.DataFrame({"num": [1, 2, 3, 4, 5] * 200, "cat": [1, 0, 1, 0, 0] * 200})
    cur = pd.DataFrame({"num": [1.0, 2, 3, 4, 5] * 40, "cat": [1, 0, 1, 0, 0] * 40})
    cur.loc[0, "cat"] = None  # one missing value: pandas stores the column as float64
    assert str(cur.dtypes["cat"]) == "float64"
    report = compute_drift(base, cur)
    bins = report.bins.filter(pl.col("column_name") == "cat").row(0, named=True)
    assert bins["categories"] == ["0", "1", None]
    assert bins["baseline_counts"] == [600, 400, 0] and bins["current_counts"] == [120, 79, 1]
    cat = _row(report, "cat")
    ref, cu = np.array([600, 400, 0]), np.array([120, 79, 1])
    assert cat["js_distance"] == pytest.approx(jensenshannon(ref / ref.sum(), cu / cu.sum(), base=2), rel=1e-12)
    assert cat["population_stability_index"] == pytest.approx(_psi(ref / ref.sum(), cu / cu.sum()), rel=1e-12)
    assert cat["status"] == "ok"
    num = _row(report, "num")
    assert num["population_stability_index"] == 0.0 and num["status"] == "ok"


def test_booleans_nullable_and_category_dtypes_stay_right() -> None:
    rng = np.random.default_rng(4)
    flags = rng.random(600) < 0.3
    base = pd.DataFrame({
        "flag": flags, "code": pd.array(rng.integers(0, 3, 600), dtype="Int64"),
        "band": pd.Categorical(rng.choice(["lo", "mid", "hi"], 600)), "text": pd.array(rng.choice(["a", "b"], 600), dtype="string"),
    })  # fmt: skip
    cur = base.copy()
    cur["flag"] = cur["flag"].astype(float)  # 1.0 / 0.0, as after a merge
    cur.loc[:4, "code"] = pd.NA
    report = compute_drift(base, cur)
    for column in ("flag", "code", "band", "text"):
        row = _row(report, column)
        assert row["kind"] == "categorical"
        if column != "code":  # the same values: no change at all
            assert row["js_distance"] == 0.0
    assert _row(report, "code")["current_null_rate"] == pytest.approx(5 / 600)
    flag = report.bins.filter(pl.col("column_name") == "flag").row(0, named=True)
    assert flag["categories"] == ["false", "true", None] and flag["current_counts"] == flag["baseline_counts"]


# --- tiny_window_total_shift: pooling never hides a whole-window shift ---------------------------


def test_a_tiny_window_of_a_category_never_seen_is_drift() -> None:
    base = pl.DataFrame({"color": ["red", "green", "blue", "green", "red"] * 200, "plan": ["a", "b"] * 500})
    cur = pl.DataFrame({"color": ["purple"] * 15, "plan": pl.Series([None] * 15, dtype=pl.String)})
    report = compute_drift(base, cur)
    color, plan = _row(report, "color"), _row(report, "plan")
    assert color["js_distance"] == pytest.approx(jensenshannon([400, 400, 200, 0], [0, 0, 0, 15], base=2))
    assert plan["js_distance"] == pytest.approx(jensenshannon([500, 500, 0], [0, 0, 15], base=2))
    assert color["js_distance"] == 1.0 and color["status"] == "drift" and plan["status"] == "drift"
    assert color["unseen_category_share"] == 1.0 and plan["percent_null_delta"] == 100.0


def test_a_window_below_the_minimum_reads_too_small_not_ok() -> None:
    base = pd.DataFrame({"num": [1, 2, 3, 4, 5] * 200, "cat": [1, 0, 1, 0, 0] * 200})
    report = compute_drift(base, pd.DataFrame({"num": [None, None], "cat": [14, None]}))
    for column in ("num", "cat"):
        row = _row(report, column)
        assert row["status"] == "too_small" and row["drifted"] is None
        assert row["population_stability_index_drifted"] is None
    assert _row(report, "cat")["js_distance"] == pytest.approx(jensenshannon([600, 400, 0, 0], [0, 0, 1, 1], base=2))
    assert any("min_window_rows=10" in note for note in report.notes)


# --- null_rate_threshold: data quality as registered, thresholded statistics ---------------------


def test_null_rate_change_and_unseen_share_are_statistics_with_thresholds() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    tenure, tenure2 = rng.gamma(2.0, 3.0, n), rng.gamma(2.0, 3.0, n)
    tenure[rng.random(n) < 0.10] = np.nan
    tenure2[rng.random(n) < 0.23] = np.nan
    band, band2 = rng.choice(["0%", "10%", "20%", "30%"], n), rng.choice(["0%", "10%", "20%", "30%"], n)
    band2[rng.random(n) < 0.014] = "50%"
    base = pl.DataFrame({"driver_tenure": tenure, "salary_band": band}).with_columns(pl.col("driver_tenure").fill_nan(None))
    cur = pl.DataFrame({"driver_tenure": tenure2, "salary_band": band2}).with_columns(pl.col("driver_tenure").fill_nan(None))
    report = compute_drift(base, cur, thresholds={"driver_tenure": {"percent_null_delta": 5}, "unseen_category_share": 0.01})
    tenure_row, band_row = _row(report, "driver_tenure"), _row(report, "salary_band")
    expected = 100 * (np.isnan(tenure2).mean() - np.isnan(tenure).mean())
    assert tenure_row["percent_null_delta"] == pytest.approx(expected, rel=1e-12)
    assert tenure_row["percent_null_delta_drifted"] is True and tenure_row["drifted"] is True
    assert band_row["unseen_category_share"] == pytest.approx((band2 == "50%").mean(), rel=1e-12)
    assert band_row["unseen_category_share_drifted"] is True and band_row["status"] == "drift"
    # by default the null-rate rise is drift (|delta| >= 10 points) and 1.4% unseen a warning
    default = compute_drift(base, cur)
    assert _row(default, "driver_tenure")["percent_null_delta_drifted"] is True
    assert _row(default, "salary_band")["status"] == "warn"
    used = default.thresholds.filter(pl.col("statistic") == "percent_null_delta", pl.col("column_name") == "driver_tenure")
    assert used["rule"].to_list() == ["|x| >= 10", "|x| >= 10"] and set(used["source"]) == {"default"}


def test_a_falling_null_rate_is_a_change_too() -> None:
    base = pl.DataFrame({"x": [None] * 300 + list(range(700))}, schema={"x": pl.Float64})
    cur = pl.DataFrame({"x": [0.0] * 300 + list(range(700))})  # a pipeline fills missing values with 0
    row = _row(compute_drift(base, cur, thresholds={"population_stability_index": None}), "x")
    assert row["percent_null_delta"] == -30.0 and row["percent_null_delta_drifted"] is True


# --- tz_windows and us_date_strings: windows in the data's zone, text never guessed -------------


def _berlin() -> pl.DataFrame:
    rng = np.random.default_rng(2)
    local = [dt.datetime(2024, 3, d, h, mi) for d in (30, 31) for h, mi in ((1, 0), (6, 0), (12, 0), (23, 30))]
    local += [dt.datetime(2024, 4, 1, h, mi) for h, mi in ((1, 0), (6, 0), (12, 0), (23, 30))]
    ts = pl.Series("ts", local).dt.replace_time_zone("Europe/Berlin")
    return pl.DataFrame({"ts": ts, "x": rng.normal(0, 1, len(ts))})


def test_zone_aware_days_are_labelled_at_local_midnight_across_dst() -> None:
    base = pl.DataFrame({"x": np.random.default_rng(1).normal(0, 1, 300)})
    report = compute_drift(base, _berlin(), time_column="ts", granularity="1d", consecutive=False)
    assert report.zone == "Europe/Berlin"
    berlin = dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=2))
    starts = report.table["window_start"].to_list()
    assert starts == [dt.datetime(2024, 3, 30, tzinfo=berlin[0]), dt.datetime(2024, 3, 31, tzinfo=berlin[0]),
                      dt.datetime(2024, 4, 1, tzinfo=berlin[1])]  # fmt: skip
    assert report.table["count"].to_list() == [4, 4, 4]
    ends = report.table["window_end"].to_list()
    assert ends[1].timestamp() - starts[1].timestamp() == 23 * 3600  # the DST day


def test_iso_text_with_offsets_is_parsed_and_windowed_in_the_zone_asked_for() -> None:
    base = pl.DataFrame({"x": np.random.default_rng(1).normal(0, 1, 300)})
    text = _berlin().with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
    assert text["ts"][0] == "2024-03-30T01:00:00+01:00"
    utc = compute_drift(base, text, time_column="ts", granularity="1d", consecutive=False)
    # two offsets (a DST change): windows in UTC, and a note saying how to get local days
    assert utc.zone == "UTC" and utc.table["count"].to_list() == [4, 5, 3]
    assert any("several UTC offsets (+01:00, +02:00)" in note for note in utc.notes)
    local = compute_drift(base, text, time_column="ts", granularity="1d", consecutive=False, time_zone="Europe/Berlin")
    assert local.table["count"].to_list() == [4, 4, 4]
    assert [s.isoformat() for s in local.table["window_start"]] == [
        "2024-03-30T00:00:00+01:00", "2024-03-31T00:00:00+01:00", "2024-04-01T00:00:00+02:00"]  # fmt: skip


@pytest.mark.parametrize(
    ("values", "zone", "starts"),
    [
        (["2024-03-30T01:00:00+0100", "2024-03-30T23:00:00+01"], "Etc/GMT-1", ["2024-03-30T00:00:00+01:00"]),
        (["2024-03-30 01:00:00Z", "2024-03-30t23:00:00.123456789z"], "UTC", ["2024-03-30T00:00:00+00:00"]),
        (["20240330T220000-0500", "2024-03-31T01:00-05:00"], "Etc/GMT+5", ["2024-03-30T00:00:00-05:00", "2024-03-31T00:00:00-05:00"]),
        (["2024-03-30", "2024-03-30T10:00:00", "2024-03-31 00:00"], "UTC", ["2024-03-30T00:00:00+00:00", "2024-03-31T00:00:00+00:00"]),
    ],
)
def test_iso_8601_and_rfc_3339_spellings_are_read(values: list[str], zone: str, starts: list[str]) -> None:
    base = pl.DataFrame({"x": [0.0, 1.0] * 50})
    cur = pl.DataFrame({"ts": values, "x": np.arange(len(values), dtype=float)})
    report = compute_drift(base, cur, time_column="ts", granularity="1d", consecutive=False)
    assert report.zone == zone
    assert [s.isoformat() for s in report.table["window_start"]] == starts


@pytest.mark.parametrize(
    "values",
    [["31-08-2018", "01-09-2018"], ["08/31/2018 10:00", "09/01/2018 10:00"], ["01/02/2018"], ["31.08.2018"], ["Aug 31 2018"]],
)
def test_day_first_and_month_first_text_is_never_guessed(values: list[str]) -> None:
    base = pl.DataFrame({"x": [0.0, 1.0] * 50})
    cur = pl.DataFrame({"ts": values, "x": np.arange(len(values), dtype=float)})
    with pytest.raises(InputError, match=r"(?s)'ts' holds text that is not ISO 8601.*Tried ISO 8601.*time_format="):
        compute_drift(base, cur, time_column="ts", granularity="1d")


def test_text_mixing_times_with_and_without_offsets_is_an_error() -> None:
    cur = pl.DataFrame({"ts": ["2024-03-30T10:00:00", "2024-03-30T10:00:00+01:00"], "x": [0.0, 1.0]})
    with pytest.raises(InputError, match="mixes times with a UTC offset and times without one"):
        compute_drift(pl.DataFrame({"x": [0.0, 1.0]}), cur, time_column="ts", granularity="1d")


def test_us_date_strings_read_with_the_format_given() -> None:
    rng = np.random.default_rng(3)
    start = dt.datetime(2018, 1, 1)
    moments = [start + dt.timedelta(hours=int(h)) for h in np.sort(rng.integers(0, 44 * 7 * 24, 20_000))]
    current = pl.DataFrame({"ts": [m.strftime("%m/%d/%Y %H:%M") for m in moments], "x": rng.normal(size=20_000)})
    baseline = pl.DataFrame({"x": rng.normal(size=20_000)})
    with pytest.raises(InputError, match="time_format"):
        compute_drift(baseline, current, time_column="ts", granularity="1w")
    report = compute_drift(baseline, current, time_column="ts", granularity="1w", time_format="%m/%d/%Y %H:%M")
    weeks = pd.Series(pd.to_datetime([m.isoformat() for m in moments])).dt.to_period("W").value_counts().sort_index()
    rows = report.table.filter(pl.col("drift_type") == "BASELINE")
    assert rows["count"].to_list() == weeks.to_list()  # pandas' own weekly (Monday) periods
    assert rows["window_start"][0] == dt.datetime(2018, 1, 1, tzinfo=dt.UTC) and report.windows == len(weeks)


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    cur = pl.DataFrame({"ts": ["2024-03-30T10:00:00Z"] * 12, "x": [0.0] * 12})
    with pytest.raises(InputError, match="'Mars/Olympus' is not an IANA time zone"):
        compute_drift(pl.DataFrame({"x": [0.0] * 20}), cur, time_column="ts", granularity="1d", time_zone="Mars/Olympus")
