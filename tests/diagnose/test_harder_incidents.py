"""The rules for the harder incidents, on plain records: joint drift, a drop with no drift
(timing), cosmetic changes, failures in a row, causes before symptoms, mixed causes, slices and
the estimated metric in the evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from mlobs_notebook.correlate import FeatureOnset, MetricDrop, drift_onsets
from mlobs_notebook.diagnose import HIGH, LOW, MEDIUM, UpstreamChange, diagnose, timing_window

INCIDENT = date(2026, 5, 12)
DELAY = timedelta(days=4)


def _at(days: float, hours: float = 0) -> datetime:
    return datetime(INCIDENT.year, INCIDENT.month, INCIDENT.day, tzinfo=UTC) + timedelta(days=days, hours=hours)


def _onset(feature: str, days: float | None = 0, statistic: str = "population_stability_index") -> FeatureOnset:
    return FeatureOnset(feature, None if days is None else _at(days), 8, 30, 0.8, 0.4, statistic)


def _drop(days: float | None = 4) -> MetricDrop:
    return MetricDrop("roc_auc", 0.84, 0.03, None if days is None else _at(days), 0.7, 0.72, 30, "threshold")


def _change(job: str, days: float, *, kind: str = "job_definition", semantic: bool | None = True,
            aspects: tuple[str, ...] = ("join key",), column: bool = True, distance: int = 1, run: str | None = None,
            **streak) -> UpstreamChange:
    return UpstreamChange(job, run or f"{job}@{days}", _at(days, 2), kind, f"{kind} of {job}", distance, column,
                          semantic=semantic if kind == "job_definition" else None, aspects=aspects, **streak)


def test_timing_window_places_the_drop_back_at_the_predictions_it_judged():
    assert timing_window(_at(4), "1d", DELAY) == (_at(-3), _at(1))
    assert timing_window(_at(4), "1d") == (_at(-3), _at(5))  # unknown delay: up to a week before


def test_a_drop_with_no_drift_and_a_join_key_change_upstream_is_a_pipeline_bug_from_timing():
    join = _change("build", 0)
    d = diagnose([_onset("a", None), _onset("b", None)], _drop(), {}, timing_changes={"b": [join]}, label_delay=DELAY)
    assert d.verdict == "pipeline_bug"
    assert [s.run_id for s in d.suspects] == [join.run_id]
    assert d.suspects[0].aspects == ("join key",)
    assert [c.verdict for c in d.causes] == ["pipeline_bug", "model_drift"]
    assert d.confidence == MEDIUM and d.secondary.confidence == LOW
    assert d.timing_window == timing_window(_at(4), "1d", DELAY)
    assert any("the predictions behind the drop were made" in e for e in d.evidence)


def test_a_drop_with_no_drift_and_only_a_cosmetic_change_is_model_drift():
    cosmetic = _change("build", 0, semantic=False, aspects=())
    far = _change("build", -12)  # a real change, but long before the predictions judged
    d = diagnose([_onset("a", None)], _drop(), {}, timing_changes={"a": [cosmetic, far]}, label_delay=DELAY)
    assert d.verdict == "model_drift" and d.suspects == ()
    assert any("only" not in e and "not a cause" in e for e in d.evidence)
    assert d.confidence == MEDIUM


def test_symptoms_do_not_make_a_timing_only_pipeline_bug():
    volume = _change("ingest", 0, kind="volume")
    once = _change("ingest", 0, kind="failure", streak_runs=1)
    d = diagnose([_onset("a", None)], _drop(), {}, timing_changes={"a": [volume, once]}, label_delay=DELAY)
    assert d.verdict == "model_drift"


def test_cosmetic_changes_are_never_suspects_of_a_drift():
    cosmetic = _change("build", 0, semantic=False, aspects=())
    d = diagnose([_onset("a")], _drop(), {"a": [cosmetic]})
    assert d.verdict == "data_drift"
    assert any("not a cause" in e for e in d.evidence)


def test_joint_drift_stands_in_when_no_feature_drifted_on_its_own():
    joint = _onset("joint distribution", 0, "classifier_auroc")
    join = _change("build", 0)
    d = diagnose([_onset("a", None), _onset("b", None)], _drop(), {"b": [join]}, joint=joint, leaned_on=("b", "a"))
    assert d.verdict == "pipeline_bug" and d.joint == joint and d.leaned_on == ("b", "a")
    assert d.suspects[0].features == ("b",)
    assert any("joint distribution did" in e and "leaning on b, a" in e for e in d.evidence)
    assert len(d.causes) == 1  # the leaned-on feature with no change is not a second cause
    alone = diagnose([_onset("a", None)], _drop(), {}, joint=joint, leaned_on=("a",))
    assert alone.verdict == "data_drift"
    healthy = diagnose([_onset("a", None)], _drop(None), {}, joint=joint, leaned_on=("a",))
    assert healthy.verdict == "healthy" and any("joint distribution drifted" in w for w in healthy.warnings)


def test_a_streak_of_failures_is_suspected_as_its_first_failed_run():
    first = _at(-3, 2)
    streak = [_change("ingest", day, kind="failure", streak_start="ingest@first", streak_since=first, streak_runs=n)
              for n, day in ((3, -1), (4, 0), (5, 1))]
    volume = _change("aggregate", 0, kind="volume", distance=1)
    d = diagnose([_onset("count", 1)], _drop(5), {"count": [*streak, volume]})
    assert d.verdict == "pipeline_bug"
    top = d.suspects[0]
    assert (top.run_id, top.event_time, top.failed_runs) == ("ingest@first", first, 5)
    assert top.details == ("failure of ingest",)  # one line for the streak, not one per failed run
    assert d.suspects[1].job == "aggregate"  # the row count is a symptom: ranked after
    assert d.confidence == HIGH


def test_mixed_causes_name_the_bug_first_and_the_real_drift_second():
    bug = _change("billing", 0, aspects=("projection",))
    d = diagnose([_onset("spend"), _onset("tenure", 1)], _drop(), {"spend": [bug], "tenure": []})
    assert d.verdict == "pipeline_bug"
    primary, secondary = d.causes
    assert (primary.verdict, primary.features, primary.confidence) == ("pipeline_bug", ("spend",), HIGH)
    assert (secondary.verdict, secondary.features) == ("data_drift", ("tenure",))
    assert d.secondary is secondary and d.unexplained == ("tenure",)
    dataset_level = replace(bug, column_level=False)
    assert diagnose([_onset("spend")], _drop(), {"spend": [dataset_level]}).confidence == MEDIUM


@pytest.mark.parametrize(("estimate_days", "expected"), [(1, "3 days before the realized roc_auc did"), (None, "held")])
def test_the_estimated_metric_and_the_carrier_slice_are_in_the_evidence(estimate_days, expected):
    estimate = replace(_drop(estimate_days), metric="estimated roc_auc")
    sentence = "the drift of a is carried by the slice channel = 'web'"
    d = diagnose([_onset("a")], _drop(), {"a": []}, estimate=estimate, slices={"a": sentence})
    assert any(expected in e for e in d.evidence)
    assert "The drift of a is carried by the slice channel = 'web'." in d.evidence
    quiet = diagnose([_onset("a", None)], _drop(None), {}, estimate=replace(_drop(1), metric="estimated roc_auc"))
    assert quiet.verdict == "healthy" and any("estimate of roc_auc fell" in w for w in quiet.warnings)


def test_a_slow_drift_counts_from_the_warning_that_led_into_it():
    days = [_at(d) for d in range(10)]
    psi = [0.01, 0.02, 0.05, 0.12, 0.15, 0.18, 0.22, 0.3, 0.4, 0.5]
    series = pl.DataFrame({
        "window_start": days, "feature": ["price"] * 10, "value": psi,
        "drifted": [v >= 0.2 for v in psi], "warned": [v >= 0.1 for v in psi],
    })
    [found] = drift_onsets(series)
    assert found.onset == _at(6) and found.warn_onset == _at(3) and found.began == _at(3)
    d = diagnose([found], _drop(4), {"price": []})
    assert d.verdict == "data_drift"  # under way before the drop, though flagged after it
    assert any("price warned from" in e for e in d.evidence)
    jump = replace(found, warn_onset=None)
    assert diagnose([jump], _drop(4), {}).verdict == "model_drift"
