"""The harder incident families end to end, on worlds of our own (tests/incident_worlds.py):
other names, pipelines, metrics, label delays and timings than the demo, real stores.

One world per family, built once per session (about 8 s each); the benchmark
(benchmarks/harder_incidents_eval.py) runs twenty more and scores them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from incident_worlds import MOVED, build_incident, investigate_incident, spec_for

import mlobs_notebook

SCHEMA = json.loads((Path(mlobs_notebook.__file__).parent / "schemas" / "investigation.schema.json").read_text())

# family -> (index for names and timings, label delay): each world differs from the others
WORLDS = {
    "join_bug": (0, 4), "join_bug_correlated": (1, 2), "unit_change": (2, 1), "null_flood": (3, 5),
    "stale_data": (4, 3), "segment_break": (5, 2), "gradual_drift": (6, 3), "weekly_seasonality": (7, 1),
    "drift_without_impact": (8, 4), "cosmetic_change": (9, 2), "unrelated_change": (10, 5), "mixed": (11, 3),
}


@pytest.fixture(scope="session")
def incidents(tmp_path_factory, empty_store):
    """Every family's world and its investigation (the user's call: no label delay given)."""
    root = tmp_path_factory.mktemp("incidents")
    out = {}
    for family, (index, delay) in WORLDS.items():
        world = build_incident(spec_for(family, index, delay), root / family, empty_store)
        out[family] = (world, investigate_incident(world))
    return out


@pytest.mark.parametrize("family", sorted(WORLDS))
def test_each_family_earns_its_verdict_culprit_and_lead(family, incidents):
    world, inv = incidents[family]
    spec = world.spec
    assert inv.verdict == spec.expected, inv.diagnosis.evidence
    if world.culprit_run is not None:
        assert inv.diagnosis.suspects[0].run_id == world.culprit_run, inv.diagnosis.evidence
        assert inv.diagnosis.suspects[0].job == world.culprit_job
    if spec.expected == "pipeline_bug" and family not in ("join_bug", "stale_data"):
        assert inv.lead_days == pytest.approx(spec.label_delay, abs=1)  # an abrupt change: labels lag by the delay
    if family in MOVED and spec.expected != "healthy":
        assert spec.features[MOVED[family]] in [o.feature for o in inv.drifted_features]
    assert inv.diagnosis.causes[0].verdict == inv.verdict


def test_a_join_on_a_wrong_key_of_an_uncorrelated_column_is_found_by_timing(incidents):
    world, inv = incidents["join_bug"]
    d = inv.diagnosis
    assert d.drifted == () and (d.joint is None or d.joint.onset is None)
    assert d.suspects[0].aspects == ("join key",) and d.timing_window is not None
    assert inv.secondary == "model_drift" and d.confidence > d.secondary.confidence
    assert inv.lead_days is None
    # told the label delay, the window closes around the predictions the drop judged
    told = investigate_incident(world, label_delay=world.spec.label_delay)
    lo, hi = told.diagnosis.timing_window
    assert told.verdict == "pipeline_bug" and hi - lo < d.timing_window[1] - d.timing_window[0]
    assert lo.date() <= world.incident_date < hi.date()


def test_a_join_on_a_wrong_key_of_a_correlated_column_moves_the_joint_distribution(incidents):
    world, inv = incidents["join_bug_correlated"]
    d = inv.diagnosis
    shuffled = world.spec.features[1]
    assert d.drifted == ()  # every marginal holds
    assert d.joint.onset.date() == world.incident_date and shuffled in d.leaned_on
    assert shuffled in d.suspects[0].features and d.suspects[0].aspects == ("join key",)
    windows = inv.multivariate.table
    before = windows.filter(windows["window_start"].dt.date() < world.incident_date)
    assert not before["drifted"].any() and windows["drifted"].sum() >= 5
    row = next(line for line in inv.to_markdown().replace("\\_", "_").splitlines() if line.startswith("| joint"))
    assert "leaning on" in row and shuffled in row


def test_a_null_flood_names_the_schema_change(incidents):
    world, inv = incidents["null_flood"]
    top = inv.diagnosis.suspects[0]
    renamed = f"raw_{world.spec.features[3]}"
    assert "schema" in top.kinds
    assert any(f"removed {renamed}" in detail and f"added {renamed}_v2" in detail for detail in top.details)


def test_stale_data_names_the_first_failed_run_not_the_nearest(incidents):
    world, inv = incidents["stale_data"]
    top = inv.diagnosis.suspects[0]
    assert top.kinds == ("failure",) and top.run_id == world.culprit_run
    assert top.event_time.date() == world.incident_date
    later = inv.lineage.changes(world.lineage_dataset, since=top.event_time + timedelta(hours=1))
    assert [c.streak_start for c in later if c.kind == "failure"] and all(
        c.streak_start == top.run_id for c in later if c.kind == "failure")


def test_a_segment_break_names_the_slice(incidents):
    world, inv = incidents["segment_break"]
    spec = world.spec
    broken = f"{spec.segment} = '{spec.segment_values[1]}'"
    assert any(f"carried by the slice {broken}" in e for e in inv.diagnosis.evidence)
    findings = inv.slices[spec.features[0]]
    assert findings[0].slice == broken and findings[0].carries and findings[0].current_mean == 0
    assert "filter" in inv.diagnosis.suspects[0].aspects
    page = inv.to_html()
    assert "Beyond one feature at a time" in page and "carried by the slice" in page
    # the same slice asked for as a Databricks slicing expression
    asked = investigate_incident(world, slicing_exprs=[f"{spec.segment} != '{spec.segment_values[1]}'"],
                                 multivariate=False)
    names = [f.slice for f in asked.slices[spec.features[0]]]
    assert f"{spec.segment} != '{spec.segment_values[1]}'" in names


def test_weekly_seasonality_gives_no_onset(incidents):
    world, inv = incidents["weekly_seasonality"]
    assert inv.seasonal and not inv.diagnosis.drifted and inv.diagnosis.warnings == ()
    plain = investigate_incident(world, seasonality=False, multivariate=False)
    assert plain.diagnosis.drifted  # without the weekday baseline, weekends read as drift


def test_drift_without_impact_is_healthy_with_a_warning(incidents):
    world, inv = incidents["drift_without_impact"]
    moved = world.spec.features[3]
    assert any(w.startswith(f"{moved} drifted") for w in inv.diagnosis.warnings)


def test_a_cosmetic_change_beside_a_concept_change_is_not_blamed(incidents):
    world, inv = incidents["cosmetic_change"]
    assert inv.diagnosis.suspects == ()
    assert any(world.spec.job("build") in e and "only cosmetically" in e and "not a cause" in e
               for e in inv.diagnosis.evidence)


def test_an_unrelated_change_is_ruled_out_by_column_lineage(incidents):
    world, inv = incidents["unrelated_change"]
    assert any(f"{world.spec.job('dims')} also changed" in e and "does not connect" in e for e in inv.diagnosis.evidence)


def test_mixed_causes_name_the_bug_and_the_real_drift(incidents):
    world, inv = incidents["mixed"]
    primary, secondary = inv.diagnosis.causes
    assert primary.verdict == "pipeline_bug" and primary.features == (world.spec.features[2],)
    assert secondary.verdict == "data_drift" and secondary.features == (world.spec.features[3],)
    assert primary.confidence > secondary.confidence
    from mlobs_notebook.postmortem import text_summary

    assert (f"Causes: primary: pipeline_bug (confidence 0.9) — {world.spec.features[2]}; "
            f"secondary: data_drift (confidence 0.7) — {world.spec.features[3]}") in text_summary(inv)
    assert "secondary: data\\_drift" in inv.to_markdown() and "secondary: data_drift" in inv.to_html()


def test_the_estimate_from_scores_leads_the_realized_metric_by_the_label_delay(incidents):
    world, inv = incidents["null_flood"]
    assert inv.estimated_metric is not None and inv.estimated_drop.dropped
    assert inv.label_lag_days == pytest.approx(world.spec.label_delay, abs=1)
    assert inv.lead_days_estimated == pytest.approx(0, abs=1)
    # before labels: the estimate covers every window, the realized metric stops label_delay days short
    assert inv.estimated_metric["window_start"].max() > inv.metric["window_start"].max() - timedelta(days=1)


def test_the_cli_reads_the_new_flags_and_its_json_keeps_the_contract(incidents, tmp_path):
    world, _ = incidents["segment_break"]
    out = subprocess.run(
        [sys.executable, "-m", "mlobs_notebook.cli", "investigate", "--tracking-uri", world.tracking_uri,
         "--model", world.model, "--alias", world.alias, "--current", world.current, "--lineage", world.lineage,
         "--lineage-dataset", world.lineage_dataset, "--metric", world.spec.metric,
         "--eval-filter", "tags.stage = 'live'", "--time-column", "event_time", "--score-column", "score",
         "--label-delay", str(world.spec.label_delay), "--slicing-exprs", world.spec.segment, "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    jsonschema.validate(payload, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert payload["verdict"] == "pipeline_bug" and payload["causes"][0]["confidence"] == payload["confidence"]
    assert payload["estimated_metric"]["windows"] and payload["multivariate"]["windows"]
    assert payload["slices"][world.spec.features[0]][0]["carries"]
    assert payload["suspects"][0]["aspects"]
