"""Reusable MLflow fixtures: a template sqlite store built once per session, and a real server.

- ``mlflow_template`` (session): builds a small MLflow world once (creating a sqlite store takes
  ~9 s), with the parquet file and Iceberg catalog its datasets point at.
- ``mlflow_world``: a private copy of the template store for one test (a file copy, milliseconds).
- ``mlflow_server`` (session, for ``integration`` tests): a real ``mlflow server`` on 127.0.0.1
  serving another copy of the template, without its job runner
  (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``); stopped by killing its process group. When the
  session holds a test that needs it, it starts as soon as the template exists, so its slow start
  overlaps the sqlite tests.

Register with ``pytest_plugins = ["tests.mlflow_fixtures"]`` (in tests/conftest.py, or in a test
module, as tests/test_models.py does). Do not import the module before that line runs: pytest
could then not rewrite its asserts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

MODEL = "churn_model"
NO_DATA_MODEL = "no_data_model"
EXPERIMENT = "churn"
EVAL_START = datetime(2026, 1, 1, 9, tzinfo=UTC)
EVAL_DAYS = 12


@dataclass(frozen=True)
class MlflowWorld:
    """What the template store holds, so tests can assert against known truth."""

    path: Path
    tracking_uri: str
    experiment_id: str
    v1_run_id: str
    v2_run_id: str
    no_data_run_id: str
    logged_model_id: str
    parquet_path: Path
    training_frame: pl.DataFrame
    iceberg_catalog: str
    iceberg_table: str
    iceberg_properties: dict
    iceberg_training_snapshot: int
    iceberg_latest_snapshot: int
    # day -> (value, run_id) of the evaluation run that should win that day
    expected_series: dict
    candidate_values: dict  # run_id -> auc of the candidate runs


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _frame(n: int, offset: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": list(range(offset, offset + n)),
            "plan": [("free", "pro", "team")[i % 3] for i in range(offset, offset + n)],
            "sessions_7d": [float((i * 7) % 23) for i in range(offset, offset + n)],
            "is_churned": [i % 4 == 0 for i in range(offset, offset + n)],
        }
    )


def _local_source(path: Path):
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json

    # built from JSON because resolving a bare path warns that two 'local' classes match
    return get_dataset_source_from_json(json.dumps({"uri": str(path)}), "local")


def _log_dataset(client, run_id: str, frame: pl.DataFrame, source, name: str, context: str) -> None:
    import mlflow
    from mlflow.entities import DatasetInput, InputTag

    with warnings.catch_warnings():
        # MLflow's advice about integer columns and missing values does not apply to fixtures
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        dataset = mlflow.data.from_pandas(frame.to_pandas(), source=source, name=name)
        # the schema is inferred here, lazily; under warnings-as-errors MLflow would drop it
        entity = dataset._to_mlflow_entity()
    assert entity.schema, f"MLflow inferred no schema for {name}"
    client.log_inputs(
        run_id, datasets=[DatasetInput(entity, tags=[InputTag("mlflow.data.context", context)])]
    )


def build_template(root: Path) -> MlflowWorld:
    """Write the template world under ``root`` (a store, a parquet file, an Iceberg catalog)."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from pyiceberg.catalog.sql import SqlCatalog

    from mlobs_notebook.sources.dataset_sources import IcebergDatasetSource, register_sources

    register_sources()
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())

    training = _frame(300)
    parquet_path = root / "data" / "train.parquet"
    parquet_path.parent.mkdir()
    training.write_parquet(parquet_path)

    props = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}",
             "warehouse": (root / "warehouse").as_uri()}
    catalog = SqlCatalog("fixcat", uri=props["uri"], warehouse=props["warehouse"])
    catalog.create_namespace("features")
    table = catalog.create_table("features.activity", schema=training.to_arrow().schema)
    table.append(training.to_arrow())
    training_snapshot = table.current_snapshot().snapshot_id
    table.append(_frame(50, offset=1000).to_arrow())  # the table moves on after training
    latest_snapshot = table.current_snapshot().snapshot_id

    def training_run(name: str, params: dict, auc: float, start: datetime) -> str:
        run = client.create_run(experiment_id, run_name=name, start_time=_ms(start),
                                tags={"stage": "training"})
        for key, value in params.items():
            client.log_param(run.info.run_id, key, value)
        client.log_metric(run.info.run_id, "auc", auc, timestamp=_ms(start))
        return run.info.run_id

    t0 = datetime(2025, 12, 1, tzinfo=UTC)
    v1_run = training_run("train-v1", {"C": "1.0"}, 0.80, t0)
    _log_dataset(client, v1_run, training, _local_source(parquet_path), "train_parquet", "training")
    client.set_terminated(v1_run, end_time=_ms(t0) + 1000)

    v2_run = training_run("train-v2", {"C": "0.5", "penalty": "l2"}, 0.85, t0 + timedelta(days=1))
    iceberg_source = IcebergDatasetSource("fixcat", "features.activity", training_snapshot, props)
    holdout_path = parquet_path.with_name("holdout.parquet")
    _frame(40, offset=5000).write_parquet(holdout_path)
    _log_dataset(client, v2_run, _frame(40, offset=5000), _local_source(holdout_path), "holdout",
                 "validation")
    _log_dataset(client, v2_run, training, iceberg_source, "train_iceberg", "training")

    client.create_registered_model(MODEL)
    client.create_model_version(MODEL, f"runs:/{v1_run}/model", run_id=v1_run)

    # a LoggedModel as log_model makes one, without its artifacts: investigating reads metadata
    # only, and saving a real model would import the sklearn flavor (seconds)
    logged = client.create_logged_model(experiment_id, name="model", source_run_id=v2_run)
    client.finalize_logged_model(logged.model_id, "READY")
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)  # MLflow resolves a models:/ source through the global URI
    try:
        client.create_model_version(MODEL, f"models:/{logged.model_id}", run_id=v2_run,
                                    model_id=logged.model_id)
    finally:
        mlflow.set_tracking_uri(previous)
    client.set_registered_model_alias(MODEL, "production", "2")
    client.set_registered_model_alias(MODEL, "challenger", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated; we test reading them
        client.transition_model_version_stage(MODEL, "1", "Staging")

    no_data = training_run("train-nodata", {"C": "2"}, 0.7, t0)
    client.create_registered_model(NO_DATA_MODEL)
    client.create_model_version(NO_DATA_MODEL, f"runs:/{no_data}/model", run_id=no_data)
    client.set_registered_model_alias(NO_DATA_MODEL, "production", "1")

    expected = {}
    for day in range(EVAL_DAYS):
        start = EVAL_START + timedelta(days=day)
        auc = round(0.85 - 0.01 * day, 4)
        scored_day = (start - timedelta(days=1)).date().isoformat()
        run = client.create_run(experiment_id, start_time=_ms(start),
                                tags={"env": "production", "eval_date": scored_day})
        client.log_metric(run.info.run_id, "auc", auc, timestamp=_ms(start))
        client.set_terminated(run.info.run_id, end_time=_ms(start) + 60_000)
        expected[start.date()] = (auc, run.info.run_id)
        if day % 4 == 1:  # a re-run later the same day replaces the morning's value
            rerun = client.create_run(experiment_id, start_time=_ms(start + timedelta(hours=8)),
                                      tags={"env": "production", "eval_date": scored_day})
            client.log_metric(rerun.info.run_id, "auc", auc + 0.005, timestamp=_ms(start))
            expected[start.date()] = (auc + 0.005, rerun.info.run_id)
        # staging evaluations must not leak into the production series
        staged = client.create_run(experiment_id, start_time=_ms(start), tags={"env": "staging"})
        client.log_metric(staged.info.run_id, "auc", 0.5, timestamp=_ms(start))
    silent = client.create_run(experiment_id, start_time=_ms(EVAL_START + timedelta(days=30)),
                               tags={"env": "production"})
    client.log_metric(silent.info.run_id, "latency_ms", 12.0)  # an evaluation without auc

    candidates = {}
    for auc in (0.86, 0.88, 0.9, 0.871):
        run = client.create_run(experiment_id, tags={"kind": "candidate"}, run_name=f"cand-{auc}")
        client.log_metric(run.info.run_id, "auc", auc)
        candidates[run.info.run_id] = auc

    return MlflowWorld(
        path=root, tracking_uri=uri, experiment_id=experiment_id, v1_run_id=v1_run,
        v2_run_id=v2_run, no_data_run_id=no_data, logged_model_id=logged.model_id,
        parquet_path=parquet_path, training_frame=training, iceberg_catalog="fixcat",
        iceberg_table="features.activity", iceberg_properties=props,
        iceberg_training_snapshot=training_snapshot, iceberg_latest_snapshot=latest_snapshot,
        expected_series=expected, candidate_values=candidates,
    )


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory, request) -> MlflowWorld:
    world = build_template(tmp_path_factory.mktemp("mlflow-template"))
    if any("mlflow_server" in getattr(item, "fixturenames", ()) for item in request.session.items):
        # the server takes many seconds to import and start: let it do so while the sqlite tests
        # run, on the other core, instead of when the first integration test asks for it
        server = MlflowServer(world, tmp_path_factory.mktemp("mlflow-server"))
        request.addfinalizer(server.stop)
        _EARLY_SERVERS[world.path] = server
    return world


@pytest.fixture
def mlflow_world(mlflow_template, tmp_path) -> MlflowWorld:
    """The template world on a private copy of its store (the data files are shared, read-only)."""
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_template.path / "mlflow.db", copy)
    return replace(mlflow_template, tracking_uri=f"sqlite:///{copy}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait until the server at ``url`` answers /health; fail if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {process.returncode} before answering")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=1) as ok:
            if ok.status == 200:
                return
        time.sleep(0.25)
    raise TimeoutError(f"mlflow server at {url} did not answer /health within {timeout} s")


class MlflowServer:
    """``mlflow server`` over a copy of the template store, in its own process group."""

    def __init__(self, world: MlflowWorld, folder: Path) -> None:
        db = folder / "mlflow.db"
        shutil.copyfile(world.path / "mlflow.db", db)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.world = replace(world, tracking_uri=self.url)
        self.log_path = folder / "server.log"
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        command = [
            sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}",
            "--default-artifact-root", (folder / "artifacts").as_uri(),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)

    def wait_healthy(self, timeout: float) -> None:
        try:
            _wait_healthy(self.url, self.process, timeout)
        except (RuntimeError, TimeoutError) as exc:
            log = self.log_path.read_text(errors="replace")[-3000:]
            raise type(exc)(f"{exc}; its log ends:\n{log}") from exc

    def stop(self) -> None:
        if self._log.closed:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # workers that outlived the main process
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


_EARLY_SERVERS: dict[Path, MlflowServer] = {}


@pytest.fixture(scope="session")
def mlflow_server(mlflow_template, tmp_path_factory):
    """A real ``mlflow server`` on 127.0.0.1 over a copy of the template store; yields (url, world)."""
    server = _EARLY_SERVERS.pop(mlflow_template.path, None)
    if server is None:
        server = MlflowServer(mlflow_template, tmp_path_factory.mktemp("mlflow-server"))
    try:
        server.wait_healthy(timeout=180)  # a loaded 2-core CI box starts it slowly
        yield server.url, server.world
    finally:
        server.stop()
