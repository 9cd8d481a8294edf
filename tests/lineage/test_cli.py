"""``mlobs lineage summary|changes`` through the real entry point."""

from __future__ import annotations

import json

from mlobs_notebook.cli import main

from .conftest import LAKE

FEATURES = f"{LAKE}/warehouse/features/user_activity_features"


def test_summary_json_counts_and_problems(tmp_path, capsys, mini_world):
    path = tmp_path / "events.jsonl"
    path.write_text(mini_world.path.read_text() + "{truncated\n")
    assert main(["lineage", "summary", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"events", "runs", "jobs", "datasets", "problems"}
    assert out["events"] == 198 and out["runs"] == 99 and out["jobs"] == 7 and out["datasets"] == 8
    (problem,) = out["problems"]
    assert problem["source"] == str(path) and problem["line"] == 199 and "not valid JSON" in problem["reason"]


def test_changes_json_column_level(capsys, mini_world):
    argv = ["lineage", "changes", str(mini_world.path), "--dataset", FEATURES, "--column", "user_session_count_7d",
            "--since", "2024-03-08", "--until", "2024-03-11", "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [(c["kind"], c["job_name"], c["run_id"]) for c in changes] == [
        ("job_definition", "churn_features_daily.sessionize", mini_world.sessionize_change_run)
    ]
    assert {"job", "run_id", "event_time", "kind", "detail"} <= set(changes[0])
    assert changes[0]["event_time"] == "2024-03-11T03:05:00+00:00"
    assert "INTERVAL '1' DAY" in changes[0]["diff"]


def test_changes_table_and_symlink_name(capsys, mini_world):
    argv = ["lineage", "changes", str(mini_world.path), "--dataset", "iceberg://mlobs_demo/features.user_activity_features",
            "--since", "2024-03-10", "--until", "2024-03-11", "--format", "table"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["event_time", "kind", "job", "run_id", "hops", "detail"]
    assert "billing_daily.aggregate_billing" in out and "failure" in out
    assert "-       count(*) FILTER (WHERE ts > now() - INTERVAL '7' DAY)" in out


def test_bad_input_exits_2_with_one_line(capsys, mini_world, tmp_path):
    assert main(["lineage", "changes", str(mini_world.path), "--dataset", "s3://churn-lake/nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlobs lineage: error: no dataset s3://churn-lake/nope") and err.count("\n") == 1
    assert main(["lineage", "summary", str(tmp_path / "missing.jsonl")]) == 2
    assert "neither a file, a folder" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("nope\n")
    assert main(["lineage", "summary", str(bad), "--strict"]) == 2
    assert f"{bad}:1" in capsys.readouterr().err
