"""Write the demo's MLflow side: a training run on an Iceberg snapshot, a registered model with
the ``production`` alias, and one evaluation run per day with the AUC of late-arriving labels."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from mlobs_notebook.demo.features import FEATURES, LABEL, PLANS, TIME_COLUMN

EXPERIMENT = "churn_prediction"
MODEL_NAME = "churn_predictor"
ALIAS = "production"
METRIC = "auc"
EVAL_FILTER = "tags.env = 'production'"
EVAL_DATE_FROM = "tags.eval_date"
PREDICTION = "churn_score"
# skops refuses to load types it does not know; these are the ones our classifier holds
SKOPS_TRUSTED_TYPES = [
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "functools.partial",
    "sklearn.utils.validation.check_array",
]
PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy"]


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: int
    run_id: str
    experiment_id: str


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@contextlib.contextmanager
def tracking(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri`` for the block, then restore what the caller had."""
    import mlflow

    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    previous_registry = os.environ.get("MLFLOW_REGISTRY_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None restores MLflow's default
        mlflow.set_registry_uri(previous_registry)  # type: ignore[arg-type]


def feature_matrix(frame: pl.DataFrame):
    """The model's input: the feature columns as pandas, ``plan`` as its category code."""
    codes = {plan: i for i, plan in enumerate(PLANS)}
    return (
        frame.select(FEATURES)
        .with_columns(pl.col("plan").replace_strict(codes, default=None, return_dtype=pl.Int64))
        .to_pandas()
    )


def train_classifier(frame: pl.DataFrame, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=80, learning_rate=0.1, categorical_features=[FEATURES.index("plan")], random_state=seed
    )
    model.fit(feature_matrix(frame), frame[LABEL].to_numpy())
    return model


def auc(model, frame: pl.DataFrame) -> float:
    from sklearn.metrics import roc_auc_score

    scores = model.predict_proba(feature_matrix(frame))[:, 1]
    return float(roc_auc_score(frame[LABEL].to_numpy(), scores))


def daily_auc(model, frames: list[pl.DataFrame]) -> list[float]:
    """The AUC of each frame, predicted in one call (per-call overhead dominates small frames)."""
    from sklearn.metrics import roc_auc_score

    scores = model.predict_proba(feature_matrix(pl.concat(frames)))[:, 1]
    out, start = [], 0
    for frame in frames:
        part = scores[start : start + frame.height]
        out.append(float(roc_auc_score(frame[LABEL].to_numpy(), part)))
        start += frame.height
    return out


def log_training(
    tracking_uri: str,
    artifact_root: str,
    train: pl.DataFrame,
    source,  # an IcebergDatasetSource naming the exact snapshot
    trained_at: datetime,
    seed: int,
) -> tuple[RegisteredModel, object]:
    """Train on the snapshot's rows, log the run with its dataset input, register and alias it.
    Call inside ``tracking(tracking_uri)``: registering a LoggedModel resolves it globally."""
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=artifact_root)
    holdout = train.sample(fraction=0.2, seed=seed)
    fit_rows = train.join(holdout.select("user_id", "feature_timestamp"), on=["user_id", "feature_timestamp"], how="anti")
    model = train_classifier(fit_rows, seed)
    run = client.create_run(
        experiment_id,
        start_time=_ms(trained_at),
        tags={"mlflow.runName": f"train-{trained_at.date()}", "purpose": "training"},
        run_name=f"train-{trained_at.date()}",
    )
    run_id = run.info.run_id
    with mlflow.start_run(run_id=run_id):
        dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]  # mlflow.data re-exports it lazily
            train.to_pandas(), source=source, name="user_activity_features", targets=LABEL
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_params(
            {"model_type": "HistGradientBoostingClassifier", "max_iter": 80, "learning_rate": 0.1,
             "features": ",".join(FEATURES), "training_rows": train.height}
        )
        mlflow.log_metric(METRIC, auc(model, holdout), timestamp=_ms(trained_at))
        sample = fit_rows.head(500)
        signature = mlflow.models.infer_signature(
            feature_matrix(sample), model.predict_proba(feature_matrix(sample))[:, 1]
        )
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            pip_requirements=PIP_REQUIREMENTS,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
    client.set_terminated(run_id, end_time=_ms(trained_at + timedelta(minutes=20)))
    client.create_registered_model(MODEL_NAME, description="Predicts which users churn within 30 days.")
    version = client.create_model_version(
        MODEL_NAME,
        source=info.model_uri,
        run_id=run_id,
        description="Churn classifier trained on the feature table's snapshot of the training day.",
    )
    client.set_registered_model_alias(MODEL_NAME, ALIAS, version.version)
    return RegisteredModel(MODEL_NAME, int(version.version), run_id, experiment_id), model


def log_evaluations(
    tracking_uri: str,
    registered: RegisteredModel,
    days: list[tuple[datetime, pl.DataFrame, float]],
    label_delay: int,
) -> list[str]:
    """One run per evaluation day; its AUC is measured on the predictions of ``label_delay`` days
    earlier, whose labels have just arrived. ``days`` holds (evaluation day, those rows, AUC)."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    run_ids = []
    for evaluated_at, scored_rows, value in days:
        start = evaluated_at + timedelta(hours=6)
        run = client.create_run(
            registered.experiment_id,
            start_time=_ms(start),
            run_name=f"eval-{evaluated_at.date()}",
            tags={
                "env": "production",
                "purpose": "evaluation",
                "model_name": registered.name,
                "model_version": str(registered.version),
            },
        )
        labels_of = (evaluated_at - timedelta(days=label_delay)).date().isoformat()
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric(METRIC, value, _ms(start), 0),
                Metric("churn_rate", float(np.mean(scored_rows[LABEL].to_numpy())), _ms(start), 0),
                Metric("labelled_rows", float(scored_rows.height), _ms(start), 0),
            ],
            params=[Param("labels_of", labels_of), Param("label_delay_days", str(label_delay))],
            tags=[RunTag("evaluation_date", evaluated_at.date().isoformat())],
        )
        client.set_terminated(run.info.run_id, end_time=_ms(start + timedelta(minutes=5)))
        run_ids.append(run.info.run_id)
    return run_ids


def log_evaluations_backfilled(
    registered: RegisteredModel, days: list[tuple[datetime, pl.DataFrame, float]], label_delay: int
) -> list[str]:
    """The same evaluations as :func:`log_evaluations`, logged the way a backfill job writes them:
    the fluent API, every run starting now, the day it evaluated in ``tags.eval_date``. Call
    inside ``tracking(uri)``."""
    import mlflow

    run_ids = []
    for evaluated_at, scored_rows, value in days:
        tags = {"env": "production", "purpose": "evaluation", "model_name": registered.name,
                "model_version": str(registered.version), "eval_date": evaluated_at.date().isoformat()}
        with mlflow.start_run(experiment_id=registered.experiment_id, run_name=f"eval-{evaluated_at.date()}",
                              tags=tags) as run:
            mlflow.log_metrics({METRIC: value, "churn_rate": float(np.mean(scored_rows[LABEL].to_numpy())),
                                "labelled_rows": float(scored_rows.height)})
            mlflow.log_params({"label_delay_days": label_delay})
        run_ids.append(run.info.run_id)
    return run_ids


def write_predictions_log(path, model, frames: list[pl.DataFrame], label_delay: int) -> None:
    """The model's predictions log: every row scored on its day (``churn_score``), its features,
    and the label, null for the last ``label_delay`` days (not arrived yet). Written atomically."""
    import os

    scores = model.predict_proba(feature_matrix(pl.concat(frames)))[:, 1]
    last: datetime = max(frame[TIME_COLUMN].max() for frame in frames)  # type: ignore[type-var, assignment]
    log = pl.concat(frames).with_columns(pl.Series(PREDICTION, scores))
    arrived = pl.col(TIME_COLUMN) < last.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=label_delay - 1)
    log = log.with_columns(pl.when(arrived).then(pl.col(LABEL)).otherwise(None).alias(LABEL))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    log.write_parquet(partial)
    os.replace(partial, path)
