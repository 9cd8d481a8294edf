"""A predictions log to its daily AUC: ours vs NannyML's realized performance vs a pandas loop.

    .venv/bin/python benchmarks/predictions_bench.py                 # everything, one run
    .venv/bin/python benchmarks/predictions_bench.py --skip-peers    # ours and the pandas loop only

The log (generated once into benchmarks/data/, gitignored): 10,000,000 rows over 90 days, a score,
a binary label that is null for the last 3 days (not arrived yet) and a UTC timestamp, as parquet.
Every run is a whole process, timed from outside (python start-up, imports, reading the parquet,
the series): what a user waits for. CPU seconds (all threads) come from the child's rusage.

- ours: ``prediction_series(pl.scan_parquet(log), metric="auc", granularity="1d")``
  (mlobs_notebook.sources.predictions: polars reads, windows and sorts; scikit-learn's
  ``roc_auc_score`` per window);
- pandas loop: ``pd.read_parquet`` then ``groupby(day)`` and ``roc_auc_score`` per group, the
  script people write;
- NannyML 0.13 ``PerformanceCalculator(metrics=["roc_auc"], chunk_period="D")`` fitted on the
  first day and calculated over the log (its realized performance), in the peers' virtual
  environment (benchmarks/.peers-venv, made by drift_vs_peers.py's ``ensure_peers``).

Each result's daily AUC is checked against ours (largest absolute difference), so the runs are
known to compute the same series.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DAYS, LATE_DAYS = 90, 3

OURS = """
import sys, polars as pl
from mlobs_notebook.sources.predictions import prediction_series
series, source = prediction_series(pl.scan_parquet(sys.argv[1]), prediction_column="score", label_column="label",
                                   time_column="ts", metric="auc", granularity="1d")
print("SERIES " + series.select(pl.col("window_start").dt.date().cast(pl.String), "value").write_json())
"""

PANDAS = """
import sys, json, pandas as pd
from sklearn.metrics import roc_auc_score
log = pd.read_parquet(sys.argv[1]).dropna(subset=["label"])
out = [{"window_start": str(day), "value": roc_auc_score(g["label"], g["score"])}
       for day, g in log.groupby(log["ts"].dt.date)]
print("SERIES " + json.dumps(out))
"""

NANNYML = """
import sys, json, pandas as pd, nannyml as nml
log = pd.read_parquet(sys.argv[1])
log["ts"] = log["ts"].dt.tz_localize(None)
log["pred"] = (log["score"] >= 0.5).astype(int)
first = log["ts"].dt.normalize() == log["ts"].min().normalize()
calc = nml.PerformanceCalculator(y_pred_proba="score", y_pred="pred", y_true="label", timestamp_column_name="ts",
                                 problem_type="classification_binary", metrics=["roc_auc"], chunk_period="D")
calc.fit(log[first].copy())
result = calc.calculate(log.copy()).filter(period="analysis").to_df()
starts = result[("chunk", "start_date")].dt.date.astype(str)
values = result[("roc_auc", "value")]
print("SERIES " + json.dumps([{"window_start": s, "value": None if pd.isna(v) else float(v)}
                              for s, v in zip(starts, values)]))
"""


def generate(rows: int) -> Path:
    path = DATA / f"predictions_{rows // 1_000_000}m.parquet"
    if path.exists():
        return path
    import numpy as np
    import polars as pl

    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(14)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    offsets = np.sort(rng.integers(0, DAYS * 86_400_000_000, rows))
    label = rng.random(rows) < 0.2
    day = offsets // 86_400_000_000
    # the model degrades from day 60: its score carries less of the label
    signal = np.where(day < 60, 1.2, 0.5)
    score = 1 / (1 + np.exp(-(signal * (label * 2 - 1) + rng.normal(0, 1, rows))))
    frame = pl.DataFrame({
        "ts": pl.Series(start + offsets.astype("timedelta64[us]")).dt.replace_time_zone("UTC"),
        "score": score,
        "label": pl.Series(label.astype(np.int8)),
    }).with_columns(pl.when(pl.Series(day < DAYS - LATE_DAYS)).then(pl.col("label")).alias("label"))
    partial = path.with_suffix(".partial")
    frame.write_parquet(partial)
    os.replace(partial, path)
    return path


def measure(python: str, code: str, log: Path, env: dict[str, str], timeout: float) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done = subprocess.run([python, "-c", code, str(log)], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    series = next((json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("SERIES ")), None)
    if series is None:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 2),
        "series": series,
    }


def _largest_difference(ours: list[dict], other: list[dict]) -> float | None:
    theirs = {row["window_start"]: row["value"] for row in other if row["value"] is not None}
    pairs = [(row["value"], theirs[row["window_start"]]) for row in ours if row["window_start"] in theirs]
    return max((abs(a - b) for a, b in pairs), default=None) if len(pairs) == len(ours) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--out", type=Path, default=DATA / "predictions_results.json")
    args = parser.parse_args()
    log = generate(args.rows)
    ours_env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    runs = {"ours": (sys.executable, OURS, ours_env), "pandas_loop": (sys.executable, PANDAS, ours_env)}
    problem = None
    if not args.skip_peers:
        sys.path.insert(0, str(HERE))
        from drift_vs_peers import PEERS_PY, ensure_peers

        problem = ensure_peers()
        if problem is None:
            runs["nannyml"] = (str(PEERS_PY), NANNYML, {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1",
                                                          "DO_NOT_TRACK": "1"})
    results: dict = {"rows": args.rows, "days": DAYS, "peers_problem": problem,
                     "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    for name, (python, code, env) in runs.items():
        results[name] = measure(python, code, log, env, timeout=3600)
        shown = {k: v for k, v in results[name].items() if k != "series"}
        print(f"{name:12s} {json.dumps(shown)}", flush=True)
    ours = results["ours"].get("series")
    for name in runs:
        if ours and results[name].get("series"):
            results[name]["windows"] = len(results[name]["series"])
            results[name]["max_abs_difference_from_ours"] = _largest_difference(ours, results[name]["series"])
    args.out.write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(r: dict) -> None:
    ours = r["ours"]
    print(f"\n{r['rows']:,} rows over {r['days']} days, daily AUC, whole process ({r['started_utc']} UTC)\n")
    print("| run | wall | CPU (all threads) | ours faster by (wall / CPU) | peak RSS | windows | max abs diff from ours | load avg |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label in (("ours", "ours: prediction_series"), ("pandas_loop", "pandas groupby + roc_auc_score"),
                        ("nannyml", "NannyML PerformanceCalculator, chunk_period=D")):
        row = r.get(name)
        if row is None:
            print(f"| {label} | {r.get('peers_problem') or 'not run'} | | | | | | |")
            continue
        if "error" in row:
            print(f"| {label} | {row['error']} | | | | | | |")
            continue
        faster = "" if name == "ours" or "seconds" not in ours else \
            f"{row['seconds'] / ours['seconds']:.1f}x / {row['cpu_seconds'] / ours['cpu_seconds']:.1f}x"
        print(f"| {label} | {row['seconds']:.2f} s | {row['cpu_seconds']:.2f} s | {faster} | {row['peak_rss_mb']:,} MB "
              f"| {row.get('windows', '')} | {row.get('max_abs_difference_from_ours', '')} | {row['load_average']} |")


if __name__ == "__main__":
    main()
