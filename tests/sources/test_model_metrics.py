"""MLflow 3 metrics on the LoggedModel: what ``mlflow.models.evaluate`` logs for a
``models:/m-...`` model, read as a series without any run filter."""

from __future__ import annotations

import warnings

import pytest
import store_worlds as w

from mlobs_notebook.sources.model_metrics import logged_model_points
from mlobs_notebook.sources.models import load_production_model


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, empty_store):
    """Two days evaluated with mlflow.models.evaluate in runs that start now, each tagged with
    the day it evaluated; and a validation metric the training run logged on the model."""
    from sklearn.metrics import roc_auc_score

    store = w.new_store(tmp_path_factory.mktemp("evaluate"), "evaluate", empty_store)
    model = w.fit()
    w.train_and_register(store, model)
    days = w.CURRENT[w.TIME].dt.date.unique()[:2]
    expected = {}
    with w.fluent(store) as mlflow:
        mlflow.log_metric("roc_auc", 0.99, model_id=store.model_id, run_id=store.training_run_id)
        for day in days:
            rows = w.CURRENT[w.CURRENT[w.TIME].dt.date == day]
            with mlflow.start_run(tags={"eval_date": str(day)}), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mlflow.models.evaluate(f"models:/{store.model_id}", rows[[*w.FEATURES, w.LABEL]],
                                       targets=w.LABEL, model_type="classifier", evaluators=["default"])
            expected[str(day)] = roc_auc_score(rows[w.LABEL], model.predict_proba(rows[w.FEATURES])[:, 1])
    return store, expected


def test_evaluate_results_are_the_models_roc_auc_asked_as_auc(evaluated):
    store, expected = evaluated
    record = load_production_model(w.MODEL, tracking_uri=store.uri)
    points, source = logged_model_points(record, "auc", "tags.eval_date")
    assert source.kind == "logged_model" and source.metric == "roc_auc"
    assert "'auc' was not logged; 'roc_auc' is its other name" in source.description
    assert source.notes == ("1 value(s) logged by the training run itself were left out",)
    got = {}
    for t, v in points.select("time", "value").iter_rows():
        got.setdefault(t.date().isoformat(), set()).add(round(v, 12))
    assert got == {day: {round(v, 12)} for day, v in expected.items()}


def test_a_model_without_the_metric_gives_nothing(evaluated):
    store, _ = evaluated
    record = load_production_model(w.MODEL, tracking_uri=store.uri)
    assert logged_model_points(record, "rmse") is None
