"""investigate() end to end on real stores: the demo's scenarios and worlds of our own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from investigation_worlds import FRAUD, LOANS, build

import mlobs_notebook
from mlobs_notebook.investigation import investigate

SCHEMA = json.loads((Path(mlobs_notebook.__file__).parent / "schemas" / "investigation.schema.json").read_text())


@pytest.fixture(scope="session")
def demo_investigation(demo_world):
    m = demo_world
    return investigate(m.model, None, m.lineage_file, tracking_uri=m.tracking_uri,
                       time_column=m.time_column, metric=m.metric)


def test_pipeline_bug_on_the_demo(demo_world, demo_investigation):
    inv = demo_investigation
    assert inv.verdict == demo_world.expected_verdict == "pipeline_bug"
    assert inv.drifted_features[0].feature == "user_session_count_7d"
    assert [o.feature for o in inv.drifted_features] == demo_world.drifted_features
    first = inv.diagnosis.suspects[0]
    assert first.job == demo_world.suspect_job
    assert first.event_time.date().isoformat() == demo_world.incident_date
    assert "INTERVAL '1' DAY" in first.diff and "INTERVAL '7' DAY" in first.diff
    assert abs(inv.lead_days - demo_world.label_delay_days) <= 1
    assert inv.snapshot_check.matches
    # the billing change reaches the feature table only at dataset level, and is ruled out
    assert all("billing" not in s.job for s in inv.diagnosis.suspects)
    assert any("billing_daily.aggregate_billing also changed" in e for e in inv.diagnosis.evidence)


def test_json_matches_the_contract(demo_investigation):
    payload = json.loads(demo_investigation.to_json())
    jsonschema.validate(payload, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert payload["verdict"] == "pipeline_bug"
    assert payload["model"]["version"] == demo_investigation.model.version


def test_schema_rejects_a_broken_payload(demo_investigation):
    payload = json.loads(demo_investigation.to_json())
    payload["verdict"] = "probably_fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, SCHEMA)


@pytest.mark.parametrize("scenario", ["data_drift", "model_drift", "healthy"])
def test_every_demo_scenario_earns_its_verdict(scenario, scenario_worlds):
    m = scenario_worlds[1][scenario]
    inv = investigate(m.model, None, m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column)
    assert inv.verdict == m.expected_verdict, inv.diagnosis.evidence
    assert [o.feature for o in inv.drifted_features] == m.drifted_features or scenario == "healthy"


@pytest.mark.parametrize("spec", [FRAUD, LOANS], ids=lambda s: s.name)
def test_worlds_of_our_own(spec, tmp_path, empty_store):
    world = build(spec, tmp_path / spec.name, empty_store)
    inv = investigate(
        world.model, world.current, world.lineage, alias=world.alias, tracking_uri=world.tracking_uri,
        metric=spec.metric, eval_filter="tags.stage = 'live'", time_column="event_time",
        lineage_dataset=world.lineage_dataset,
    )
    assert inv.verdict == spec.scenario, inv.diagnosis.evidence
    assert inv.features == spec.features  # from the model's signature, not the label or time
    assert inv.drifted_features[0].feature == spec.drifting
    onset = inv.drifted_features[0].onset
    assert abs((onset.date() - world.incident_date).days) <= 2
    if spec.scenario == "pipeline_bug":
        suspect = inv.diagnosis.suspects[0]
        assert suspect.job == spec.jobs[0] and "schema" in suspect.kinds
        assert suspect.event_time.date() == world.incident_date
        assert abs(inv.lead_days - spec.label_delay) <= 1
    else:
        assert inv.diagnosis.suspects == ()


def test_cli_json_on_the_demo_and_bad_input(demo_world, tmp_path):
    report = tmp_path / "postmortem.html"
    out = subprocess.run(
        [sys.executable, "-m", "mlobs_notebook.cli", "investigate", "--demo", demo_world.path,
         "--format", "json", "--out", str(report), "--progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    # progress on stderr (not a terminal: a line per update), the drift step counting its columns
    counts = re.findall(r"drift: (\d+)/(\d+) columns, (\d+) windows", out.stderr)
    assert counts[0][0] == "0" and counts[-1][0] == counts[-1][1] != "0" and int(counts[-1][2]) > 1, out.stderr
    bar = [line for line in out.stderr.splitlines() if line.startswith("Investigating")]
    assert bar and "100%" in bar[-1], out.stderr
    payload = json.loads(out.stdout)
    jsonschema.validate(payload, SCHEMA)
    assert payload["verdict"] == "pipeline_bug" and payload["report"] == str(report)
    assert report.stat().st_size > 100_000  # plotly.js is inside
    bad = subprocess.run(
        [sys.executable, "-m", "mlobs_notebook.cli", "investigate", "--tracking-uri", demo_world.tracking_uri,
         "--model", "churn_predicter", "--time-column", "feature_timestamp"],
        capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 2
    assert "churn_predicter" in bad.stderr and "churn_predictor" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_html_report_is_self_contained_and_escapes_user_strings(demo_investigation, tmp_path):
    import dataclasses

    from mlobs_notebook.diagnose import Suspect

    inv = demo_investigation
    evil = "<script>alert('x')</script>"
    s = inv.diagnosis.suspects[0]
    tampered_suspect = Suspect(job=f"job{evil}", run_id=s.run_id, event_time=s.event_time, kinds=s.kinds,
                               features=(f"col{evil}",), column_level=True, distance=1,
                               hours_from_onset=1.0, details=(evil,), diff=evil)
    diagnosis = dataclasses.replace(inv.diagnosis, suspects=(tampered_suspect,), evidence=(f"column col{evil} drifted",))
    tampered = dataclasses.replace(inv, diagnosis=diagnosis, features=(f"col{evil}", *inv.features))
    page = tampered.to_html()
    assert evil not in page
    assert re.search(r"&lt;script&gt;alert\((&#x27;|&#39;)x(&#x27;|&#39;)\)&lt;/script&gt;", page)
    assert page.count("<script") >= 1  # plotly's own scripts remain
    markdown = tampered.to_markdown()
    # outside code fences every user string is escaped; inside one (the SQL diff) the fence is
    # the escaping, and renderers show it as text
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    assert evil not in prose and "&lt;script&gt;alert('x')&lt;/script&gt;" in prose
    # Markdown is not HTML: quotes stay quotes, no entity a reader would see as "&#x27;"
    assert "&#" not in markdown and "&quot;" not in markdown
    assert "'production'" in inv.to_markdown()  # the evaluation filter, as written
    assert f"```diff\n{evil}\n```" in markdown
    path = tampered.write(str(tmp_path / "pm.md"))
    assert Path(path).read_text() == tampered.to_markdown(figures_dir="pm_figures")
    assert sorted(p.name for p in (tmp_path / "pm_figures").iterdir()) == ["histogram_0.svg", "timeline_0.svg"]


def test_write_refuses_other_extensions_and_leaves_nothing(demo_investigation, tmp_path):
    from mlobs_notebook.errors import InputError, OutputUnwritable

    with pytest.raises(InputError, match=".html or .md"):
        demo_investigation.write(str(tmp_path / "pm.pdf"))
    with pytest.raises(OutputUnwritable, match="does not exist"):
        demo_investigation.write(str(tmp_path / "missing" / "pm.html"))
    assert list(tmp_path.iterdir()) == []


def test_learned_thresholds_on_the_demo(demo_world):
    m = demo_world
    inv = investigate(m.model, None, m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column,
                      metric=m.metric, thresholds="learned")  # fmt: skip
    used = inv.drift.thresholds
    learned = used.filter(used["source"] == "learned")
    assert learned.height and set(learned["baseline_windows"]) != {0}  # the training data's own days
    assert any("thresholds learned from" in note for note in inv.drift.notes)
    assert inv.verdict == "pipeline_bug"
    # every statistic judges under learned thresholds: more features may drift, the incident's too
    assert "user_session_count_7d" in [o.feature for o in inv.drifted_features]
