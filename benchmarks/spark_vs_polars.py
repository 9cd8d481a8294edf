"""The Spark engine (local[2]) against the polars engine on the same 20M-row parquet file:
binned statistics equal to 1e-12, and the timing ratio.

    .venv/bin/python benchmarks/spark_vs_polars.py [--rows 20000000] [--baseline-rows 2000000]
        [--root /tmp/mlobs-spark-bench] [--repeat 2] [--keep]

Data (written once into ROOT, removed at the end unless ``--keep``): a current table of ROWS rows
x 10 float64 features plus a UTC timestamp over 30 days (files of 1M rows, in time order), with
1% nulls in f0, 0.1% NaN in f9, f1 rounded to 0.5 (values on the bin edges), a mean shift in f2
from day 15; two string columns, ``plan`` (5 levels whose mix changes from day 15, 1% nulls) and
``region`` (40 even levels); and a baseline of BASELINE_ROWS rows of the same features.

Runs, each timed from the parquet files to the finished report (reading included), best of
``--repeat`` in one process (a fresh DataFrame each time, so Spark cannot reuse shuffle files):

- polars, the current table scanned lazily (streaming engine), the baseline profiled from its
  file;
- polars, the same with the current table read into memory first (not timed);
- Spark local[2], ``spark.read.parquet`` of both files: the baseline profiled in Spark (exact
  quantile edges), per-window group-by counts.

Only the binned statistics are computed (PSI and JS for every column; chi-squared, TV and L-inf
for the categorical ones); their values and bin counts are compared cell by cell. Wall and CPU seconds (this process and, for Spark, the
JVM's) and the load average are recorded in ``benchmarks/data/spark_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BINNED = ["population_stability_index", "js_distance", "chi_squared_statistic", "chi_squared_pvalue",
          "tv_distance", "l_infinity_distance"]
EXACT = ["count", "reference_count", "non_finite_count", "current_null_rate", *BINNED]
START = datetime(2026, 1, 1, tzinfo=UTC)


def generate(root: Path, rows: int, baseline_rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(11)
    for name, total, days, drift in (("baseline", baseline_rows, 30, False), ("current", rows, 30, True)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for k, offset in enumerate(range(0, total, 1_000_000)):
            size = min(1_000_000, total - offset)
            seconds = (offset + np.arange(size)) * (days * 86_400 / total)
            columns = {"ts": pa.array((int(START.timestamp()) + seconds) * 1_000_000, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))}
            for i in range(10):
                values = rng.standard_normal(size) * (1 + i / 3)
                if i == 1:
                    values = np.round(values * 2) / 2
                if i == 2 and drift:
                    values = values + np.where(seconds >= 15 * 86_400, 0.3, 0.0)
                if i == 9:
                    values[rng.random(size) < 0.001] = np.nan
                columns[f"f{i}"] = pa.array(values, mask=(rng.random(size) < 0.01) if i == 0 else None)
            # two categorical columns: 5 levels whose mix changes from day 15 (1% nulls), 40 even levels
            late = drift & (seconds >= 15 * 86_400)
            mix = np.where(late[:, None], [0.3, 0.3, 0.2, 0.1, 0.1], [0.4, 0.3, 0.15, 0.1, 0.05]).cumsum(axis=1)
            level = (rng.random(size)[:, None] > mix).sum(axis=1).clip(0, 4)
            columns["plan"] = pa.array(np.array(["basic", "plus", "pro", "team", "enterprise"])[level],
                                       mask=rng.random(size) < 0.01)
            columns["region"] = pa.array(np.array([f"r{k:02d}" for k in range(40)])[rng.integers(0, 40, size)])
            pq.write_table(pa.table(columns), folder / f"part-{k:04d}.parquet", row_group_size=1_000_000)
        print(f"{name}: {total:,} rows in {folder}", flush=True)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _jvm_cpu() -> float:
    """CPU seconds (user + system) the JVMs this process started have used so far (/proc)."""
    total = 0.0
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent = fields[1]
            grandparent = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[1] if parent != "1" else ""
            if me in (parent, grandparent) and b"java" in (stat.parent / "cmdline").read_bytes():
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            continue
    return total


def main() -> None:
    import polars as pl

    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.drift.engines.spark_support import local_session

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="/tmp/mlobs-spark-bench")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    if not (root / "current").exists():
        generate(root, args.rows, args.baseline_rows)
    kwargs = {"time_column": "ts", "granularity": "1d", "statistics": BINNED}
    load = [round(v, 2) for v in os.getloadavg()]
    started = datetime.now(UTC)
    runs: dict[str, list[dict]] = {"polars_streaming": [], "polars_in_memory": [], "spark_local2": []}
    reports = {}
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), _cpu()
        reports["polars"] = compute_drift(pl.scan_parquet(root / "baseline"), pl.scan_parquet(root / "current"), **kwargs)
        runs["polars_streaming"].append({"wall": time.perf_counter() - t0, "cpu": _cpu() - c0})
    current = pl.read_parquet(root / "current")
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), _cpu()
        compute_drift(pl.scan_parquet(root / "baseline"), current, **kwargs)
        runs["polars_in_memory"].append({"wall": time.perf_counter() - t0, "cpu": _cpu() - c0})
    del current
    t0 = time.perf_counter()
    spark = local_session("local[2]", app="mlobs-bench", config={"spark.driver.memory": "4g"})
    session_seconds = time.perf_counter() - t0
    for _ in range(args.repeat):
        t0, c0, j0 = time.perf_counter(), _cpu(), _jvm_cpu()
        reports["spark"] = compute_drift(spark.read.parquet(str(root / "baseline")), spark.read.parquet(str(root / "current")),
                                         engine="spark", **kwargs)
        runs["spark_local2"].append({"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "jvm_cpu": _jvm_cpu() - j0})
    spark.stop()
    ours, theirs = reports["polars"].table, reports["spark"].table
    differences = {}
    for name in [*EXACT, "avg_delta"]:
        a, b = ours[name].to_numpy().astype(float), theirs[name].to_numpy().astype(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        differences[name] = float(np.nanmax(np.abs(a - b))) if np.isfinite(a).any() else None  # None: undefined (all NaN) on both sides
    same_bins = reports["polars"].bins.equals(reports["spark"].bins)
    best = {name: min(r, key=lambda x: x["wall"]) for name, r in runs.items()}
    result = {
        "command": "benchmarks/spark_vs_polars.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "keep"),
        "started_utc": started.isoformat(timespec="seconds"), "load_before": load,
        "load_after": [round(v, 2) for v in os.getloadavg()], "rows": args.rows, "baseline_rows": args.baseline_rows,
        "windows": reports["polars"].windows, "table_rows": ours.height, "spark_session_start_s": round(session_seconds, 1),
        "runs": {k: [{m: round(v, 2) for m, v in r.items()} for r in rs] for k, rs in runs.items()},
        "best_wall_s": {k: round(v["wall"], 2) for k, v in best.items()},
        "spark_over_polars_streaming": round(best["spark_local2"]["wall"] / best["polars_streaming"]["wall"], 2),
        "spark_over_polars_in_memory": round(best["spark_local2"]["wall"] / best["polars_in_memory"]["wall"], 2),
        "max_abs_difference": differences, "bins_identical": same_bins,
        "edges_identical": reports["polars"].bins["bin_edges"].equals(reports["spark"].bins["bin_edges"]),
    }
    print(json.dumps(result, indent=2))
    (HERE / "data").mkdir(exist_ok=True)
    (HERE / "data" / "spark_results.json").write_text(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
