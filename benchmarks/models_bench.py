"""Models benchmark: model -> training datasets -> metric series over 2,000 evaluation runs.

Run: .venv/bin/python benchmarks/models_bench.py [--runs 2000] [--repeat 5] [--store DIR] [--server]

Target (issue 3): resolving the production model, its training datasets and the AUC series of
2,000 evaluation runs in a sqlite store takes under 2 s. The report splits the time into the part
spent inside MLflow (every MlflowClient method, timed by wrapping the class) and the rest (our
parsing, polars). ``import mlflow`` is timed separately: it is paid once per process.

The store is built with MLflow's own client (create_run + log_batch per run, ~1 minute); pass
``--store DIR`` to keep it and reuse it on the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

MODEL = "bench_model"
RUNS_PER_DAY = 2


def build_store(root: Path, runs: int) -> str:
    """A sqlite store: one training run with a dataset input, the model, ``runs`` evaluations."""
    import mlflow
    import polars as pl
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json
    from mlflow.entities import DatasetInput, InputTag, Metric, RunTag
    from mlflow.tracking import MlflowClient

    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root.resolve() / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("bench", artifact_location=(root / "artifacts").resolve().as_uri())
    frame = pl.DataFrame({"x": [float(i) for i in range(10_000)], "y": [i % 2 for i in range(10_000)]})
    path = root / "train.parquet"
    frame.write_parquet(path)
    source = get_dataset_source_from_json(json.dumps({"uri": str(path)}), "local")
    entity = mlflow.data.from_pandas(frame.to_pandas(), source=source, name="train")._to_mlflow_entity()
    train = client.create_run(experiment, run_name="train")
    client.log_inputs(train.info.run_id, datasets=[
        DatasetInput(entity, tags=[InputTag("mlflow.data.context", "training")])])
    client.log_batch(train.info.run_id, metrics=[Metric("auc", 0.9, 0, 0)])
    client.create_registered_model(MODEL)
    client.create_model_version(MODEL, f"runs:/{train.info.run_id}/model", run_id=train.info.run_id)
    client.set_registered_model_alias(MODEL, "production", "1")

    start = datetime(2020, 1, 1, 6, tzinfo=UTC)
    for i in range(runs):
        when = start + timedelta(days=i // RUNS_PER_DAY, hours=i % RUNS_PER_DAY)
        millis = int(when.timestamp() * 1000)
        run = client.create_run(experiment, start_time=millis, tags={"env": "production"})
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("auc", 0.9 - (i % 97) / 1000, millis, 0),
                     Metric("churn_rate", 0.1, millis, 0)],
            tags=[RunTag("evaluation_date", when.date().isoformat())],
        )
    return uri


class MlflowTimer:
    """Time inside MlflowClient (its constructor and public methods; nested calls counted once)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    def install(self) -> None:
        from mlflow.tracking import MlflowClient

        for name in dir(MlflowClient):
            method = getattr(MlflowClient, name)
            # __init__ too: opening a store (imports, engine, schema check) is MLflow's time
            if (name.startswith("_") and name != "__init__") or not callable(method):
                continue
            setattr(MlflowClient, name, self._wrap(method))

    def _wrap(self, method):
        @functools.wraps(method)
        def timed(*args, **kwargs):
            self._depth += 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.seconds += time.perf_counter() - started

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, default=None, help="keep the store here and reuse it")
    parser.add_argument("--server", action="store_true",
                        help="also measure over HTTP through a real mlflow server on the store")
    args = parser.parse_args()

    started = time.perf_counter()
    import mlflow  # noqa: F401 - timed on its own: paid once per process

    import_s = time.perf_counter() - started

    root = args.store or Path(tempfile.mkdtemp(prefix="models-bench-"))
    if (root / "mlflow.db").exists():
        uri = f"sqlite:///{(root / 'mlflow.db').resolve()}"
        print(f"reusing the store in {root}")
    else:
        started = time.perf_counter()
        uri = build_store(root, args.runs)
        print(f"built a store with {args.runs} evaluation runs in {time.perf_counter() - started:.1f} s")

    timer = MlflowTimer()
    timer.install()
    print(f"import mlflow: {import_s:.2f} s (once per process)")
    warm_total = measure(uri, "sqlite", timer, args)
    print(f"goal < 2 s (warm, sqlite): {'met' if warm_total < 2 else 'NOT met'}")
    if args.server:
        with mlflow_server(root) as url:
            measure(url, f"HTTP ({url})", timer, args)


def measure(uri: str, label: str, timer: MlflowTimer, args: argparse.Namespace) -> float:
    from mlobs_notebook import load_production_model, metric_series, training_datasets

    def once() -> tuple[float, float, float, int]:
        before = timer.seconds
        t0, c0 = time.perf_counter(), time.process_time()
        model = load_production_model(MODEL, tracking_uri=uri)
        datasets = training_datasets(model)
        series = metric_series(model, metric="auc")
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert datasets and datasets[0].context == "training"
        return total, timer.seconds - before, cpu, series.height

    cold_total, cold_mlflow, cold_cpu, days = once()
    warm = [once() for _ in range(args.repeat)]
    warm_total = statistics.median(t for t, _, _, _ in warm)
    warm_mlflow = statistics.median(m for _, m, _, _ in warm)
    warm_cpu = statistics.median(c for _, _, c, _ in warm)
    print(f"[{label}] series: {days} days from {args.runs} evaluation runs")
    print(f"[{label}] first call (opens the store): total {cold_total:.3f} s, inside MLflow "
          f"{cold_mlflow:.3f} s ({cold_mlflow / cold_total:.0%}), CPU time {cold_cpu:.3f} s")
    print(f"[{label}] warm, median of {args.repeat}: total {warm_total:.3f} s, inside MLflow "
          f"{warm_mlflow:.3f} s ({warm_mlflow / warm_total:.0%}), ours {warm_total - warm_mlflow:.3f} s; "
          f"CPU time of this process {warm_cpu:.3f} s")
    print(f"[{label}] load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return warm_total


@contextlib.contextmanager
def mlflow_server(root: Path):
    """``mlflow server`` over the store (no job runner), stopped by killing its process group."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
               f"sqlite:///{(root / 'mlflow.db').resolve()}", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1"]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"mlflow server at {url} did not start")
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
