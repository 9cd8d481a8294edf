"""Reading an LLM app's MLflow traces into one row per trace, on the rag_assistant demo worlds
(real traces written by MLflow's tracing, real assessments): the SQL path and MLflow's API give
identical frames, the features agree with what the spans hold, scopes narrow the traces, and bad
input is named."""

from __future__ import annotations

import shutil
import sqlite3

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlobs_notebook.errors import ExperimentNotFound, InputError, NoTraces
from mlobs_notebook.sources.assessments import latest_feedback, metric_series
from mlobs_notebook.sources.traces import read_traces

ATTRIBUTE = "rag_assistant:query.product"


@pytest.fixture(scope="module")
def world(rag_worlds):
    return rag_worlds[1]["rag_index_bug"]


@pytest.fixture(scope="module")
def by_sql(world):
    return read_traces(world.experiment, tracking_uri=world.tracking_uri, span_attributes=[ATTRIBUTE], method="sql")


@pytest.fixture(scope="module")
def by_api(world):
    return read_traces(world.experiment, tracking_uri=world.tracking_uri, span_attributes=[ATTRIBUTE], method="api")


def _same(a, b):
    assert_frame_equal(a.features, b.features)
    assert_frame_equal(a.assessments.sort("assessment_id"), b.assessments.sort("assessment_id"))


def test_sql_and_the_api_read_identical_frames(by_sql, by_api, world):
    assert (by_sql.method, by_api.method) == ("sql", "api")
    assert len(by_sql) == world.traces + 2 * 30  # production traffic and the acceptance run's traces
    _same(by_sql, by_api)
    assert by_sql.span_names == by_api.span_names == ("generate", "retrieve")


def test_auto_takes_sql_on_a_local_sqlite_store(world, by_sql):
    auto = read_traces(world.experiment, tracking_uri=world.tracking_uri, span_attributes=[ATTRIBUTE])
    assert auto.method == "sql"
    _same(auto, by_sql)


def test_features_are_what_the_spans_hold(world, by_sql):
    """Checked against MLflow's own Trace objects, trace by trace (get_trace, not our readers)."""
    from mlflow import MlflowClient

    client = MlflowClient(world.tracking_uri)
    sample = by_sql.features.filter(pl.col("error").not_()).gather_every(97)
    assert sample.height >= 5
    for row in sample.iter_rows(named=True):
        trace = client.get_trace(row["trace_id"])
        retriever = next(s for s in trace.data.spans if s.span_type == "RETRIEVER")
        docs = retriever.outputs
        scores = [d["metadata"]["score"] for d in docs]
        root = next(s for s in trace.data.spans if s.parent_id is None)
        llm = next(s for s in trace.data.spans if s.span_type == "LLM")
        assert row["documents_retrieved"] == len(docs)
        assert row["context_length"] == sum(len(d["page_content"]) for d in docs)
        assert row["retrieval_top_score"] == (max(scores) if scores else None)
        assert row["request_length"] == len(root.inputs["question"])
        assert row["response_length"] == len(root.outputs)
        assert row["prompt_tokens"] == trace.info.token_usage["input_tokens"]
        assert row["model_name"] == llm.get_attribute("mlflow.llm.model")
        assert row["query.product"] == root.get_attribute("query.product")
        assert row["latency_ms.retrieve"] == pytest.approx((retriever.end_time_ns - retriever.start_time_ns) / 1e6)
        assert row["model_id"] == trace.info.trace_metadata["mlflow.modelId"]


def test_errors_and_assessments(by_sql):
    errors = by_sql.features.filter(pl.col("error"))
    assert errors.height > 0 and set(errors["state"]) == {"ERROR"}
    production = by_sql.where(pl.col("source_run").is_null())
    scored = latest_feedback(production)
    # the nightly checks score every answered trace (the errors have no answer to score)
    faithful = scored.filter(pl.col("name") == "faithfulness")
    assert faithful.height == production.features.filter(~pl.col("error")).height
    assert faithful["value"].is_between(0, 1).all()
    thumbs = scored.filter(pl.col("name") == "thumbs_up")
    assert set(thumbs["value"].unique()) <= {0.0, 1.0}


def test_scopes_run_model_and_time_range(world, by_sql):
    run = read_traces(world.acceptance_run_id, tracking_uri=world.tracking_uri, method="sql")
    assert len(run) == 60 and set(run.features["source_run"]) == {world.acceptance_run_id}
    assert run.scope.run_id == world.acceptance_run_id
    model_id = world.app_versions[0]["model_id"]
    model = read_traces(f"models:/{model_id}", tracking_uri=world.tracking_uri, method="sql")
    assert len(model) == len(by_sql)  # one app version served every trace
    day = read_traces(world.experiment, tracking_uri=world.tracking_uri, start="2026-06-03", end="2026-06-04")
    expected = by_sql.features.filter(pl.col("request_time").dt.date().is_between(pl.date(2026, 6, 3), pl.date(2026, 6, 4)))
    assert day.features["trace_id"].to_list() == expected["trace_id"].to_list() and len(day) == 60
    for scope in (world.acceptance_run_id, f"models:/{model_id}"):
        api = read_traces(scope, tracking_uri=world.tracking_uri, method="api", start="2026-05-31", end="2026-06-02")
        sql = read_traces(scope, tracking_uri=world.tracking_uri, method="sql", start="2026-05-31", end="2026-06-02")
        _same(sql, api)


def test_a_missing_attribute_is_a_note_not_a_failure(world):
    data = read_traces(world.experiment, tracking_uri=world.tracking_uri, method="sql",
                       span_attributes=[ATTRIBUTE, "RETRIEVER:retriever.top_k"], end="2026-06-01")
    assert "query.product" in data.features.columns and "retriever.top_k" not in data.features.columns
    assert any("RETRIEVER:retriever.top_k" in n and "none of the" in n for n in data.notes)


def test_a_bad_attribute_name_is_refused():
    with pytest.raises(InputError, match="SPAN:KEY"):
        read_traces("x", span_attributes=['span:"quoted"'], tracking_uri="sqlite:////nonexistent/mlflow.db")
    for clash in (["a:topic", "b:topic"], ["RETRIEVER:error"]):
        with pytest.raises(InputError, match="name a column twice or take a feature's name"):
            read_traces("x", span_attributes=clash, tracking_uri="sqlite:////nonexistent/mlflow.db")


@pytest.fixture
def store_copy(world, tmp_path):
    shutil.copyfile(f"{world.path}/mlflow.db", tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_an_experiment_without_traces_is_named(store_copy):
    from mlflow import MlflowClient

    MlflowClient(store_copy).create_experiment("support_bot_staging")
    with pytest.raises(NoTraces, match="no traces in experiment 'support_bot_staging'"):
        read_traces("support_bot_staging", tracking_uri=store_copy)


def test_an_unknown_source_lists_the_experiments(store_copy):
    with pytest.raises(ExperimentNotFound, match="rag_assistant"):
        read_traces("support_bot", tracking_uri=store_copy)


def test_an_overridden_feedback_counts_with_its_new_value(store_copy, world):
    """mlflow.override_feedback marks the old assessment invalid: both readers take the new one."""
    import mlflow

    trace_id = read_traces(world.experiment, tracking_uri=store_copy, end="2026-06-01").features["trace_id"][5]
    mlflow.set_tracking_uri(store_copy)
    try:
        old = next(a for a in mlflow.get_trace(trace_id).info.assessments if a.name == "faithfulness")
        mlflow.override_feedback(trace_id=trace_id, assessment_id=old.assessment_id, value=0.123)
    finally:
        mlflow.set_tracking_uri(None)
    for method in ("sql", "api"):
        data = read_traces(world.experiment, tracking_uri=store_copy, end="2026-06-01", method=method)
        mine = latest_feedback(data).filter((pl.col("trace_id") == trace_id) & (pl.col("name") == "faithfulness"))
        assert mine["value"].to_list() == [0.123], method


def test_sql_names_why_it_cannot_read_a_store_it_does_not_know(store_copy, world):
    path = store_copy.removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        con.execute("ALTER TABLE spans RENAME COLUMN content TO payload")
    with pytest.raises(InputError, match="spans table lacks content"):
        read_traces(world.experiment, tracking_uri=store_copy, method="sql")


def test_trace_level_metrics_against_numpy(by_sql):
    import numpy as np

    for metric in ("error_rate", "latency_p95"):
        series, _ = metric_series(by_sql, metric, "1d")
        frame = by_sql.features.with_columns(pl.col("request_time").dt.truncate("1d").alias("day"))
        for row in series.head(5).iter_rows(named=True):
            day = frame.filter(pl.col("day") == row["window_start"])
            values = day["error"].cast(pl.Float64).to_numpy() if metric == "error_rate" else day["latency_ms"].to_numpy()
            expected = values.mean() if metric == "error_rate" else np.percentile(values, 95)
            assert row["value"] == pytest.approx(expected) and row["points"] == day.height
