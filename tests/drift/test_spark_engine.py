"""The Spark engine against the polars engine on the same data, in a real local[2] session.

Binned statistics come from counts, and equal counts give equal statistics: they must match to
the bit; means are sums in another order (1e-12); the exact KS and Wasserstein come from a
distributed sort and are held to scipy; the sketched ones to their stated bounds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from scipy import stats

from mlobs_notebook.drift import compute_drift, fit_baseline
from mlobs_notebook.drift.engines import spark as spark_engine
from mlobs_notebook.errors import InputError, UnknownColumn

BINNED = ["population_stability_index", "js_distance", "chi_squared_statistic", "chi_squared_pvalue",
          "tv_distance", "l_infinity_distance"]
SORTED = ["ks_statistic", "ks_pvalue", "wasserstein_distance", "wasserstein_normalized"]
EXACT = ["count", "reference_count", "count_delta", "non_finite_count", "reference_null_rate",
         "current_null_rate", "percent_null_delta", *BINNED]


def _frame(rows: int, seed: int, shift: float, days: int, start: dt.datetime) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.exponential(1.0 + shift, rows)
    for value in (np.inf, -np.inf, np.nan):
        y[rng.random(rows) < 0.02] = value
    return pl.DataFrame({
        "x": rng.normal(shift, 1.0, rows),
        "y": pl.Series(y).scatter(np.flatnonzero(rng.random(rows) < 0.05), None),
        "z": np.round(rng.normal(shift, 1.0, rows), 1),  # ties on the bin edges
        "color": rng.choice(["red", "green", "blue", *(["violet"] if shift else [])], rows),
        "flag": rng.random(rows) < 0.3 + shift / 2,
        "code": rng.integers(0, 4, rows),
        # eleven values and null: more distinct non-null values than a code has, so a quantity
        "level": pl.Series(rng.integers(0, 11, rows)).scatter(np.flatnonzero(rng.random(rows) < 0.01), None),
        "ts": [start + dt.timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, days * 86_400, rows))],
    }).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))


@pytest.fixture(scope="module")
def frames():
    start = dt.datetime(2024, 3, 1)
    return _frame(4000, 1, 0.0, 10, start - dt.timedelta(days=10)), _frame(3000, 2, 0.3, 3, start)


@pytest.fixture(scope="module")
def reports(spark, frames):
    """(polars, Spark): the Spark baseline profiled in Spark, as a large one would be."""
    baseline, current = frames
    kwargs = {"time_column": "ts", "granularity": "1d"}
    polars_report = compute_drift(baseline.drop("ts"), current, **kwargs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spark_engine, "SMALL_BASELINE_VALUES", 0)
        spark_report = compute_drift(spark.createDataFrame(baseline.drop("ts").to_arrow()),
                                     spark.createDataFrame(current.to_arrow()), engine="spark", **kwargs)
    assert not spark_report.baseline.references_  # profiled in Spark, not read into polars
    return polars_report, spark_report


def _assert_tables_match(ours: pl.DataFrame, theirs: pl.DataFrame, exact: list[str], close: list[str]) -> None:
    assert ours.schema == theirs.schema
    keys = ["window_start", "column_name", "drift_type"]
    assert ours.select(keys).equals(theirs.select(keys))
    for name in exact:
        assert ours[name].equals(theirs[name]), name
    for name in close:
        a, b = ours[name].to_numpy().astype(float), theirs[name].to_numpy().astype(float)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


def test_spark_equals_polars_on_the_same_data(reports):
    polars_report, spark_report = reports
    table = polars_report.table
    assert table.height == 7 * (3 + 2)  # 7 columns x (3 days against the baseline + 2 consecutive)
    assert table.filter(pl.col("column_name") == "level")["kind"][0] == "numeric"
    assert table.filter(pl.col("column_name") == "x")["population_stability_index"].max() > 0.05
    _assert_tables_match(table, spark_report.table, [*EXACT, "drifted", "status", "data_type", "kind"],
                         ["avg_delta", *SORTED])
    # every bin count and edge, numeric and categorical (the new category "violet" included)
    assert polars_report.bins.equals(spark_report.bins)
    assert "violet" in spark_report.bins.filter(pl.col("column_name") == "color")["categories"][0].to_list()
    assert spark_report.notes == polars_report.notes == ()


def test_a_spark_baseline_is_profiled_as_polars_profiles_it(reports):
    """Exact quantile edges from sketch brackets: the same edges, counts and quantiles."""
    ours, theirs = (r.profile.filter(pl.col("source") == "baseline") for r in reports)
    for name in ("column_name", "kind", "data_type", "count", "null_count", "non_finite_count",
                 "min", "max", "p05", "p25", "p50", "p75", "p95"):
        assert ours[name].equals(theirs[name]), name
    for name in ("mean", "std"):
        np.testing.assert_allclose(ours[name].to_numpy(), theirs[name].to_numpy(), rtol=1e-12)


def test_exact_ks_and_wasserstein_equal_scipy(reports, frames):
    _, spark_report = reports
    _, current = frames
    baseline = frames[0]
    day = current.filter(pl.col("ts").dt.day() == 2)
    row = spark_report.table.filter(
        (pl.col("column_name") == "y") & (pl.col("drift_type") == "BASELINE") & (pl.col("window_start").dt.day() == 2)
    ).row(0, named=True)
    finite = lambda f: f["y"].drop_nulls().filter(f["y"].drop_nulls().is_finite()).to_numpy()  # noqa: E731
    assert row["ks_statistic"] == pytest.approx(stats.ks_2samp(finite(baseline), finite(day)).statistic, abs=1e-12)
    assert row["wasserstein_distance"] == pytest.approx(stats.wasserstein_distance(finite(baseline), finite(day)), rel=1e-9)


def test_sketches_stay_within_the_bounds_the_note_states(spark, frames, reports):
    baseline, current = frames
    polars_report, _ = reports
    sketched = compute_drift(spark.createDataFrame(baseline.drop("ts").to_arrow()), spark.createDataFrame(current.to_arrow()),
                             time_column="ts", granularity="1d", max_exact_rows=0, engine="spark",
                             statistics=["ks_statistic", "wasserstein_distance", "population_stability_index"])
    (note,) = sketched.notes
    assert "quantile sketches" in note and "x, y, z, level" in note and "max_exact_rows=0" in note
    ks_bound = float(re.search(r"ks_statistic within ([0-9.]+)", note).group(1))
    assert 0 < ks_bound < 0.01
    for name in ("x", "y", "z"):
        distance_bound = float(re.search(rf"\b{name} within ([0-9][0-9.e+-]*[0-9])", note).group(1))
        exact = polars_report.table.filter(pl.col("column_name") == name)
        approximate = sketched.table.filter(pl.col("column_name") == name)
        for statistic, bound in (("ks_statistic", ks_bound), ("wasserstein_distance", distance_bound)):
            error = np.abs(exact[statistic].to_numpy() - approximate[statistic].to_numpy())
            assert np.all(error <= bound), (name, statistic, error.max(), bound)
            assert error.max() > 0  # sketched, not exact
    # the binned statistics do not depend on the sketches
    assert sketched.table["population_stability_index"].equals(polars_report.table["population_stability_index"])


def test_time_columns_read_by_the_time_model(spark):
    """Text with offsets, a DST zone and calendar months: the polars engine's windows."""
    rng = np.random.default_rng(5)
    instants = [dt.datetime(2024, 3, 20, tzinfo=dt.UTC) + dt.timedelta(hours=int(h)) for h in rng.integers(0, 24 * 70, 600)]
    frame = pl.DataFrame({
        "x": rng.normal(size=600),
        "berlin": instants,
        "text": [t.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat() for t in instants],
        "naive": [t.replace(tzinfo=None) for t in instants],
    }).with_columns(pl.col("berlin").dt.convert_time_zone("Europe/Berlin"))
    baseline = frame.select("x")
    spark_frame = spark.createDataFrame(frame.with_columns(pl.col("berlin").dt.convert_time_zone("UTC")).to_arrow())
    for time_column, granularity, zone in (("text", "1d", None), ("naive", "1mo", None), ("berlin", "1d", "Europe/Berlin")):
        kwargs = {"time_column": time_column, "granularity": granularity, "statistics": ["population_stability_index"],
                  "columns": ["x"], "time_zone": zone}
        ours = compute_drift(baseline, frame, **kwargs)
        theirs = compute_drift(baseline, spark_frame, engine="spark", spark=spark, **kwargs)
        assert ours.zone == theirs.zone
        _assert_tables_match(ours.table, theirs.table, ["count", "population_stability_index", "window_start", "window_end"], [])


def test_bad_input_is_the_polars_engines_error(spark, frames):
    baseline, current = frames
    spark_current = spark.createDataFrame(current.drop("ts").to_arrow())
    with pytest.raises(UnknownColumn) as polars_error:
        compute_drift(baseline, current.drop("ts"), time_column="ts", granularity="1d")
    with pytest.raises(UnknownColumn) as spark_error:
        compute_drift(baseline, spark_current, time_column="ts", granularity="1d", engine="spark")
    assert str(spark_error.value) == str(polars_error.value)
    with pytest.raises(InputError, match="engine='spark'"):
        compute_drift(baseline, spark_current, engine="polars")
    with pytest.raises(InputError, match="engine 'dask' is not known"):
        compute_drift(baseline, current, engine="dask")
    text = pl.DataFrame({"x": [1.0, 2.0], "ts": ["2024-01-01", "01/02/2024"]})
    kwargs = {"time_column": "ts", "granularity": "1d", "time_format": "%Y-%m-%d"}
    with pytest.raises(InputError, match="do not match the format") as polars_error:
        compute_drift(baseline.select("x"), text, **kwargs)
    with pytest.raises(InputError, match="do not match the format") as spark_error:
        compute_drift(baseline.select("x"), spark.createDataFrame(text.to_arrow()), engine="spark", **kwargs)
    assert str(spark_error.value) == str(polars_error.value)


def test_a_fitted_polars_profile_and_polars_frames_run_on_spark(spark, frames, reports):
    baseline, current = frames
    profile = fit_baseline(baseline.drop("ts"))
    report = compute_drift(profile, current, time_column="ts", granularity="1d", engine="spark", spark=spark)
    _assert_tables_match(reports[0].table, report.table, EXACT, ["avg_delta", *SORTED])


def _run(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


def test_without_pyspark_the_error_says_what_to_install():
    out = _run(
        "import sys; sys.modules['pyspark'] = None\n"
        "import polars as pl\nfrom mlobs_notebook.drift import compute_drift\n"
        "frame = pl.DataFrame({'x': [1.0, 2.0]})\n"
        "try:\n    compute_drift(frame, frame, engine='spark')\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n"
    )
    assert out.stdout.startswith("MissingDependency The Spark engine needs the 'pyspark' package"), out.stderr
    assert "pip install 'mlobs_notebook[spark]'" in out.stdout


def test_without_java_the_error_says_what_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {"PATH": str(tmp_path)}
    out = _run(
        "from mlobs_notebook.drift.engines.spark_support import local_session\n"
        "try:\n    local_session()\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)\n", env,
    )
    assert out.stdout.startswith("MissingDependency Starting a Spark session (the JVM) needs the 'java' package"), out.stderr
    assert "apt-get install -y openjdk-17-jre-headless" in out.stdout
    data = tmp_path / "data.parquet"
    pl.DataFrame({"x": [1.0, 2.0]}).write_parquet(data)
    cli = subprocess.run([sys.executable, "-m", "mlobs_notebook.cli", "drift", "--engine", "spark",
                          "--baseline", str(data), "--current", str(data)], capture_output=True, text=True, env=env, timeout=120)
    assert cli.returncode == 2 and "openjdk-17-jre-headless" in cli.stderr and "Traceback" not in cli.stderr


def test_mlobs_drift_on_spark_prints_the_polars_rows(spark, frames, tmp_path, capsys):
    from mlobs_notebook.cli import main

    baseline, current = frames
    paths = []
    for name, frame in (("baseline", baseline.drop("ts")), ("current", current)):
        paths.append(tmp_path / f"{name}.parquet")
        frame.write_parquet(paths[-1])
    common = ["drift", "--baseline", str(paths[0]), "--current", str(paths[1]), "--time-column", "ts",
              "--granularity", "1d", "--columns", "x,color", "--progress"]
    rows = {}
    for engine in ("polars", "spark"):
        assert main([*common, "--engine", engine]) == 0
        out = capsys.readouterr()
        rows[engine] = json.loads(out.out)["rows"]
        # stderr is not a terminal here: one line per update, counts of columns and windows done
        progress = [line for line in out.err.splitlines() if line.startswith("Drift [")]
        assert "drift: 0/2 columns, 3 windows" in progress[0] and "0%" in progress[0], out.err
        assert "drift: 1/2 columns, 3 windows" in progress[1] and "50%" in progress[1], out.err
        assert len(progress) == 3 and "100% done" in progress[-1], out.err
    assert len(rows["spark"]) == len(rows["polars"]) == 10
    for ours, theirs in zip(rows["polars"], rows["spark"], strict=True):
        assert ours["population_stability_index"] == theirs["population_stability_index"]
        assert ours["current_counts"] == theirs["current_counts"] and ours["window_start"] == theirs["window_start"]
    assert spark.range(1).count() == 1  # the test session was used, not stopped
