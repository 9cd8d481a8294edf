"""check_feature_drift, the scheduler's drift check: parquet files, Iceberg snapshots and a model
as baseline; the exception names the drifted features with the report's own scores."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import mlobs_notebook
from mlobs_notebook.actions.drift_check import check_feature_drift, drift_scores
from mlobs_notebook.drift import DriftReport
from mlobs_notebook.errors import FeatureDriftDetected, InputError, UnknownStatistic

pytest_plugins = ["tests.mlflow_fixtures"]

START = datetime(2026, 5, 1)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "airflow_retraining_dag.py"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A baseline and a table of 4 days: 'spend' shifts from day 2 on, 'visits' never does."""
    rng = np.random.default_rng(11)
    root = tmp_path_factory.mktemp("drift-check")
    pl.DataFrame({"spend": rng.gamma(2.0, 10.0, 4000), "visits": rng.poisson(5, 4000) * 1.0,
                  "plan": rng.choice(["free", "pro"], 4000).tolist()}).write_parquet(root / "base.parquet")
    day = np.repeat(np.arange(4), 1000)
    pl.DataFrame({
        "event_time": [START + timedelta(days=int(d), seconds=i) for i, d in enumerate(day)],
        "spend": rng.gamma(2.0, 10.0, 4000) * np.where(day >= 2, 1.8, 1.0),
        "visits": rng.poisson(5, 4000) * 1.0,
        "plan": rng.choice(["free", "pro"], 4000).tolist(),
    }).write_parquet(root / "table.parquet")
    return root / "base.parquet", root / "table.parquet"


def test_drift_raises_naming_features_with_the_reports_scores(files):
    base, table = files
    with pytest.raises(FeatureDriftDetected) as caught:
        check_feature_drift(str(table), baseline=str(base), threshold=0.15, time_column="event_time",
                            granularity="1d")
    exc = caught.value
    assert isinstance(exc.report, DriftReport)
    scores = drift_scores(exc.report)
    assert set(exc.scores) == {c for c, v in scores.items() if v >= 0.15} == {"spend"}
    worst = exc.report.table.filter((pl.col("column_name") == "spend") & (pl.col("drift_type") == "BASELINE"))
    assert exc.scores["spend"] == pytest.approx(worst["population_stability_index"].max())
    assert "spend (" in str(exc) and "0.15" in str(exc)
    assert "event_time" not in set(exc.report.table["column_name"])


def test_quiet_days_return_the_report(files):
    base, table = files
    report = check_feature_drift(str(table), baseline=str(base), time_column="event_time",
                                 start="2026-05-01", end="2026-05-03")
    assert isinstance(report, DriftReport)
    assert report.table["count"].max() == 2000  # the two quiet days, one window
    assert max(drift_scores(report).values()) < 0.15


def test_threshold_is_the_line(files):
    base, table = files
    scores = drift_scores(check_feature_drift(str(table), baseline=str(base), threshold=1e9))
    cut = sorted(scores.values())[-2] + 1e-9  # everything but the worst feature stays under
    with pytest.raises(FeatureDriftDetected) as caught:
        check_feature_drift(str(table), baseline=str(base), threshold=cut)
    assert list(caught.value.scores) == [max(scores, key=scores.get)]


def test_p_value_statistics_drift_below_the_threshold(files):
    base, table = files
    with pytest.raises(FeatureDriftDetected) as caught:
        check_feature_drift(str(table), baseline=str(base), statistic="ks_pvalue", threshold=1e-6,
                            columns=["spend", "visits"])
    assert "spend" in caught.value.scores and all(v < 1e-6 for v in caught.value.scores.values())


def test_iceberg_table_against_the_production_models_training_snapshot(mlflow_world):
    """The table moved on after training (50 new users): the model's own snapshot is the baseline."""
    uri = f"iceberg://{mlflow_world.iceberg_catalog}/{mlflow_world.iceberg_table}"
    by_snapshot = check_feature_drift(
        uri, baseline=f"{uri}@{mlflow_world.iceberg_training_snapshot}", threshold=1e9,
        catalog_properties=mlflow_world.iceberg_properties)
    by_model = check_feature_drift(
        uri, baseline="models:/churn_model@production", threshold=1e9,
        catalog_properties=mlflow_world.iceberg_properties, tracking_uri=mlflow_world.tracking_uri)
    assert drift_scores(by_model) == drift_scores(by_snapshot)
    assert by_model.table["count"].max() == 350
    with pytest.raises(FeatureDriftDetected) as caught:
        check_feature_drift(uri, baseline="models:/churn_model@production", threshold=0.05,
                            catalog_properties=mlflow_world.iceberg_properties,
                            tracking_uri=mlflow_world.tracking_uri)
    assert "user_id" in caught.value.scores


def test_bad_arguments_are_named(files):
    base, table = files
    with pytest.raises(UnknownStatistic, match="population_stability_index"):
        check_feature_drift(str(table), baseline=str(base), statistic="psi")
    with pytest.raises(InputError, match="baseline must be"):
        check_feature_drift(str(table), baseline=42)
    with pytest.raises(InputError, match="threshold must be a number"):
        check_feature_drift(str(table), baseline=str(base), threshold="high")


def test_airflow_example_uses_only_public_names():
    """Runs everywhere: the example parses and every mlobs_notebook name it imports exists."""
    tree = ast.parse(EXAMPLE.read_text())
    names = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "mlobs_notebook" for a in node.names]
    assert {"check_feature_drift", "promote", "log_drift", "emit_quality_facets"} <= set(names)
    for name in names:
        assert name in mlobs_notebook.__all__, name


def test_airflow_example_dag_imports():
    pytest.importorskip(
        "airflow", reason="Apache Airflow is not installed here (it is not a dependency); the DAG "
        "import check runs where Airflow is installed")
    import importlib.util

    spec = importlib.util.spec_from_file_location("airflow_retraining_dag", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == "churn_retraining"
    assert {t.task_id for t in dag.tasks} == {"check_drift", "no_drift", "retrain", "gate"}
    assert dag.get_task("check_drift").downstream_task_ids == {"retrain", "no_drift"}
    assert dag.get_task("retrain").downstream_task_ids == {"gate"}
