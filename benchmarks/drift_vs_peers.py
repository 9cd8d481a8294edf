"""Drift engine vs Evidently, NannyML and a per-column scipy loop: same data, same machine, one run.

    .venv/bin/python benchmarks/drift_vs_peers.py            # everything (~15 minutes)
    .venv/bin/python benchmarks/drift_vs_peers.py --skip-big --skip-peers

The peers are installed by this script into their own virtual environment,
benchmarks/.peers-venv (gitignored), never into the package's. Data is generated once into
benchmarks/data/ (gitignored): a 1,000,000-row baseline and current (20 numeric columns, some
with nulls, and 5 categorical columns of cardinality 5 to 1,000) spread over 90 days, and a
50,000,000-row current parquet written in 1,000,000-row chunks.

Each measurement runs in its own subprocess, so its peak RSS (ru_maxrss) is its own; the time
covers the drift computation only (frames are read before the clock starts, except for the
50M-row run, whose whole point is reading lazily).
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
PEERS_VENV = HERE / ".peers-venv"
PEERS_PY = PEERS_VENV / "bin" / "python"
PEER_PACKAGES = ["evidently==0.7.*", "nannyml==0.13.*", "statsmodels", "pandas<3", "polars", "pyarrow", "scipy", "numpy"]
NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = {"cat_5": 5, "cat_20": 20, "cat_100": 100, "cat_300": 300, "cat_1000": 1000}
BINNED = ["percent_null_delta", "population_stability_index", "js_distance", "chi_squared_statistic", "chi_squared_pvalue",
          "tv_distance", "l_infinity_distance", "unseen_category_share"]
DAYS = 90


# --------------------------------------------------------------------------- data


def _epoch_us(day: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()) * 1_000_000


DAY_US = 86_400_000_000


def _frame(rows: int, seed: int, drifted: bool, start_us: int, span_us: int = DAYS * DAY_US):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    columns = {}
    for i, name in enumerate(NUMERIC):
        if i % 3 == 0:
            values = rng.normal(0, 1, rows)
        elif i % 3 == 1:
            values = rng.lognormal(0, 0.7, rows)
        else:
            values = rng.uniform(-5, 5, rows)
        if drifted and i == 0:
            values = values + 0.25  # mean shift
        if drifted and i == 5:
            values = values * 1.4  # scale change
        null_share = 0.2 if (drifted and i == 10) else (0.02 if i % 4 == 0 else 0.0)
        series = pl.Series(name, values)
        if null_share:
            series = series.scatter(np.flatnonzero(rng.random(rows) < null_share), None)
        columns[name] = series
    for name, k in CATEGORICAL.items():
        weights = 1.0 / np.arange(1, k + 1) ** 0.5
        if drifted and name == "cat_20":
            weights = weights[::-1]
        codes = rng.choice(k, rows, p=weights / weights.sum())
        columns[name] = pl.Series(name, [f"{name}_{j}" for j in range(k)]).gather(codes)
    columns["ts"] = pl.Series("ts", start_us + np.sort(rng.integers(0, span_us, rows))).cast(pl.Datetime("us"))
    return pl.DataFrame(columns)


def generate(big_rows: int) -> None:
    import polars as pl

    DATA.mkdir(parents=True, exist_ok=True)
    for name, seed, drifted, start in (("baseline", 1, False, "2024-01-01"), ("current", 2, True, "2024-06-01")):
        path = DATA / f"{name}_1m.parquet"
        if not path.exists():
            _frame(1_000_000, seed, drifted, _epoch_us(start)).write_parquet(path)
            print(f"wrote {path}", flush=True)
    small = DATA / "baseline_200k.parquet"
    if not small.exists():
        pl.read_parquet(DATA / "baseline_1m.parquet").sample(200_000, seed=3).sort("ts").write_parquet(small)
        pl.read_parquet(DATA / "current_1m.parquet").sample(200_000, seed=4).sort("ts").write_parquet(DATA / "current_200k.parquet")
    big = DATA / f"current_{big_rows // 1_000_000}m.parquet"
    if big_rows and not big.exists():
        import pyarrow.parquet as pq

        chunks = big_rows // 1_000_000
        tmp = big.with_suffix(".partial")
        writer = None
        for chunk in range(chunks):
            # each chunk covers its own slice of the 90 days, so the file stays time-ordered
            span = DAYS * DAY_US // chunks
            frame = _frame(1_000_000, 100 + chunk, True, _epoch_us("2024-06-01") + chunk * span, span)
            table = frame.to_arrow()
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table, row_group_size=1_000_000)
        writer.close()
        tmp.rename(big)
        print(f"wrote {big} ({big.stat().st_size / 1e9:.1f} GB)", flush=True)


# --------------------------------------------------------------------------- tasks (run in a child)


class _Clock:
    """Wall and CPU time (all threads) of a measured block; CPU time is what a loaded machine
    distorts least, so both are reported."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> dict:
        return {"seconds": time.perf_counter() - self.wall, "cpu_seconds": time.process_time() - self.cpu}


def _ours(task: str, args: argparse.Namespace) -> dict:
    import polars as pl

    from mlobs_notebook.drift import compute_drift, fit_baseline

    rows = args.rows_tag
    baseline = pl.read_parquet(DATA / f"baseline_{rows}.parquet")
    if task.startswith("ours_big"):
        profile = fit_baseline(baseline.drop("ts"))
        current = pl.scan_parquet(DATA / f"current_{args.big_rows // 1_000_000}m.parquet")
        clock = _Clock()
        chosen = None if task == "ours_big_all" else BINNED
        report = compute_drift(profile, current, time_column="ts", granularity="1d", statistics=chosen)
        ks = report.table["ks_statistic"]
        return {**clock.stop(), "rows": report.table.height, "notes": list(report.notes),
                "ks_computed": ks.len() - ks.null_count()}
    current = pl.read_parquet(DATA / f"current_{rows}.parquet")
    statistics = BINNED if task.endswith("binned") else None
    best: dict = {"seconds": float("inf")}
    every = []
    for _ in range(3):  # best of three: the first call also warms polars' threads and loads the compiled loops
        if "windows" in task:
            clock = _Clock()
            profile = fit_baseline(baseline.drop("ts"))
            fit = clock.stop()
            clock = _Clock()
            report = compute_drift(profile, current, time_column="ts", granularity="1d", statistics=statistics)
            timing = {**clock.stop(), "fit_seconds": fit["seconds"], "fit_cpu_seconds": fit["cpu_seconds"]}
        else:
            clock = _Clock()
            report = compute_drift(baseline.drop("ts"), current.drop("ts"), statistics=statistics)
            timing = clock.stop()
        every.append(round(timing["seconds"], 3))
        if timing["seconds"] < best["seconds"]:
            best = timing
    return {**best, "every_call": every, "rows": report.table.height,
            "drifted": report.drifted_features()["column_name"].to_list()}


def _scipy_stats(ref_num, cur_num, ref_cat, cur_cat) -> int:
    """The same statistics as ours, one column at a time with scipy/numpy (the usual loop)."""
    import numpy as np
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    computed = 0
    for a, b in zip(ref_num, cur_num, strict=True):
        a_ok, b_ok = a[np.isfinite(a)], b[np.isfinite(b)]
        stats.ks_2samp(a_ok, b_ok)
        stats.wasserstein_distance(a_ok, b_ok)
        edges = np.unique(np.quantile(a_ok, np.linspace(0, 1, 11)))
        edges[0], edges[-1] = -np.inf, np.inf
        p = np.append(np.histogram(a_ok, edges)[0], len(a) - len(a_ok)) / len(a)
        q = np.append(np.histogram(b_ok, edges)[0], len(b) - len(b_ok)) / len(b)
        pp, qq = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
        np.sum((qq - pp) * np.log(qq / pp))
        jensenshannon(p, q, base=2)
        computed += 1
    for a, b in zip(ref_cat, cur_cat, strict=True):
        va, na = np.unique(a, return_counts=True)
        vb, nb = np.unique(b, return_counts=True)
        values = np.union1d(va, vb)
        ca = np.zeros(len(values), dtype=np.int64)
        cb = np.zeros(len(values), dtype=np.int64)
        ca[np.searchsorted(values, va)] = na
        cb[np.searchsorted(values, vb)] = nb
        table = np.array([ca, cb])
        stats.chi2_contingency(table[:, table.sum(axis=0) > 0])
        p, q = ca / ca.sum(), cb / cb.sum()
        jensenshannon(p, q, base=2)
        pp, qq = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
        np.sum((qq - pp) * np.log(qq / pp))
        0.5 * np.abs(p - q).sum(), np.abs(p - q).max()
        computed += 1
    return computed


def _scipy(task: str, args: argparse.Namespace) -> dict:
    import polars as pl

    baseline = pl.read_parquet(DATA / f"baseline_{args.rows_tag}.parquet")
    current = pl.read_parquet(DATA / f"current_{args.rows_tag}.parquet")

    def arrays(frame):
        num = [frame[c].cast(pl.Float64).to_numpy() for c in NUMERIC]
        cat = [frame[c].fill_null("<null>").to_numpy().astype(str) for c in CATEGORICAL]
        return num, cat

    ref_num, ref_cat = arrays(baseline)
    if task == "scipy_loop":
        cur_num, cur_cat = arrays(current)
        clock = _Clock()
        _scipy_stats(ref_num, cur_num, ref_cat, cur_cat)
        return clock.stop()
    # per window: a Python loop over 90 days, each window compared column by column
    day = current["ts"].dt.truncate("1d")
    days = day.unique().sort()
    sample = days[: args.window_sample]
    clock = _Clock()
    for d in sample:
        window = current.filter(day == d)
        cur_num, cur_cat = arrays(window)
        _scipy_stats(ref_num, cur_num, ref_cat, cur_cat)
    timing = clock.stop()
    scale = len(days) / len(sample)
    return {"seconds": timing["seconds"] * scale, "cpu_seconds": timing["cpu_seconds"] * scale,
            "measured_windows": len(sample), "windows": len(days), "scaled": scale != 1}


def _evidently(task: str, args: argparse.Namespace) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    rows = args.evidently_tag
    ref = pd.read_parquet(DATA / f"baseline_{rows}.parquet").drop(columns="ts")
    cur = pd.read_parquet(DATA / f"current_{rows}.parquet").drop(columns="ts")
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=list(CATEGORICAL))
    clock = _Clock()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    snapshot.dict()  # make sure every metric is computed
    return {**clock.stop(), "rows": len(cur)}


def _nannyml(task: str, args: argparse.Namespace) -> dict:
    import nannyml as nml
    import pandas as pd

    ref = pd.read_parquet(DATA / f"baseline_{args.rows_tag}.parquet")
    cur = pd.read_parquet(DATA / f"current_{args.rows_tag}.parquet")
    clock = _Clock()
    calc = nml.UnivariateDriftCalculator(
        column_names=[*NUMERIC, *CATEGORICAL],
        timestamp_column_name="ts",
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon", "wasserstein"],
        categorical_methods=["chi2", "jensen_shannon", "l_infinity"],
        chunk_period="D",
    )
    calc.fit(ref)
    results = calc.calculate(cur)
    return {**clock.stop(), "rows": len(results.to_df())}


TASKS = {
    "ours_full": _ours,
    "ours_binned": _ours,
    "ours_windows_all": _ours,
    "ours_windows_binned": _ours,
    "ours_big": _ours,
    "ours_big_all": _ours,
    "scipy_loop": _scipy,
    "scipy_windows": _scipy,
    "evidently": _evidently,
    "nannyml_windows": _nannyml,
}
PEER_TASKS = {"evidently", "nannyml_windows"}


def run_child(args: argparse.Namespace) -> None:
    result = TASKS[args.task](args.task, args)
    load = os.getloadavg()[0]
    result["load_average"] = round(load, 2)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- orchestration


def ensure_peers() -> str | None:
    """Create the peers' venv if needed; the reason on failure (the results say it)."""
    if PEERS_PY.exists():
        probe = subprocess.run([str(PEERS_PY), "-c", "import evidently, nannyml"], capture_output=True, text=True)
        if probe.returncode == 0:
            return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(PEERS_PY), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True,
                       capture_output=True, text=True, timeout=1800)
    except subprocess.CalledProcessError as exc:
        return f"pip install failed: {(exc.stderr or '').strip().splitlines()[-1:]}"
    except subprocess.TimeoutExpired:
        return "pip install took more than 30 minutes"
    return None


def measure(task: str, args: argparse.Namespace, timeout: float) -> dict:
    python = str(PEERS_PY) if task in PEER_TASKS else sys.executable
    command = [python, __file__, "--task", task, "--rows", str(args.rows), "--evidently-rows", str(args.evidently_rows),
               "--big-rows", str(args.big_rows), "--window-sample", str(args.window_sample)]
    # the peers' usage telemetry would try the network (none here): switched off
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)} if task not in PEER_TASKS else {
        **os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=sorted(TASKS))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--evidently-rows", type=int, default=200_000)
    parser.add_argument("--big-rows", type=int, default=50_000_000)
    parser.add_argument("--window-sample", type=int, default=3, help="windows the scipy window loop measures (then scaled to 90)")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--only", help="comma-separated runs to (re)measure; the others are kept from --out")
    parser.add_argument("--out", type=Path, default=HERE / "data" / "drift_results.json")
    args = parser.parse_args()
    tag = {1_000_000: "1m", 200_000: "200k"}
    args.rows_tag, args.evidently_tag = tag[args.rows], tag[args.evidently_rows]
    if args.task:
        run_child(args)
        return

    peers_problem = None if args.skip_peers else ensure_peers()
    generate(0 if args.skip_big else args.big_rows)
    plan = ["ours_full", "ours_binned", "scipy_loop", "ours_windows_binned", "ours_windows_all", "scipy_windows"]
    if not args.skip_peers and peers_problem is None:
        plan += ["evidently", "nannyml_windows"]
    if not args.skip_big:
        plan += ["ours_big", "ours_big_all"]
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "peers_problem": peers_problem}
    if args.only:
        results = {**json.loads(args.out.read_text()), **{k: v for k, v in results.items() if k == "machine"}}
        plan = [task for task in args.only.split(",") if task in TASKS]
    for task in plan:
        results[task] = measure(task, args, timeout=3600)
        print(f"{task:22s} {json.dumps(results[task])}", flush=True)
    args.out.write_text(json.dumps(results, indent=2))
    print_table(results, args)


def print_table(r: dict, args: argparse.Namespace) -> None:
    def get(task: str, key: str = "seconds") -> float | None:
        return r.get(task, {}).get(key)

    def ratio(slow: float | None, fast: float | None) -> str:
        return f"{slow / fast:.1f}x" if slow and fast else ""

    def row(label: str, task: str, versus: str | None = None, scale: float = 1.0) -> None:
        if get(task) is None:
            print(f"| {label} | {r.get(task, {}).get('error', 'not run')} | | | | |")
            return
        wall, cpu = get(task) * scale, get(task, "cpu_seconds") * scale
        faster = ""
        if versus and get(versus):
            faster = f"{ratio(wall, get(versus))} wall, {ratio(cpu, get(versus, 'cpu_seconds'))} CPU"
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {faster} | {r[task].get('peak_rss_mb', 0):,.0f} MB "
              f"| {r[task].get('load_average', '')} |")

    print("\n| run | wall | CPU (all threads) | slower than ours by | peak RSS | load avg |")
    print("|---|---|---|---|---|---|")
    row("ours, all statistics, 1M x 25 (fit included)", "ours_full")
    row("ours, binned statistics, 1M x 25 (fit included)", "ours_binned")
    row("scipy per-column loop, same statistics, 1M x 25", "scipy_loop", "ours_full")
    if get("evidently"):
        rows = r["evidently"]["rows"]
        row(f"Evidently DataDriftPreset, {rows:,} x 25", "evidently")
        row("Evidently scaled linearly to 1M rows", "evidently", "ours_full", scale=args.rows / rows)
    row("ours, 90 daily windows, binned statistics (fitted baseline)", "ours_windows_binned")
    row("ours, 90 daily windows, all statistics (fitted baseline)", "ours_windows_all")
    row("scipy loop over 90 windows (3 measured, scaled)", "scipy_windows", "ours_windows_all")
    row("NannyML UnivariateDriftCalculator, chunk_period=D (fit included)", "nannyml_windows", "ours_windows_all")
    row(f"ours, {args.big_rows:,}-row parquet, lazy/streaming, daily windows, binned", "ours_big")
    row(f"ours, {args.big_rows:,}-row parquet, lazy, daily windows, all statistics (one column in memory at a time)", "ours_big_all")
    for task in ("ours_windows_binned", "ours_windows_all"):
        if get(task, "fit_seconds"):
            print(f"\n{task}: fitting the baseline took {get(task, 'fit_seconds'):.2f} s wall, "
                  f"{get(task, 'fit_cpu_seconds'):.2f} s CPU (once, reused for every window)")


if __name__ == "__main__":
    main()
