"""ModelPicker on a copy of the demo world's MLflow store, with a second model registered."""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from mlobs_notebook.errors import ModelNotFound
from mlobs_notebook.sources.evaluations import metric_series
from mlobs_notebook.widgets import ModelPicker

PLOTLY = "application/vnd.plotly.v1+json"
CHALLENGER = "churn_challenger"


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    challenger_aucs: dict


@pytest.fixture(scope="module")
def store(world, tmp_path_factory):
    """The demo store, copied (the world is read-only), plus a model whose run logged no dataset
    and whose own experiment holds five production evaluations."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("picker")
    shutil.copy(f"{world.path}/mlflow.db", folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("challenger", artifact_location=(folder / "artifacts").as_uri())
    start = datetime(2026, 8, 1, 9, tzinfo=UTC)
    run = client.create_run(experiment, start_time=int(start.timestamp() * 1000))
    client.set_terminated(run.info.run_id)
    client.create_registered_model(CHALLENGER)
    client.create_model_version(CHALLENGER, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(CHALLENGER, "production", "1")
    aucs = {}
    for day in range(5):
        when = start + timedelta(days=day + 1)
        ev = client.create_run(experiment, start_time=int(when.timestamp() * 1000), tags={"env": "production"})
        client.log_metric(ev.info.run_id, "auc", 0.9 - 0.02 * day)
        client.set_terminated(ev.info.run_id)
        aucs[when.date().isoformat()] = 0.9 - 0.02 * day
    return Store(uri, aucs)


def sent(panel):
    """The figure the frontend receives in the panel's output."""
    return panel.displays["metric_series"].data[PLOTLY]


def test_opens_on_the_production_version_with_its_training_snapshot(store, world):
    picker = ModelPicker(store.tracking_uri, world.model)
    assert picker.version.value == "@production"
    assert picker.record.version == world.model_version and picker.record.run_id == world.training_run_id
    assert [d.source.snapshot_id for d in picker.datasets] == [world.training_snapshot_id]
    assert world.training_run_id in picker.displays["info"].data["text/html"]
    assert f"snapshot {world.training_snapshot_id}" in picker.displays["info"].data["text/html"]
    series = metric_series(picker.record, world.metric, world.eval_filter, tracking_uri=store.tracking_uri)
    line = sent(picker)["data"][0]
    assert line["y"] == pytest.approx(series["value"].to_list())
    assert line["customdata"] == series["run_id"].to_list()


def test_changing_the_model_updates_the_series_and_the_facts(store, world):
    picker = ModelPicker(store.tracking_uri, world.model)
    models = tuple(picker.model.options)
    before = copy.deepcopy(sent(picker))
    picker.model.value = CHALLENGER
    line = sent(picker)["data"][0]
    assert [x[:10] for x in line["x"]] == list(store.challenger_aucs)
    assert line["y"] == pytest.approx(list(store.challenger_aucs.values()))
    assert line != before["data"][0]
    assert picker.record.name == CHALLENGER and picker.datasets == []
    assert "logged no dataset inputs" in picker.error and "logged no dataset inputs" in picker.displays["info"].data["text/html"]
    assert tuple(picker.model.options) == models
    assert [v for _, v in picker.version.options] == ["@production", "1"]
    picker.model.value = world.model
    assert sent(picker) == before and picker.error is None


def test_choosing_a_version_by_number_and_a_metric(store, world):
    picker = ModelPicker(store.tracking_uri, world.model)
    picker.version.value = str(world.model_version)
    assert picker.record.version == world.model_version
    picker.metric.value = "no_such_metric"
    assert sent(picker)["data"][0]["y"] == [] and picker.series.height == 0
    assert "no no_such_metric values" in sent(picker)["layout"]["annotations"][-1]["text"]


def test_unknown_model_lists_the_known_ones(store):
    with pytest.raises(ModelNotFound, match=f"Known models: {CHALLENGER}, churn_predictor"):
        ModelPicker(store.tracking_uri, "nope")


def test_static_view_holds_the_facts_and_the_series(store, world):
    picker = ModelPicker(store.tracking_uri, world.model)
    html = picker.to_html()
    assert world.training_run_id in html and f"snapshot {world.training_snapshot_id}" in html
    assert html.count('<script type="application/vnd.mlobs.figure+json">') == 1
    assert repr(picker) == f"<ModelPicker: {world.model} v{world.model_version}, run {world.training_run_id}>"
