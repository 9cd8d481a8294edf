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
    assert list(out) == ["rows"]
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
