"""MLflow stores built the way users write training and monitoring code, for the stores tests.

Unlike the demo and tests/investigation_worlds.py, nothing here is backdated with
``MlflowClient.create_run``: the training run and most evaluations use the fluent API
(``mlflow.start_run()``, so they start now), datasets are logged with ``mlflow.data.from_pandas``
with or without a source, a Delta table is written with deltalake, and metrics go on the
LoggedModel with ``mlflow.log_metric(..., model_id=...)``. The data: card payments, a fraud model;
from current day 20 the ``merchant_risk`` feature is computed on the wrong scale (a pipeline bug
with no lineage given reads as data drift), and the AUC falls.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["txn_amount_avg", "merchant_risk", "account_age_days", "failed_logins_24h"]
LABEL, TIME = "is_fraud", "txn_time"
MODEL = "fraud_scorer"
TRAIN_START = datetime(2026, 3, 2, tzinfo=UTC)
CURRENT_START = datetime(2026, 4, 1, tzinfo=UTC)
TRAIN_DAYS, CURRENT_DAYS, BROKEN_FROM = 20, 36, 18
LABEL_DELAY = 2


def frame(start: datetime, days: int, seed: int, broken_from: int | None = None, rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * rows
    day = np.repeat(np.arange(days), rows)
    amount = rng.gamma(2.0, 40.0, n)
    risk = rng.beta(2, 5, n)
    age = rng.integers(1, 3000, n)
    logins = rng.poisson(0.5, n)
    z = -2.0 + 4.0 * risk + 0.01 * amount + 0.8 * logins - 0.0005 * age
    label = (rng.random(n) < 1 / (1 + np.exp(-z))).astype("int64")
    if broken_from is not None:
        # the upstream job now writes the risk as a percentage, shuffled against its row
        broken = day >= broken_from
        risk = np.where(broken, rng.permutation(risk) * 100, risk)
    seconds = rng.integers(0, 86_400, n)
    times = pd.Timestamp(start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame({TIME: times, "txn_amount_avg": amount.round(2), "merchant_risk": risk.round(4),
                         "account_age_days": age, "failed_logins_24h": logins, LABEL: label})


TRAIN = frame(TRAIN_START, TRAIN_DAYS, seed=11)
CURRENT = frame(CURRENT_START, CURRENT_DAYS, seed=12, broken_from=BROKEN_FROM)


def fit(train: pd.DataFrame = TRAIN) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(train[FEATURES], train[LABEL])


def daily_auc(model: Any, current: pd.DataFrame = CURRENT) -> list[tuple[str, float]]:
    """(the day the evaluation ran, AUC of the predictions LABEL_DELAY days before)."""
    from sklearn.metrics import roc_auc_score

    scored = current.assign(s=model.predict_proba(current[FEATURES])[:, 1], day=current[TIME].dt.date)
    return [(str(day + timedelta(days=LABEL_DELAY)), float(roc_auc_score(g[LABEL], g["s"])))
            for day, g in scored.groupby("day")]


@dataclass
class Store:
    folder: Path
    uri: str
    model_id: str | None = None
    training_run_id: str | None = None


@contextlib.contextmanager
def fluent(store: Store) -> Iterator[Any]:
    """The fluent API pointed at the store, quietly (building is not what is tested)."""
    import mlflow

    previous = (mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None, os.environ.get("MLFLOW_REGISTRY_URI"))
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.set_experiment("fraud")
            yield mlflow
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def new_store(root: Path, name: str, empty: Path) -> Store:
    folder = root / name
    folder.mkdir(parents=True)
    shutil.copy(empty, folder / "mlflow.db")
    store = Store(folder, f"sqlite:///{folder / 'mlflow.db'}")
    from mlflow.tracking import MlflowClient

    MlflowClient(store.uri).create_experiment("fraud", artifact_location=(folder / "artifacts").as_uri())
    return store


def train_and_register(store: Store, model: Any, dataset: Any = None, *, alias: str | None = "production",
                       stage: str | None = None) -> None:
    """The usual training script: a fluent run, the dataset input, log_model, register."""
    with fluent(store) as mlflow:
        with mlflow.start_run(run_name="train") as run:
            if dataset is not None:
                mlflow.log_input(dataset, context="training")
            info = mlflow.sklearn.log_model(model, name="model", input_example=TRAIN[FEATURES].head(3))
        version = mlflow.register_model(info.model_uri, MODEL)
        client = mlflow.MlflowClient()
        if alias:
            client.set_registered_model_alias(MODEL, alias, version.version)
        if stage:
            client.transition_model_version_stage(MODEL, version.version, stage=stage)
    store.model_id, store.training_run_id = info.model_id, run.info.run_id


def log_backfilled_evaluations(store: Store, aucs: list[tuple[str, float]], *, tag: str = "scored_on",
                               metric: str = "auc") -> None:
    """A backfill job: one fluent run per day, all starting now; the day is in a tag."""
    with fluent(store) as mlflow:
        for day, value in aucs:
            with mlflow.start_run(run_name=f"eval-{day}", tags={"env": "production", tag: day}):
                mlflow.log_metric(metric, value)


def log_model_metrics(store: Store, aucs: list[tuple[str, float]], metric: str = "auc") -> None:
    """MLflow 3: each evaluation's metric logged on the LoggedModel, stamped with the day it ran."""
    with fluent(store) as mlflow:
        for day, value in aucs:
            ms = int(datetime.fromisoformat(day).replace(hour=6, tzinfo=UTC).timestamp() * 1000)
            with mlflow.start_run(run_name=f"eval-{day}"):
                mlflow.log_metric(metric, value, timestamp=ms, model_id=store.model_id)


def log_monitoring_history(store: Store, aucs: list[tuple[str, float]], *, stamped: bool = True) -> str:
    """One long-running monitoring run logging the metric as daily steps."""
    with fluent(store) as mlflow, mlflow.start_run(run_name="production-monitoring", tags={"env": "production"}) as run:
        for step, (day, value) in enumerate(aucs):
            ms = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000) if stamped else None
            mlflow.log_metric("auc", value, step=step, timestamp=ms)
    return str(run.info.run_id)


def predictions_log(model: Any, current: pd.DataFrame = CURRENT, arrived_until: datetime | None = None) -> pd.DataFrame:
    """The inference table: features, the score, the label (null until it arrives), the time."""
    log = current.assign(fraud_score=model.predict_proba(current[FEATURES])[:, 1])
    last = current[TIME].max().normalize() if arrived_until is None else pd.Timestamp(arrived_until)
    cutoff = last - pd.Timedelta(days=LABEL_DELAY - 1) if arrived_until is None else last
    return log.assign(**{LABEL: log[LABEL].astype("Int64").where(log[TIME] < cutoff)})
