"""Databricks monitor tables (drift and profile metrics) as drift evidence and as a metric series:
ours written in their schema and read back unchanged, and tables built the way Databricks writes
them (slices, a model id column, two monitor versions, ':table' rows, extra columns, naive INT96
timestamps) read with nothing recomputed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from databricks_tables import (
    CLASSIFICATION,
    DRIFT_METRICS,
    PROFILE_METRICS,
    REGRESSION,
    WINDOW,
    table,
    write,
)
from polars.testing import assert_frame_equal

from mlobs_notebook.drift import compute_drift
from mlobs_notebook.errors import InputError, SourceUnreadable, UnknownColumn, UnknownMetric
from mlobs_notebook.sources.monitor_drift import read_drift_metrics
from mlobs_notebook.sources.monitor_quality import read_quality_series

UTC = dt.UTC
STATISTICS = ["population_stability_index", "js_distance", "ks_statistic", "ks_pvalue", "wasserstein_distance",
              "chi_squared_statistic", "chi_squared_pvalue", "tv_distance", "l_infinity_distance"]  # fmt: skip


def _frame(rng: np.random.Generator, start: dt.datetime, days: int, shift: float) -> pl.DataFrame:
    n = 400 * days
    amount = rng.normal(10 + shift, 2, n)
    amount[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame({
        "amount": pl.Series(amount, nan_to_null=True),
        "channel": rng.choice(["web", "app", "store"], n, p=[0.5 - shift / 10, 0.3, 0.2 + shift / 10]),
        "plan_code": rng.integers(1, 4, n),  # integer codes: a categorical column
        "ts": [start + dt.timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, days * 86_400, n))],
    })  # fmt: skip


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(5)
    baseline = _frame(rng, dt.datetime(2025, 3, 1, tzinfo=UTC), 10, 0.0)
    current = pl.concat([_frame(rng, dt.datetime(2025, 4, 1, tzinfo=UTC), 3, 0.0),
                         _frame(rng, dt.datetime(2025, 4, 4, tzinfo=UTC), 4, 1.5)])  # fmt: skip
    return compute_drift(baseline, current, time_column="ts", granularity="1d")


def _empty_schema(columns: list[tuple[str, pa.DataType]]) -> pl.Schema:
    return pl.DataFrame(pa.schema(columns).empty_table()).schema


def test_our_drift_table_has_the_documented_columns_and_types(report):
    ours = report.to_databricks_drift_metrics()
    assert ours.schema == _empty_schema(DRIFT_METRICS)
    consecutive = ours.filter(pl.col("drift_type") == "CONSECUTIVE").row(0, named=True)
    assert consecutive["window_cmp"]["end"] == consecutive["window"]["start"]
    assert consecutive["window"]["start"] - consecutive["window_cmp"]["start"] == dt.timedelta(days=1)
    assert ours.filter(pl.col("drift_type") == "BASELINE")["window_cmp"].null_count() == ours.filter(pl.col("drift_type") == "BASELINE").height
    assert set(ours["granularity"]) == {"1 day"}
    assert dict(ours.select("column_name", "data_type").unique().iter_rows()) == {"amount": "double", "channel": "string", "plan_code": "bigint"}
    profile = report.to_databricks_profile_metrics()
    assert {c: t for c, t in profile.schema.items()} == {c: t for c, t in _empty_schema(PROFILE_METRICS).items() if c in profile.columns}
    assert set(profile["log_type"]) == {"BASELINE", "INPUT"}
    assert profile.filter(pl.col("log_type") == "BASELINE")["window"].null_count() == profile.filter(pl.col("log_type") == "BASELINE").height


@pytest.mark.parametrize("how", ["parquet", "spark", "delta"])
def test_ours_written_and_read_back_gives_the_same_values(report, tmp_path, how):
    drift = write(report.to_databricks_drift_metrics().to_arrow(), tmp_path / "t_drift_metrics", how)
    profile = write(report.to_databricks_profile_metrics().to_arrow(), tmp_path / "t_profile_metrics", how)
    back = read_drift_metrics(drift, profile_metrics=profile)
    order = ["column_name", "drift_type", "window_start"]
    mine, theirs = report.table.sort(order), back.table.sort(order)
    assert back.granularity == report.granularity and back.zone == "UTC"
    keys = ["window_start", "window_end", "granularity", "column_name", "kind", "drift_type", "count", "reference_count",
            "count_delta", "drifted", "status", *STATISTICS, "avg_delta", "percent_null_delta", "current_null_rate"]  # fmt: skip
    assert_frame_equal(mine.select(keys), theirs.select(keys), check_exact=True)
    assert_frame_equal(mine.select("reference_null_rate"), theirs.select("reference_null_rate"), abs_tol=1e-12)
    assert back.drifted_features()["column_name"].to_list() == report.drifted_features()["column_name"].to_list()
    assert report.drifted_features().height > 0  # the shift is there to be found


def _drift_rows() -> list[dict]:
    """Three daily windows of a TimeSeries + InferenceLog monitor, as Databricks writes them."""
    day = [dt.datetime(2025, 6, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    rows = []
    psi = {0: 0.02, 1: 0.31, 2: 0.45}
    js = {0: 0.01, 1: 0.04, 2: 0.22}
    for i in range(3):
        window = {"start": day[i], "end": day[i + 1]}
        common = {"window": window, "granularity": "1 day", "monitor_version": 1, "Model_Version": "*", "drift_type": "BASELINE"}
        rows.append({**common, "column_name": "amount", "data_type": "double", "count_delta": -3, "avg_delta": 0.5 * i,
                     "population_stability_index": psi[i], "ks_test": {"statistic": 0.1 * i, "pvalue": 0.5 / (i + 1)},
                     "wasserstein_distance": 0.2 * i, "percent_null_delta": 1.5})  # fmt: skip
        rows.append({**common, "column_name": "channel", "data_type": "string", "js_distance": js[i],
                     "chi_squared_test": {"statistic": 3.0 * i, "pvalue": 0.3}, "tv_distance": js[i], "l_infinity_distance": js[i]})  # fmt: skip
        rows.append({**common, "column_name": ":table", "count_delta": 10})
        rows.append({**common, "column_name": "amount", "Model_Version": "7", "population_stability_index": 0.0})
        rows.append({**common, "column_name": "amount", "slice_key": "country", "slice_value": "FR", "population_stability_index": 0.9})
    # a monitor version 0 row of window 2 that version 1 replaced
    rows.append({**rows[5], "monitor_version": 0, "population_stability_index": 0.01})
    return rows


def test_a_databricks_drift_table_reads_without_recomputing(tmp_path):
    extra = [("Model_Version", pa.string()), ("my_custom_metric_delta", pa.float64())]
    path = write(table(DRIFT_METRICS, _drift_rows(), extra=extra), tmp_path / "sales_drift_metrics", "delta")
    report = read_drift_metrics(path)
    rows = report.table.sort("column_name", "window_start")
    amount = rows.filter(pl.col("column_name") == "amount")
    assert amount["population_stability_index"].to_list() == [0.02, 0.31, 0.45]  # latest version, '*', whole table
    assert amount["ks_pvalue"].to_list() == [0.5, 0.25, 0.5 / 3]
    assert amount["status"].to_list() == ["ok", "drift", "drift"]
    assert amount["kind"].unique().to_list() == ["numeric"]
    channel = rows.filter(pl.col("column_name") == "channel")
    assert channel["kind"].unique().to_list() == ["categorical"]
    # Databricks gives categorical columns no PSI: judged by JS distance (>= 0.1 drift, >= 0.05 warn)
    assert channel["status"].to_list() == ["ok", "ok", "drift"]
    assert any("judged by js_distance >= 0.1" in n and "channel" in n for n in report.notes)
    assert any("Model_Version = '*'" in n for n in report.notes)
    assert ":table" not in rows["column_name"].to_list()
    assert report.bins.height == 0 and report.granularity is not None and str(report.granularity) == "1d"


def test_slices_models_and_thresholds_are_chosen(tmp_path):
    path = write(table(DRIFT_METRICS, _drift_rows(), extra=[("Model_Version", pa.string())]), tmp_path / "d", "parquet")
    sliced = read_drift_metrics(path, slice="country=FR")
    assert sliced.table["population_stability_index"].to_list() == [0.9, 0.9, 0.9]
    model = read_drift_metrics(path, model_id="7")
    assert model.table["population_stability_index"].to_list() == [0.0, 0.0, 0.0]
    strict = read_drift_metrics(path, thresholds={"population_stability_index": 0.4})
    assert strict.table.filter(pl.col("column_name") == "amount").sort("window_start")["status"].to_list() == ["ok", "ok", "drift"]
    with pytest.raises(InputError, match="no slice country = DE; its slices: country = FR"):
        read_drift_metrics(path, slice="country=DE")
    with pytest.raises(InputError, match="no rows of model '8' in Model_Version; its values: \\*, 7"):
        read_drift_metrics(path, model_id="8")


def test_naive_int96_style_windows_and_an_hourly_granularity(tmp_path):
    naive = pa.struct([("start", pa.timestamp("ns")), ("end", pa.timestamp("ns"))])
    columns = [(n, naive if n in ("window", "window_cmp") else t) for n, t in DRIFT_METRICS]
    rows = [{"window": {"start": dt.datetime(2025, 6, 1, h), "end": dt.datetime(2025, 6, 1, h + 1)}, "granularity": "1 hour",
             "column_name": "amount", "drift_type": "BASELINE", "population_stability_index": 0.05 * h} for h in range(6)]  # fmt: skip
    report = read_drift_metrics(write(table(columns, rows), tmp_path / "h", "spark"), granularity="1d")
    assert str(report.granularity) == "1h"
    assert report.table["window_start"].dtype == pl.Datetime("us", "UTC")
    assert report.table.sort("window_start")["window_start"][0] == dt.datetime(2025, 6, 1, 0, tzinfo=UTC)
    assert any("granularity 1h taken from the drift metrics table" in n for n in report.notes)


def test_bad_tables_are_clear_errors(tmp_path):
    rows = _drift_rows()
    missing = write(table(DRIFT_METRICS, rows, drop=("drift_type",)), tmp_path / "nodrift", "parquet")
    with pytest.raises(UnknownColumn, match=r"nodrift.parquet: the drift metrics table has no column 'drift_type'"):
        read_drift_metrics(missing)
    stats = [c for c, _ in DRIFT_METRICS if c in ("js_distance", "ks_test", "wasserstein_distance", "population_stability_index",
                                                   "chi_squared_test", "tv_distance", "l_infinity_distance")]  # fmt: skip
    bare = write(table(DRIFT_METRICS, rows, drop=tuple(stats)), tmp_path / "nostats", "parquet")
    with pytest.raises(UnknownColumn, match="none of Databricks' drift statistics"):
        read_drift_metrics(bare)
    model = [("Model_Version", pa.string())]
    two = write(table(DRIFT_METRICS, [{**r, "granularity": "1 week"} for r in rows] + rows, extra=model), tmp_path / "two", "parquet")
    with pytest.raises(InputError, match="several granularities"):
        read_drift_metrics(two)
    assert str(read_drift_metrics(two, granularity="1w").granularity) == "1w"
    # without the model id column the per-model rows repeat: a grouping column is missing
    with pytest.raises(InputError, match="keys of the drift metrics table repeat"):
        read_drift_metrics(write(table(DRIFT_METRICS, rows), tmp_path / "nomodel", "parquet"))
    minutes = [{**r, "granularity": "5 minutes"} for r in rows]
    with pytest.raises(InputError, match="finer than an hour"):
        read_drift_metrics(write(table(DRIFT_METRICS, minutes), tmp_path / "m", "parquet"))
    with pytest.raises(SourceUnreadable, match="does not exist"):
        read_drift_metrics(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceUnreadable, match="neither a Delta table folder nor parquet"):
        read_drift_metrics(tmp_path / "empty")


def _quality_rows(problem: str) -> list[dict]:
    rows = []
    for i, (auc, r2) in enumerate([(0.81, 0.7), (0.80, 0.69), (0.71, 0.5)]):
        start = dt.datetime(2025, 6, 1 + i, tzinfo=UTC)
        common = {"window": {"start": start, "end": start + dt.timedelta(days=1)}, "granularity": "1 day", "model_id": "*",
                  "column_name": ":table", "log_type": "INPUT", "count": 1000}  # fmt: skip
        if problem == "classification":
            quality = {"accuracy_score": auc - 0.1, "roc_auc_score": auc,
                       "f1_score": {"one_vs_all": [("0", 0.5), ("1", 0.6)], "macro": auc - 0.2, "weighted": auc - 0.15}}  # fmt: skip
        else:
            quality = {"r2_score": r2, "root_mean_squared_error": 1 - r2, "mean_average_error": 0.5 - r2 / 2}
        rows += [{**common, **quality}, {**common, "model_id": "3", **quality},
                 {**common, "column_name": "amount", "avg": 3.0}]  # fmt: skip
    rows.append({"log_type": "BASELINE", "column_name": ":table", "count": 5000, "model_id": "*", "roc_auc_score": 0.99, "r2_score": 0.99})
    return rows


def test_model_quality_columns_are_the_metric_series(tmp_path):
    extra = [("model_id", pa.string())]
    clf = write(table(PROFILE_METRICS + CLASSIFICATION, _quality_rows("classification"), extra=extra), tmp_path / "clf", "delta")
    auc = read_quality_series(clf, "auc")
    assert auc.column == "roc_auc_score"
    assert auc.points["value"].to_list() == [0.81, 0.80, 0.71]  # INPUT windows only: the BASELINE 0.99 is not a window
    assert auc.points["time"].to_list() == [dt.datetime(2025, 6, d, tzinfo=UTC) for d in (1, 2, 3)]
    assert read_quality_series(clf, "f1_score.macro").points["value"].to_list() == pytest.approx([0.61, 0.60, 0.51])
    assert read_quality_series(clf, "accuracy").column == "accuracy_score"
    with pytest.raises(InputError, match="f1_score is a struct; name one of its fields: f1_score.macro, f1_score.weighted"):
        read_quality_series(clf, "f1_score")
    with pytest.raises(UnknownMetric, match="no model-quality column for 'rmse'.*accuracy_score"):
        read_quality_series(clf, "rmse")
    reg = write(table(PROFILE_METRICS + REGRESSION, _quality_rows("regression"), extra=extra), tmp_path / "reg", "parquet")
    assert read_quality_series(reg, "r2").points["value"].to_list() == [0.7, 0.69, 0.5]
    assert read_quality_series(reg, "mae").column == "mean_average_error"


def test_a_profile_table_with_only_the_old_auc_name(tmp_path):
    columns = [(n if n != "roc_auc_score" else "roc_auc", t) for n, t in PROFILE_METRICS + CLASSIFICATION]
    rows = [{("roc_auc" if k == "roc_auc_score" else k): v for k, v in r.items()} for r in _quality_rows("classification")]
    path = write(table(columns, rows, extra=[("model_id", pa.string())]), tmp_path / "old", "parquet")
    series = read_quality_series(path, "auc", model_id="3")
    assert series.column == "roc_auc" and series.points.height == 3


def test_window_struct_must_have_start_and_end(tmp_path):
    odd = [(n, pa.struct([("begin", WINDOW.field("start").type)]) if n == "window" else t) for n, t in DRIFT_METRICS]
    rows = [{"window": {"begin": dt.datetime(2025, 1, 1, tzinfo=UTC)}, "granularity": "1 day", "column_name": "a",
             "drift_type": "BASELINE", "population_stability_index": 0.1}]  # fmt: skip
    with pytest.raises(InputError, match="'window' column must be a struct of 'start' and 'end'"):
        read_drift_metrics(write(table(odd, rows), Path(tmp_path) / "odd", "parquet"))


@pytest.mark.parametrize(("text", "expected"), [
    ("1 hour", "1h"), ("1 day", "1d"), ("2 weeks", "2w"), ("1 month", "1mo"), ("1 year", "12mo"),
    ("AGGREGATION_GRANULARITY_1_DAY", "1d"), ("AGGREGATION_GRANULARITY_3_WEEKS", "3w"), ("5 minutes", None),
])  # fmt: skip
def test_granularity_spellings(text, expected):
    from mlobs_notebook.sources.monitor_tables import databricks_granularity

    found = databricks_granularity(text)
    assert (str(found) if found is not None else None) == expected
