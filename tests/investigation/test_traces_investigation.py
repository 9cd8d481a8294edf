"""Investigating an LLM app from its traces, on the three rag_assistant worlds: each scenario earns
its verdict through ``mlobs demo`` and through ``investigate``, with the evidence its story needs;
the JSON matches the schema; the baseline can be a run or a date range; bad input is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import polars as pl
import pytest

import mlobs_notebook
from mlobs_notebook.cli import main
from mlobs_notebook.errors import InputError, NoTraces
from mlobs_notebook.investigation import investigate

SCHEMA = json.loads((Path(mlobs_notebook.__file__).parent / "schemas" / "investigation.schema.json").read_text())


@pytest.fixture(scope="module")
def investigations(rag_worlds):
    _, worlds, _ = rag_worlds
    return {
        name: investigate(traces=w.experiment, lineage=w.lineage_file, metric=w.metric,
                          tracking_uri=w.tracking_uri, span_attributes=w.span_attributes)
        for name, w in worlds.items()
    }


@pytest.mark.parametrize("scenario", ["rag_index_bug", "rag_topic_shift", "rag_prompt_change"])
def test_mlobs_demo_prints_each_scenarios_verdict(rag_worlds, scenario):
    _, worlds, printed = rag_worlds
    expected = worlds[scenario].expected_verdict
    assert f"Verdict: {expected} (expected for this scenario: {expected})" in printed[scenario]
    assert "Postmortem: " in printed[scenario] and (Path(worlds[scenario].path) / "postmortem.html").exists()


@pytest.mark.parametrize("scenario", ["rag_index_bug", "rag_topic_shift", "rag_prompt_change"])
def test_each_scenario_earns_its_verdict(investigations, rag_worlds, scenario):
    world = rag_worlds[1][scenario]
    inv = investigations[scenario]
    assert inv.verdict == world.expected_verdict
    assert inv.of_traces and inv.metric_name == world.metric
    drifted = {o.feature for o in inv.drifted_features}
    assert set(world.drifted_features) <= drifted
    jsonschema.validate(inv.to_dict(), SCHEMA, format_checker=jsonschema.FormatChecker())


def test_index_bug_names_the_index_build_and_its_diff(investigations, rag_worlds):
    inv, world = investigations["rag_index_bug"], rag_worlds[1]["rag_index_bug"]
    suspect = inv.diagnosis.suspects[0]
    assert suspect.job == world.suspect_job and "job_definition" in suspect.kinds
    assert "+splitter = TokenWindowSplitter(size=6, overlap=0)" in suspect.diff
    assert suspect.event_time.date().isoformat() == world.incident_date
    assert inv.lineage_dataset == f"file/{world.index_dataset['name']}"  # found from gen_ai.data_source.id
    assert inv.drop.onset.date().isoformat() == world.incident_date
    assert "rebuild what it wrote" in inv.diagnosis.recommendation


def test_topic_shift_is_the_users_questions(investigations):
    inv = investigations["rag_topic_shift"]
    first = inv.diagnosis.drifted[0]
    assert first.feature == "query.product" and inv.feature_roles["query.product"] == "input"
    assert any("describes the requests themselves" in e for e in inv.diagnosis.evidence)
    assert inv.diagnosis.suspects == () and inv.app_changes == ()


def test_prompt_change_names_the_versions_and_their_diff(investigations, rag_worlds):
    inv, world = investigations["rag_prompt_change"], rag_worlds[1]["rag_prompt_change"]
    (change,) = inv.app_changes
    v1, v2 = world.app_versions
    assert (change.before_id, change.after_id) == (v1["model_id"], v2["model_id"])
    assert change.at.date().isoformat() == world.incident_date
    assert "prompt rag_answer: version 1 -> 2" in change.changes
    assert "+You are the friendly Acme support assistant" in change.diff
    assert any(v2["name"] in e and v1["name"] in e for e in inv.diagnosis.evidence)
    causes = {f for f, r in inv.feature_roles.items() if r != "app"}
    assert not causes & {o.feature for o in inv.drifted_features}
    text = inv.to_markdown()
    assert "## App versions" in text and "background the customer may like to know" in text
    assert "App versions" in inv.to_html()


def test_the_baseline_is_the_acceptance_run_by_default(investigations, rag_worlds):
    inv, world = investigations["rag_index_bug"], rag_worlds[1]["rag_index_bug"]
    assert inv.dataset.run_id == world.acceptance_run_id and inv.dataset.num_rows == 60
    assert inv.dataset.source.uri == f"runs:/{world.acceptance_run_id}"


def test_a_date_range_or_a_run_as_the_baseline(rag_worlds):
    world = rag_worlds[1]["rag_index_bug"]
    common = {"lineage": world.lineage_file, "metric": world.metric, "tracking_uri": world.tracking_uri,
              "span_attributes": world.span_attributes}
    by_range = investigate(traces=world.experiment, baseline="2026-06-01..2026-06-07", **common)
    assert by_range.verdict == "pipeline_bug" and by_range.dataset.num_rows == 7 * 30
    assert by_range.current_range[0].date().isoformat() == "2026-06-08"
    by_run = investigate(traces=world.experiment, baseline=world.acceptance_run_id, **common)
    assert by_run.verdict == "pipeline_bug" and by_run.dataset.run_id == world.acceptance_run_id
    with pytest.raises(InputError, match="needs an end"):
        investigate(traces=world.experiment, baseline="2026-06-01..", **common)


def test_trace_options_without_traces_are_refused():
    with pytest.raises(InputError, match="pass traces= too"):
        investigate("churn_predictor", time_column="t", span_attributes=["x"])


def test_cli_traces_json_and_errors(rag_worlds, capsys, tmp_path):
    world = rag_worlds[1]["rag_topic_shift"]
    code = main(["investigate", "--traces", world.experiment, "--tracking-uri", world.tracking_uri,
                 "--metric", "relevance", "--span-attribute", "rag_assistant:query.product",
                 "--lineage", world.lineage_file, "--format", "json", "--out", str(tmp_path / "pm.md")])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "data_drift" and payload["source"] == "traces"
    assert (tmp_path / "pm.md").exists()
    code = main(["investigate", "--traces", world.experiment, "--tracking-uri", world.tracking_uri, "--metric", "helpfulness"])
    err = capsys.readouterr().err
    assert code == 2 and "helpfulness" in err and "relevance" in err and len(err.strip().splitlines()) == 1


def test_cli_names_an_experiment_without_traces(rag_worlds, capsys, tmp_path):
    import shutil

    from mlflow import MlflowClient

    world = rag_worlds[1]["rag_topic_shift"]
    shutil.copyfile(f"{world.path}/mlflow.db", tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("assistant_canary")
    code = main(["investigate", "--traces", "assistant_canary", "--tracking-uri", uri])
    err = capsys.readouterr().err
    assert code == 2 and "no traces in experiment 'assistant_canary'" in err
    with pytest.raises(NoTraces, match="assistant_canary"):
        investigate(traces="assistant_canary", tracking_uri=uri)


def test_the_demo_flag_reads_a_rag_world(rag_worlds, capsys):
    world = rag_worlds[1]["rag_prompt_change"]
    assert main(["investigate", "--demo", world.path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Verdict: app_change") and "What changed from" in out


def test_metric_per_window_is_the_mean_of_the_assessed_traces(investigations, rag_worlds):
    """Recomputed from MLflow's own search_traces (the fluent API), independent of our readers."""
    import mlflow

    world = rag_worlds[1]["rag_topic_shift"]
    inv = investigations["rag_topic_shift"]
    day = datetime(2026, 6, 13, tzinfo=UTC)
    lo, hi = int(day.timestamp() * 1000), int((day + timedelta(days=1)).timestamp() * 1000)
    mlflow.set_tracking_uri(world.tracking_uri)
    try:
        found = mlflow.search_traces(locations=[world.experiment_id], include_spans=False, return_type="list",
                                     filter_string=f"trace.timestamp_ms >= {lo} AND trace.timestamp_ms < {hi}")
    finally:
        mlflow.set_tracking_uri(None)
    values = [a.value for t in found for a in t.info.assessments if a.name == "relevance" and a.valid is not False]
    row = inv.metric.filter(pl.col("window_start").dt.date() == pl.date(2026, 6, 13)).row(0, named=True)
    assert row["points"] == len(values) and row["value"] == pytest.approx(sum(values) / len(values))
