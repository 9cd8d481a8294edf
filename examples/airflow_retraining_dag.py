"""Drift check -> retrain -> promotion gate: the churn model's daily scheduler DAG.

Every day ``check_feature_drift`` compares the last week of the feature table with the data the
production model was trained on. When a feature drifts past the threshold the drift goes where
people look (MLflow metrics on the model, a failed data quality assertion on the dataset in the
lineage graph) and the DAG retrains; the candidate is promoted to ``@staging`` only if the gate
passes. Otherwise the run ends at ``no_drift``.

Configuration (environment variables, defaults fit a demo world built with
``mlobs demo --out $MLOBS_DEMO_DIR``): ``MLFLOW_TRACKING_URI``, ``MLOBS_TABLE_URI``,
``MLOBS_MODEL``, ``MLOBS_DRIFT_THRESHOLD``, and the OpenLineage client's own configuration
(``OPENLINEAGE_URL`` or ``openlineage.yml``) for where the quality facets go.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow import DAG

try:  # Airflow 3 moved the standard operators into a provider
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator
    from airflow.operators.python import BranchPythonOperator, PythonOperator

DEMO_DIR = Path(os.environ.get("MLOBS_DEMO_DIR", "mlobs-demo")).resolve()
TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{DEMO_DIR / 'mlflow.db'}")
CATALOG = os.environ.get("MLOBS_CATALOG", "mlobs_demo")
TABLE = os.environ.get("MLOBS_TABLE", "features.user_activity_features")
TABLE_URI = f"iceberg://{CATALOG}/{TABLE}"
# pyiceberg's own configuration (~/.pyiceberg.yaml) works too; these fit the demo world
CATALOG_PROPERTIES = {
    "type": "sql",
    "uri": os.environ.get("MLOBS_CATALOG_URI", f"sqlite:///{DEMO_DIR / 'iceberg' / 'catalog.db'}"),
    "warehouse": os.environ.get("MLOBS_WAREHOUSE", (DEMO_DIR / "iceberg" / "warehouse").as_uri()),
}
MODEL = os.environ.get("MLOBS_MODEL", "churn_predictor")
TIME_COLUMN = "feature_timestamp"
THRESHOLD = float(os.environ.get("MLOBS_DRIFT_THRESHOLD", "0.15"))
LINEAGE_DATASET = ("s3://churn-lake", "warehouse/features/user_activity_features")
FEATURES = ["user_session_count_7d", "user_recency_days", "tenure_days", "support_tickets_30d",
            "monthly_spend", "plan"]


def check_drift(data_interval_start=None, data_interval_end=None, ti=None, **_):
    """Branch: ``retrain`` when a feature drifted over the last week, else ``no_drift``."""
    from mlobs_notebook import (
        FeatureDriftDetected,
        check_feature_drift,
        emit_quality_facets,
        log_drift,
    )

    try:
        report = check_feature_drift(
            TABLE_URI,
            baseline=f"models:/{MODEL}@production",
            threshold=THRESHOLD,
            time_column=TIME_COLUMN,
            start=data_interval_end - timedelta(days=7),
            end=data_interval_end,
            columns=FEATURES,
            catalog_properties=CATALOG_PROPERTIES,
            tracking_uri=TRACKING_URI,
        )
        drifted = {}
    except FeatureDriftDetected as exc:
        report, drifted = exc.report, exc.scores
    log_drift(report, model=f"models:/{MODEL}@production", tracking_uri=TRACKING_URI)
    emit_quality_facets(report, LINEAGE_DATASET, threshold=THRESHOLD,
                        job=("churn-airflow", "churn_retraining.check_drift"))
    ti.xcom_push(key="drifted", value=json.dumps(drifted))
    return "retrain" if drifted else "no_drift"


def retrain(data_interval_end=None, **_):
    """Train a candidate on the table's current snapshot and log it with that exact snapshot as
    its training input (so the gate can read it back); returns the run id."""
    import mlflow
    from pyiceberg.catalog import load_catalog

    from mlobs_notebook import IcebergDatasetSource, load_snapshot
    from mlobs_notebook.demo.mlflow_store import (
        LABEL,
        PIP_REQUIREMENTS,
        SKOPS_TRUSTED_TYPES,
        auc,
        train_classifier,
    )

    snapshot = load_catalog(CATALOG, **CATALOG_PROPERTIES).load_table(TABLE).current_snapshot().snapshot_id
    source = IcebergDatasetSource(CATALOG, TABLE, snapshot, CATALOG_PROPERTIES)
    frame = load_snapshot(source.uri, catalog_properties=CATALOG_PROPERTIES).collect()
    holdout = frame.sample(fraction=0.2, seed=7)
    train = frame.join(holdout.select("user_id", TIME_COLUMN), on=["user_id", TIME_COLUMN], how="anti")
    mlflow.set_tracking_uri(TRACKING_URI)
    mlflow.set_experiment("churn_prediction")
    with mlflow.start_run(run_name=f"retrain-{data_interval_end:%Y-%m-%d}") as run:
        model = train_classifier(train, seed=7)
        dataset = mlflow.data.from_pandas(frame.to_pandas(), source=source,
                                          name="user_activity_features", targets=LABEL)
        mlflow.log_input(dataset, context="training")
        mlflow.log_metric("auc", auc(model, holdout))
        mlflow.sklearn.log_model(model, name="model", pip_requirements=PIP_REQUIREMENTS,
                                 skops_trusted_types=SKOPS_TRUSTED_TYPES)
    return run.info.run_id


def gate(ti=None, **_):
    """Promote the candidate to @staging, or fail the task with every failed check and its figure."""
    from mlobs_notebook import promote

    run_id = ti.xcom_pull(task_ids="retrain")
    result = promote(run_id, MODEL, metric="auc", min_value=0.70, alias="staging",
                     max_psi=0.25, no_regression=True, tracking_uri=TRACKING_URI)
    if not result.passed:
        raise RuntimeError(result.summary() + "\n" + "\n".join(c.line() for c in result.failures))
    return result.version


with DAG(
    dag_id="churn_retraining",
    description="Drift check -> retrain -> promotion gate for churn_predictor",
    schedule="@daily",
    start_date=datetime(2026, 6, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["mlobs", "churn"],
) as dag:
    drift = BranchPythonOperator(task_id="check_drift", python_callable=check_drift)
    no_drift = EmptyOperator(task_id="no_drift")
    retrain_task = PythonOperator(task_id="retrain", python_callable=retrain)
    gate_task = PythonOperator(task_id="gate", python_callable=gate)
    drift >> [retrain_task, no_drift]
    retrain_task >> gate_task
