"""The first steps of an investigation on the demo world: model -> training data -> now -> metric.

Truth comes from the stores themselves, by another road than the code under test: Iceberg's
per-day snapshots (the demo appends one per day) and MLflow's own client.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from polars.testing import assert_frame_equal

from mlobs_notebook import (
    load_current,
    load_production_model,
    load_snapshot,
    metric_series,
    snapshot_check,
    training_datasets,
)

KEYS = ["user_id", "feature_timestamp"]


def _table_uri(world, snapshot_id: int | None = None) -> str:
    at = f"@{snapshot_id}" if snapshot_id is not None else ""
    return f"iceberg://{world.catalog['name']}/{world.table}{at}"


def _props(world) -> dict:
    return {"type": "sql", "uri": world.catalog["uri"], "warehouse": world.catalog["warehouse"]}


def test_production_model_to_its_exact_training_rows(demo_world):
    model = load_production_model(demo_world.model, tracking_uri=demo_world.tracking_uri)
    assert (model.name, model.version, model.run_id) == (
        demo_world.model, demo_world.model_version, demo_world.training_run_id)
    [dataset] = training_datasets(model)
    assert dataset.context == "training"
    assert dataset.source.uri == demo_world.training_source_uri
    assert dataset.source.snapshot_id == demo_world.training_snapshot_id

    rows = load_snapshot(dataset).collect()
    # count: what MLflow profiled at training time, and every day up to the training day
    training_day = date.fromisoformat(demo_world.training_date)
    days = (training_day - date.fromisoformat(demo_world.start_date)).days + 1
    assert rows.height == dataset.profile["num_rows"] == days * demo_world.rows_per_day
    assert rows["feature_timestamp"].dt.date().max() == training_day
    # content: MLflow's own digest of the training frame, recomputed from the snapshot
    check = snapshot_check(dataset)
    assert check.matches, check.message
    # and the same rows as the newest table holds for those days (the table only grew since)
    newest = load_current(_table_uri(demo_world), catalog_properties=_props(demo_world))
    same_days = newest.filter(pl.col("feature_timestamp").dt.date() <= training_day).collect()
    assert_frame_equal(rows.sort(KEYS), same_days.sort(KEYS))


def test_load_current_last_30_days_is_what_those_days_appended(demo_world):
    last_day = max(date.fromisoformat(d) for d in demo_world.snapshots)
    start = last_day - timedelta(days=29)
    window = load_current(
        _table_uri(demo_world, demo_world.training_snapshot_id), demo_world.time_column,
        start=start, end=last_day + timedelta(days=1), catalog_properties=_props(demo_world),
    )
    assert isinstance(window, pl.LazyFrame)
    got = window.collect()
    # the demo appends one snapshot per day: the window's rows are exactly those appended after
    # the snapshot of the day before the window
    before = load_snapshot(_table_uri(demo_world, demo_world.snapshots[str(start - timedelta(days=1))]),
                           catalog_properties=_props(demo_world)).collect()
    everything = load_current(_table_uri(demo_world), catalog_properties=_props(demo_world)).collect()
    appended = everything.join(before.select(KEYS), on=KEYS, how="anti")
    assert_frame_equal(got.sort(KEYS), appended.sort(KEYS))
    assert sorted(set(got["feature_timestamp"].dt.date())) == [start + timedelta(days=i) for i in range(30)]


def test_metric_series_one_auc_per_evaluation_day(demo_world):
    from mlflow.tracking import MlflowClient

    series = metric_series(demo_world.model, metric=demo_world.metric,
                           filter_string=demo_world.eval_filter, tracking_uri=demo_world.tracking_uri)
    client = MlflowClient(demo_world.tracking_uri)
    experiment = client.get_experiment_by_name(demo_world.experiment)
    runs = client.search_runs([experiment.experiment_id], demo_world.eval_filter, max_results=50_000)
    by_day = {r.data.tags["evaluation_date"]: r for r in runs}
    assert len(by_day) == len(runs)  # the demo evaluates once a day
    assert series.height == len(by_day) > 0
    assert series["window_start"].is_unique().all()
    for start, value, run_id, points in series.iter_rows():
        assert points == 1
        run = by_day[start.date().isoformat()]
        assert run_id == run.info.run_id
        assert value == run.data.metrics[demo_world.metric]
