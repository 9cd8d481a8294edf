"""``mlobs drift`` on parquet files: JSON rows, a table, and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.cli import main


def _frame(seed: int, shift: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = 1500
    return pl.DataFrame(
        {
            "amount": rng.normal(shift, 1, rows),
            "channel": rng.choice(["web", "app", "store"], rows),
            "ts": pl.datetime_range(dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 1) + dt.timedelta(minutes=5 * (rows - 1)), "5m", eager=True),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    baseline, current = tmp_path / "baseline.parquet", tmp_path / "current.parquet"
    _frame(1, 0.0).write_parquet(baseline)
    _frame(2, 1.0).write_parquet(current)
    return baseline, current


def test_json_rows_with_bins(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    baseline, current = files
    code = main(["drift", "--baseline", str(baseline), "--current", str(current),
                 "--time-column", "ts", "--granularity", "1d", "--format", "json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["rows", "thresholds"]
    assert {(t["statistic"], t["source"]) for t in out["thresholds"]} >= {("population_stability_index", "default")}
    rows = out["rows"]
    amount = [r for r in rows if r["column_name"] == "amount" and r["drift_type"] == "BASELINE"]
    assert len(amount) == 6  # 1,500 rows every 5 minutes: 5.2 days
    assert all(r["status"] == "drift" for r in amount)
    assert all(sum(r["current_counts"]) == r["count"] for r in amount)
    assert amount[0]["window_start"] == "2024-05-01T00:00:00+00:00"  # naive times are UTC, windows aware
    assert {r["drift_type"] for r in rows} == {"BASELINE", "CONSECUTIVE"}
    channel = next(r for r in rows if r["column_name"] == "channel")
    assert channel["chi_squared_pvalue"] is not None and "categories" in channel


def test_columns_and_table_format(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    baseline, current = files
    assert main(["drift", "--baseline", str(baseline), "--current", str(current),
                 "--columns", "channel", "--format", "table"]) == 0
    captured = capsys.readouterr()
    assert "channel" in captured.out and "amount" not in captured.out
    assert "population_stability_index" in captured.out


def test_bad_input_is_one_line_and_exit_2(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline, current = files
    assert main(["drift", "--baseline", str(baseline), "--current", str(current), "--columns", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
    assert main(["drift", "--baseline", str(baseline), "--current", str(tmp_path / "missing.parquet")]) == 2
    assert "missing.parquet" in capsys.readouterr().err
    assert main(["drift", "--baseline", str(baseline), "--current", str(current),
                 "--time-column", "ts", "--granularity", "daily"]) == 2
    assert "granularity 'daily'" in capsys.readouterr().err


def test_schema_findings_go_to_stderr(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline, _ = files
    narrower = tmp_path / "narrow.parquet"
    _frame(3, 0.0).drop("channel").write_parquet(narrower)
    assert main(["drift", "--baseline", str(baseline), "--current", str(narrower), "--time-column", "ts", "--granularity", "1d"]) == 0
    captured = capsys.readouterr()
    assert "channel" in captured.err and "missing" in captured.err
    assert json.loads(captured.out)["rows"]


def test_the_cli_reads_parquet_and_csv_and_names_a_missing_file(files: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    baseline, _ = files
    csv = tmp_path / "b.csv"
    _frame(1, 0.0).write_csv(csv)
    assert main(["drift", "--baseline", str(baseline), "--current", str(csv), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {r["column_name"] for r in rows} == {"amount", "channel"}  # ts is a time, not a feature
    missing = tmp_path / "none.parquet"
    assert main(["drift", "--baseline", str(missing), "--current", str(csv)]) == 2
    assert str(missing) in capsys.readouterr().err


@pytest.mark.parametrize("name", ["drift_metrics.parquet", "sales_drift_metrics"])
def test_databricks_format_writes_their_table(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    import pyarrow as pa
    from databricks_tables import DRIFT_METRICS

    from mlobs_notebook.sources.monitor_drift import read_drift_metrics

    baseline, current = files
    common = ["drift", "--baseline", str(baseline), "--current", str(current), "--time-column", "ts", "--granularity", "1d"]
    assert main([*common, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    out = tmp_path / name
    assert main([*common, "--format", "databricks", "--out", str(out)]) == 0
    assert "rows of Databricks drift metrics" in capsys.readouterr().err
    written = pl.read_parquet(out) if out.suffix == ".parquet" else pl.read_delta(str(out))
    assert written.schema == pl.DataFrame(pa.schema(DRIFT_METRICS).empty_table()).schema
    back = read_drift_metrics(out)
    psi = {(r["column_name"], r["drift_type"], r["window_start"]): r["population_stability_index"] for r in rows}
    again = {(r["column_name"], r["drift_type"], r["window_start"].isoformat()): r["population_stability_index"]
             for r in back.table.iter_rows(named=True)}
    assert again == psi
    assert main([*common, "--format", "databricks", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*common, "--format", "databricks"]) == 2
    assert "--out" in capsys.readouterr().err
    assert not list(tmp_path.glob(".*writing*"))


def test_learned_thresholds_statistics_and_a_time_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(6)
    start = dt.datetime(2024, 1, 1)

    def frame(days: int, shift: float, first: dt.datetime) -> pl.DataFrame:
        times = [first + dt.timedelta(hours=h) for h in range(24 * days)]
        return pl.DataFrame({"amount": rng.normal(shift, 1, len(times)), "ts": [t.strftime("%m/%d/%Y %H:%M") for t in times]})

    baseline, current = tmp_path / "baseline.parquet", tmp_path / "current.parquet"
    frame(14, 0.0, start).write_parquet(baseline)
    frame(4, 2.0, start + dt.timedelta(days=30)).write_parquet(current)
    args = ["drift", "--baseline", str(baseline), "--current", str(current), "--time-column", "ts", "--granularity", "1d"]
    assert main(args) == 2
    assert "time_format" in capsys.readouterr().err  # US text is never guessed
    assert main([*args, "--time-format", "%m/%d/%Y %H:%M", "--thresholds", "learned", "--statistics", "ks_statistic,js_distance"]) == 0
    out = json.loads(capsys.readouterr().out)
    learned = [t for t in out["thresholds"] if t["drift_type"] == "BASELINE"]
    assert {(t["statistic"], t["source"], t["baseline_windows"]) for t in learned} == {
        ("ks_statistic", "learned", 14), ("js_distance", "learned", 14)}  # fmt: skip
    rows = [r for r in out["rows"] if r["drift_type"] == "BASELINE"]
    assert [r["window_start"][:10] for r in rows] == ["2024-01-31", "2024-02-01", "2024-02-02", "2024-02-03"]
    assert all(r["ks_statistic_drifted"] and r["status"] == "drift" for r in rows)
    assert rows[0]["population_stability_index"] is None  # not asked for


def test_an_all_null_parquet_column_is_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    baseline, current = tmp_path / "baseline.parquet", tmp_path / "current.parquet"
    pd.DataFrame({"x": np.arange(400.0), "empty": [None] * 400}).to_parquet(baseline)
    pd.DataFrame({"x": np.arange(400.0), "empty": ["a"] * 400}).to_parquet(current)
    assert main(["drift", "--baseline", str(baseline), "--current", str(current), "--format", "json"]) == 0
    captured = capsys.readouterr()
    row = next(r for r in json.loads(captured.out)["rows"] if r["column_name"] == "empty")
    assert row["reference_null_rate"] == 1.0 and row["current_null_rate"] == 0.0 and row["status"] == "drift"
    assert "type Null" in captured.err


def test_text_with_two_offsets_windowed_in_the_zone_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local = pl.datetime_range(dt.datetime(2024, 3, 30), dt.datetime(2024, 4, 1, 23), "1h", eager=True, time_zone="Europe/Berlin")
    current = tmp_path / "current.parquet"
    pl.DataFrame({"ts": local.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"), "x": np.arange(len(local), dtype=float)}).write_parquet(current)
    baseline = tmp_path / "baseline.parquet"
    pl.DataFrame({"x": np.arange(100, dtype=float)}).write_parquet(baseline)
    args = ["drift", "--baseline", str(baseline), "--current", str(current), "--time-column", "ts", "--granularity", "1d"]
    assert main([*args, "--time-zone", "Europe/Berlin"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out)["rows"] if r["drift_type"] == "BASELINE"]
    assert [(r["window_start"], r["count"]) for r in rows] == [
        ("2024-03-30T00:00:00+01:00", 24), ("2024-03-31T00:00:00+01:00", 23), ("2024-04-01T00:00:00+02:00", 24)]  # fmt: skip
    assert main(args) == 0
    assert "--time-zone" in capsys.readouterr().err  # the note says how to get local days


def test_id_columns_are_left_out_by_the_rule_investigate_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlobs_notebook.investigation.features import is_id_column

    baseline, current = tmp_path / "b.parquet", tmp_path / "c.parquet"
    for path, seed, offset in ((baseline, 1, 0), (current, 2, 10_000)):
        frame = _frame(seed, 0.0)
        # new rows always bring new ids: compared as features they would always "drift"
        frame.with_columns(
            pl.int_range(offset, offset + frame.height).alias("user_id"),
            pl.int_range(offset, offset + frame.height).alias("ID"),
            pl.lit(1).alias("paid"),  # ends in "id" but is no id column
        ).write_parquet(path)
    assert main(["drift", "--baseline", str(baseline), "--current", str(current), "--time-column", "ts",
                 "--granularity", "1d"]) == 0
    captured = capsys.readouterr()
    names = {r["column_name"] for r in json.loads(captured.out)["rows"]}
    assert names == {"amount", "channel", "paid"}
    assert names == {c for c in ("amount", "channel", "paid", "user_id", "ID") if not is_id_column(c)}
    assert "id column(s) left out: user_id, ID" in captured.err
    assert main(["drift", "--baseline", str(baseline), "--current", str(current), "--columns", "user_id,amount"]) == 0
    named = {r["column_name"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert named == {"user_id", "amount"}


def test_a_csv_with_day_first_times_is_never_guessed_and_honours_the_time_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    # every day is <= 12, so "05/01/2024" reads both ways: only the format can say which
    times = [dt.datetime(2024, 1, 3) + dt.timedelta(hours=7 * i) for i in range(30)]
    text = [t.strftime("%d/%m/%Y %H:%M") for t in times]
    current, baseline = tmp_path / "current.csv", tmp_path / "baseline.csv"
    pl.DataFrame({"ts": text, "x": np.arange(30, dtype=float)}).write_csv(current)
    pl.DataFrame({"x": np.arange(50, dtype=float)}).write_csv(baseline)
    args = ["drift", "--baseline", str(baseline), "--current", str(current), "--time-column", "ts", "--granularity", "1d"]
    assert main(args) == 2
    assert "time_format" in capsys.readouterr().err
    assert main([*args, "--time-format", "%d/%m/%Y %H:%M"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out)["rows"] if r["drift_type"] == "BASELINE"]
    days = pd.to_datetime(pd.Series(text), format="%d/%m/%Y %H:%M").dt.floor("D").value_counts().sort_index()
    assert [(r["window_start"][:10], r["count"]) for r in rows] == [
        (d.strftime("%Y-%m-%d"), int(n)) for d, n in days.items()]


def test_investigate_checks_the_out_folder_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-folder" / "postmortem.html"
    assert main(["investigate", "--model", "m", "--time-column", "ts", "--tracking-uri",
                 f"sqlite:///{tmp_path}/absent.db", "--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "no-such-folder" in err and "Traceback" not in err
