"""The whole investigation out of core: ``mlobs investigate`` on a 50M-row x 50-feature current
table and a 25M-row x 50-feature training snapshot, peak memory of the whole process measured by
``/usr/bin/time -v``.

    .venv/bin/python benchmarks/scale_bench.py all [--rows 50000000] [--baseline-rows 25000000]
        [--features 50] [--root /tmp/mlobs-scale] [--keep]

Steps (each also runs alone: ``generate``, ``world``, ``investigate``, ``clean``):

1. ``generate``: parquet folders under ROOT (files of 1,000,000 rows, written one at a time, so
   the generator's memory stays small): ``training/`` (the snapshot, 45 days) and ``current/``
   (90 days after it, in time order), float64 features ``f00``... with four planted drifts from
   day 60 (a mean shift, a scale change, 20% nulls, a switch to +inf for 1% of rows). Values are
   normal draws rounded to a grid of 1/32, so each column holds a few hundred distinct values and
   the files compress (5.0 GB on disk in all instead of 30 GB); every statistic still runs on
   float64 columns of 50M rows, exact KS and Wasserstein included (ties are handled as in scipy).
2. ``world``: an MLflow sqlite store: a run logging ``training/`` as its training input, a
   logistic model on 50 features registered as ``scale_model@production``, and a daily ``auc``
   that drops after day 60 (evaluation runs tagged env=production).
3. ``investigate``: ``/usr/bin/time -v mlobs investigate --format json`` on them; the figures
   (wall, peak RSS, verdict, drifted features, the engine's notes) go to
   ``benchmarks/data/scale_results.json``.
4. ``clean``: the folder is removed (unless ``--keep``).

The two inputs are 10 GB and 20 GB as float64, so neither could be collected under the 6 GB goal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHUNK = 1_000_000
START = datetime(2026, 1, 1, tzinfo=UTC)
TRAIN_DAYS, CURRENT_DAYS, INCIDENT_DAY = 45, 90, 60
GRID = 32


def _features(count: int) -> list[str]:
    return [f"f{i:02d}" for i in range(count)]


def _chunk(rng: np.random.Generator, rows: int, names: list[str], first: datetime, seconds: float,
           offset: int, total: int, drift: bool) -> object:
    import pyarrow as pa

    ts = first + timedelta(seconds=seconds * offset / total)
    step = seconds / total
    micros = np.int64(int(ts.timestamp() * 1_000_000)) + (np.arange(rows) * step * 1_000_000).astype(np.int64)
    columns = {"ts": pa.array(micros, type=pa.timestamp("us", tz="UTC"))}
    day = (micros - int(START.timestamp() * 1_000_000)) // 86_400_000_000 - TRAIN_DAYS
    after = drift & (day >= INCIDENT_DAY)
    for i, name in enumerate(names):
        values = rng.standard_normal(rows) * (1 + i % 5) + i
        mask = None
        if drift:
            if i == 0:
                values = np.where(after, values + 0.5, values)
            elif i == 1:
                values = np.where(after, values * 1.5, values)
            elif i == 2:
                mask = after & (rng.random(rows) < 0.2)
            elif i == 3:
                values = np.where(after & (rng.random(rows) < 0.01), np.inf, values)
        # on a grid of 1/32 (exact in binary): a bounded set of values per column, so parquet's
        # dictionary encoding keeps the files small (about 1.5 bytes a value, not 8)
        columns[name] = pa.array(np.round(values * GRID) / GRID, mask=mask)
    return pa.table(columns)


def generate(root: Path, rows: int, baseline_rows: int, features: int) -> None:
    import pyarrow.parquet as pq

    names = _features(features)
    rng = np.random.default_rng(42)
    started = time.perf_counter()
    for folder, total, first, days, drift in (
        ("training", baseline_rows, START, TRAIN_DAYS, False),
        ("current", rows, START + timedelta(days=TRAIN_DAYS), CURRENT_DAYS, True),
    ):
        path = root / folder
        path.mkdir(parents=True, exist_ok=True)
        for k, offset in enumerate(range(0, total, CHUNK)):
            size = min(CHUNK, total - offset)
            table = _chunk(rng, size, names, first, days * 86_400, offset, total, drift)
            pq.write_table(table, path / f"part-{k:05d}.parquet", row_group_size=CHUNK)
        print(f"{folder}: {total:,} rows x {features} features in {path} ({time.perf_counter() - started:.0f} s)", flush=True)


def world(root: Path, features: int) -> dict:
    """The MLflow store: training input, registered model, daily auc."""
    import mlflow
    import polars as pl
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    names = _features(features)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.create_experiment("scale", artifact_location=(root / "artifacts").as_uri())
    sample = pl.read_parquet(root / "training" / "part-00000.parquet").head(20_000)
    x = sample.select(names).to_pandas()
    label = (sample["f00"] - sample["f05"] / 6 + np.random.default_rng(1).normal(0, 1, sample.height)) > 0
    model = LogisticRegression(max_iter=300).fit(x, label.to_numpy())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=experiment) as run:
        source = get_dataset_source_from_json(json.dumps({"uri": str(root / "training")}), "local")
        mlflow.log_input(MetaDataset(source, name="scale_training", digest="scale"), context="training")
        info = mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                        signature=mlflow.models.infer_signature(x.head(20), model.predict(x.head(20))))
    client.create_registered_model("scale_model")
    version = client.create_model_version("scale_model", info.model_uri, run.info.run_id)
    client.set_registered_model_alias("scale_model", "production", version.version)
    for day in range(CURRENT_DAYS):
        at = START + timedelta(days=TRAIN_DAYS + day, hours=12)
        auc = 0.86 - (0.08 if day >= INCIDENT_DAY + 1 else 0.0) + 0.003 * np.sin(day)
        r = client.create_run(experiment, start_time=int(at.timestamp() * 1000), tags={"env": "production"})
        client.log_batch(r.info.run_id, metrics=[Metric("auc", float(auc), int(at.timestamp() * 1000), 0)])
        client.set_terminated(r.info.run_id, end_time=int(at.timestamp() * 1000) + 1000)
    settings = {"tracking_uri": uri, "model": "scale_model", "current": str(root / "current"), "time_column": "ts"}
    (root / "settings.json").write_text(json.dumps(settings))
    return settings


def investigate(root: Path, extra: list[str]) -> dict:
    settings = json.loads((root / "settings.json").read_text())
    mlobs = str(Path(sys.executable).with_name("mlobs"))
    command = ["/usr/bin/time", "-v", mlobs, "investigate", "--tracking-uri", settings["tracking_uri"],
               "--model", settings["model"], "--current", settings["current"], "--time-column", "ts",
               "--granularity", "1d", "--format", "json", *extra]
    load = os.getloadavg()
    started = datetime.now(UTC)
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"mlobs investigate failed ({out.returncode}):\n{out.stderr[-4000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", out.stderr).group(1)
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", out.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", out.stderr).group(1))
    payload = json.loads(out.stdout)
    result = {
        "command": " ".join(command), "started_utc": started.isoformat(timespec="seconds"),
        "load_before": [round(v, 2) for v in load], "load_after": [round(v, 2) for v in os.getloadavg()],
        "peak_rss_gb": round(peak_kb / 1024**2, 2), "wall": wall, "cpu_seconds": round(user + system, 1),
        "verdict": payload.get("verdict"),
        "drifted": [f["feature"] for f in payload.get("drifted_features", [])],
        "notes": payload.get("notes"),
    }
    print(json.dumps(result, indent=2))
    (HERE / "data").mkdir(exist_ok=True)
    (HERE / "data" / "scale_results.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("all", "generate", "world", "investigate", "clean"))
    parser.add_argument("--root", default="/tmp/mlobs-scale")
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--baseline-rows", type=int, default=25_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the data after 'all'")
    args, extra = parser.parse_known_args()
    root = Path(args.root)
    if args.step in ("all", "generate"):
        generate(root, args.rows, args.baseline_rows, args.features)
    if args.step in ("all", "world"):
        world(root, args.features)
    if args.step in ("all", "investigate"):
        investigate(root, extra)
    if args.step == "clean" or (args.step == "all" and not args.keep):
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
