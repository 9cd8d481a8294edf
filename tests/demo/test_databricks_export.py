"""The demo world exported as Databricks tables (``mlobs demo --export-databricks``) and
investigated from them: the monitor-shaped drift, the system-table lineage and the InferenceLog
quality series each give the same verdict and the same suspect run as the OpenLineage path."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import polars as pl
import pytest
from investigation_cache import demo_investigation
from polars.testing import assert_frame_equal

import mlobs_notebook
from mlobs_notebook.cli import main
from mlobs_notebook.demo.databricks import DatabricksExport, export_databricks
from mlobs_notebook.errors import OutputUnwritable
from mlobs_notebook.lineage import DatasetRef, load_lineage
from mlobs_notebook.sources.monitor_drift import read_drift_metrics


@pytest.fixture(scope="module")
def exported(demo_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("databricks") / "export"
    export_databricks(demo_world, demo_investigation(demo_world), out)
    return DatabricksExport.load(out)


@pytest.fixture(scope="module")
def reference(demo_world):
    inv = demo_investigation(demo_world)
    assert inv.verdict == "pipeline_bug" and inv.diagnosis.suspects
    return inv


SCHEMA = json.loads((Path(mlobs_notebook.__file__).parent / "schemas" / "investigation.schema.json").read_text())


def _investigate(demo_world, capsys, *flags: str) -> dict:
    capsys.readouterr()
    assert main(["investigate", "--demo", demo_world.path, *flags, "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    jsonschema.validate(payload, SCHEMA, format_checker=jsonschema.FormatChecker())
    return payload


def _suspect(payload: dict) -> tuple[str, str, str]:
    first = payload["suspects"][0]
    return first["job"], first["run_id"], first["event_time"]


def test_monitor_drift_gives_the_same_verdict_and_suspect(demo_world, exported, reference, capsys):
    out = _investigate(demo_world, capsys, "--drift-metrics", exported.drift_metrics)
    s = reference.diagnosis.suspects[0]
    assert out["verdict"] == reference.verdict
    assert _suspect(out) == (s.job, s.run_id, s.event_time.isoformat())
    assert [d["feature"] for d in out["drifted_features"]] == [o.feature for o in reference.diagnosis.drifted]
    assert any("Databricks drift metrics table" in n for n in out["notes"])


def test_system_table_lineage_gives_the_same_verdict_and_suspect_run(demo_world, exported, reference, capsys):
    out = _investigate(demo_world, capsys, "--lineage", exported.system_tables)
    s = reference.diagnosis.suspects[0]
    assert out["verdict"] == reference.verdict
    assert _suspect(out) == (s.job, exported.run_ids[s.run_id], s.event_time.isoformat())


def test_everything_from_databricks_tables(demo_world, exported, reference, capsys):
    out = _investigate(demo_world, capsys, "--drift-metrics", exported.drift_metrics, "--profile-metrics",
                       exported.quality_metrics, "--lineage", exported.system_tables)  # fmt: skip
    s = reference.diagnosis.suspects[0]
    assert out["verdict"] == reference.verdict
    assert _suspect(out) == (s.job, exported.run_ids[s.run_id], s.event_time.isoformat())
    assert out["metric"]["drop_start"] == reference.drop.onset.isoformat()


def test_the_drift_reads_back_with_the_same_values(exported, reference):
    back = read_drift_metrics(exported.drift_metrics, profile_metrics=exported.profile_metrics)
    keys = ["window_start", "column_name", "kind", "drift_type", "count", "count_delta", "population_stability_index",
            "js_distance", "ks_statistic", "ks_pvalue", "wasserstein_distance", "chi_squared_pvalue", "tv_distance",
            "l_infinity_distance", "drifted", "status"]  # fmt: skip
    order = ["column_name", "drift_type", "window_start"]
    assert_frame_equal(reference.drift.table.select(keys).sort(order), back.table.select(keys).sort(order), check_exact=True)


def test_system_tables_answer_upstream_and_changes_as_openlineage(demo_world, exported):
    ol = load_lineage(demo_world.lineage_file)
    uc = load_lineage(exported.system_tables)
    assert uc.problems == ()
    target = DatasetRef(**demo_world.lineage_dataset)
    assert uc.match_dataset(demo_world.training_source_uri) == target == ol.match_dataset(demo_world.training_source_uri)
    for column in (None, "user_session_count_7d", "monthly_spend"):
        a, b = ol.upstream(target, column=column), uc.upstream(target, column=column)
        assert {j.name for j in a.jobs} == {j.name for j in b.jobs}
        assert a.column_level == b.column_level and len(a.datasets) == len(b.datasets)
    since = f"{demo_world.training_date}"
    for column in (None, "user_session_count_7d"):
        mine = [(c.kind, c.job.name, exported.run_ids[c.run_id], c.event_time, c.distance, c.via_column_lineage)
                for c in ol.changes(target, column=column, since=since) if c.kind in ("job_definition", "failure")]  # fmt: skip
        theirs = [(c.kind, c.job.name, c.run_id, c.event_time, c.distance, c.via_column_lineage)
                  for c in uc.changes(target, column=column, since=since)]  # fmt: skip
        assert mine == theirs and mine
    assert {c.kind for c in ol.changes(target, since=since)} <= {"job_definition", "failure"}  # nothing only OpenLineage sees


@pytest.mark.slow
def test_the_cli_exports_from_an_existing_world(demo_world, tmp_path, capsys):
    out = tmp_path / "dbx"
    assert main(["demo", "--out", demo_world.path, "--export-databricks", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Using the demo world in {demo_world.path}" in printed
    assert f"mlobs investigate --demo {demo_world.path} --drift-metrics {out}/monitor/user_activity_features_drift_metrics" in printed
    written = DatabricksExport.load(out)
    assert (out / "system" / "lakeflow" / "jobs" / "_delta_log").is_dir()
    assert written.run_ids
    # an export is never written over another without --force, and nothing is left half-written
    assert main(["demo", "--out", demo_world.path, "--export-databricks", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert not list(tmp_path.glob(".dbx.writing-*"))


def test_export_refuses_a_folder_in_use(demo_world, reference, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(OutputUnwritable, match="not an empty folder"):
        export_databricks(demo_world, reference, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_quality_series_is_the_evaluations(exported, reference):
    from mlobs_notebook.sources.monitor_quality import read_quality_series

    series = read_quality_series(exported.quality_metrics, "auc")
    assert series.column == "roc_auc_score"
    mine = reference.metric.select(pl.col("window_start").dt.convert_time_zone("UTC"), "value")
    theirs = series.points.select(pl.col("time").alias("window_start"), "value")
    assert_frame_equal(mine, theirs)
    one_model = read_quality_series(exported.quality_metrics, "auc", model_id="1")
    assert one_model.points.height == series.points.height


def test_the_python_api_takes_a_report_already_read(demo_world, exported, reference):
    from mlobs_notebook.errors import InputError
    from mlobs_notebook.investigation import investigate

    m = demo_world
    common = {"tracking_uri": m.tracking_uri, "time_column": m.time_column, "metric": m.metric, "eval_filter": m.eval_filter}
    report = read_drift_metrics(exported.drift_metrics, thresholds={"population_stability_index": 0.5})
    inv = investigate(m.model, lineage=m.lineage_file, drift_metrics=report, columns=["user_session_count_7d", "plan"], **common)
    assert inv.features == ("user_session_count_7d", "plan")
    assert inv.snapshot_check is None and any("digest was not rechecked" in n for n in inv.notes)
    assert inv.verdict == "pipeline_bug" and inv.diagnosis.suspects[0].run_id == reference.diagnosis.suspects[0].run_id
    with pytest.raises(InputError, match="user_id are not in the drift metrics table .*; it monitors: "):
        investigate(m.model, drift_metrics=exported.drift_metrics, columns=["user_id"], **common)
