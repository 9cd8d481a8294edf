"""A gate world: the models engineer's template store plus candidate runs, built once per session.

``gate_template`` copies the template sqlite store (tests/mlflow_fixtures.py) and adds, in an
experiment of its own:

- ``good_run``: finished, auc 0.93, trained on the same rows as the production model (so PSI 0),
  its LoggedModel recorded as the run's model output (as ``log_model`` does);
- ``bad_run``: FAILED, auc 0.82, trained on shifted data with a third of ``plan`` null, a
  LoggedModel created through the client (found through ``search_logged_models``);
- ``legacy_run``: finished, auc 0.95, its model an MLmodel under ``model/`` (MLflow 2 style);
- ``@staging`` on version 1, so a promotion has a previous holder to keep.

``gate_world`` is a private copy of that store for one test (a file copy).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pytest

MODEL = "churn_model"  # as tests/mlflow_fixtures.py registers it


@dataclass(frozen=True)
class GateWorld:
    path: Path
    tracking_uri: str
    experiment_id: str
    good_run: str
    bad_run: str
    legacy_run: str
    no_model_run: str
    production_run: str
    template: object


def _run_with_data(client, experiment_id: str, name: str, auc: float, frame: pl.DataFrame,
                   path: Path) -> str:
    from mlflow_fixtures import _local_source, _log_dataset

    run_id = client.create_run(experiment_id, run_name=name).info.run_id
    client.log_metric(run_id, "auc", auc)
    frame.write_parquet(path)
    _log_dataset(client, run_id, frame, _local_source(path), f"{name}_train", "training")
    return run_id


def build_gate_world(template, root: Path) -> GateWorld:
    from mlflow.entities import LoggedModelOutput
    from mlflow.tracking import MlflowClient

    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template.path / "mlflow.db", root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_registered_model_alias(MODEL, "staging", "1")
    experiment_id = client.create_experiment("gate", artifact_location=(root / "artifacts").as_uri())
    (root / "data").mkdir(exist_ok=True)

    good = _run_with_data(client, experiment_id, "good", 0.93, template.training_frame,
                          root / "data" / "good.parquet")
    # a LoggedModel and the run's model output, as log_model records them (its artifacts are not
    # needed: the gate registers metadata, and saving a real model costs seconds of imports)
    logged = client.create_logged_model(experiment_id, name="model", source_run_id=good)
    client.finalize_logged_model(logged.model_id, "READY")
    client.log_outputs(good, [LoggedModelOutput(logged.model_id, 0)])
    client.set_terminated(good)

    # an MLflow 2 style run: the model is an MLmodel under the run's model/ artifacts
    legacy = _run_with_data(client, experiment_id, "legacy", 0.95, template.training_frame,
                            root / "data" / "legacy.parquet")
    folder = root / "legacy-model" / "model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    client.log_artifacts(legacy, str(folder.parent))
    client.set_terminated(legacy)

    shifted = template.training_frame.with_columns(
        (pl.col("sessions_7d") * 3 + 40).alias("sessions_7d"),
        pl.when(pl.col("user_id") % 3 == 0).then(None).otherwise(pl.col("plan")).alias("plan"),
    )
    bad = _run_with_data(client, experiment_id, "bad", 0.82, shifted, root / "data" / "bad.parquet")
    logged = client.create_logged_model(experiment_id, name="model", source_run_id=bad)
    client.finalize_logged_model(logged.model_id, "READY")
    client.set_terminated(bad, status="FAILED")
    return GateWorld(root, uri, experiment_id, good, bad, legacy, template.v1_run_id, template.v2_run_id,
                     template)


@pytest.fixture(scope="session")
def gate_template(mlflow_template, tmp_path_factory) -> GateWorld:
    return build_gate_world(mlflow_template, tmp_path_factory.mktemp("gate-template"))


@pytest.fixture
def gate_world(gate_template, tmp_path) -> GateWorld:
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(gate_template.path / "mlflow.db", copy)
    return replace(gate_template, tracking_uri=f"sqlite:///{copy}")
