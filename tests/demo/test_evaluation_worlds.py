"""The demo's two other ways of logging the metric (``mlobs demo --evaluations``): evaluation runs
logged at once by a backfill and dated by a tag, and a predictions log instead of evaluation runs.
Both worlds keep the pipeline_bug story and earn its verdict through the flags that read them."""

from __future__ import annotations

import json

import polars as pl
import pytest

from mlobs_notebook.cli import main
from mlobs_notebook.demo import build_world

DAYS, ROWS = 40, 1_500


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluation-worlds")
    return {kind: build_world(root / kind, days=DAYS, rows_per_day=ROWS, evaluations=kind)
            for kind in ("tagged", "predictions")}


def _investigate(capsys, *args: str) -> dict:
    assert main(["investigate", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_backfilled_evaluations_dated_by_their_tag(worlds, capsys):
    m = worlds["tagged"]
    assert m.date_from == "tags.eval_date" and m.predictions_file is None
    from mlflow.tracking import MlflowClient

    runs = MlflowClient(m.tracking_uri).search_runs([MlflowClient(m.tracking_uri).get_experiment_by_name(m.experiment).experiment_id],
                                                    "tags.env = 'production'")
    assert len({r.info.start_time // 86_400_000 for r in runs}) <= 2  # all logged now, by the fluent API
    payload = _investigate(capsys, "--demo", m.path)  # the manifest names --date-from
    assert payload["verdict"] == m.expected_verdict == "pipeline_bug"
    assert payload["metric"]["source"]["date_from"] == "tags.eval_date"
    assert payload["suspects"][0]["job"] == m.suspect_job
    # read by start time, the same runs cannot carry a verdict, and the tag is named
    by_start = _investigate(capsys, "--demo", m.path, "--date-from", "start_time")
    assert by_start["verdict"] == "inconclusive"
    assert by_start["inconclusive"]["flag"] == "--date-from tags.eval_date"


def test_a_predictions_log_instead_of_evaluation_runs(worlds, capsys):
    m = worlds["predictions"]
    log = pl.read_parquet(m.predictions_file)
    assert {m.prediction_column, m.label_column, m.time_column} <= set(log.columns)
    last = log[m.time_column].max()
    late = log.filter(pl.col(m.time_column) > last - pl.duration(days=m.label_delay_days - 1))
    assert late[m.label_column].null_count() == late.height > 0  # the newest labels have not arrived
    payload = _investigate(capsys, "--demo", m.path)
    assert payload["verdict"] == "pipeline_bug" and payload["suspects"][0]["job"] == m.suspect_job
    source = payload["metric"]["source"]
    assert source["kind"] == "predictions" and source["labelled_rows"] == log[m.label_column].count()
    assert all(row["labelled_rows"] == ROWS for row in payload["metric"]["series"])
    # the same, flag by flag, as a user who never saw the manifest would type it
    flags = _investigate(capsys, "--tracking-uri", m.tracking_uri, "--model", m.model, "--time-column", m.time_column,
                         "--lineage", m.lineage_file, "--predictions", m.predictions_file,
                         "--prediction-column", m.prediction_column, "--label-column", m.label_column)
    assert flags["verdict"] == "pipeline_bug" and flags["metric"]["series"] == payload["metric"]["series"]
