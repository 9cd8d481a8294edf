"""Each scenario changes what it says it changes and nothing else; the same seed gives the same
world. Checked on the pure generators (no stores), scenario against the healthy baseline."""

from __future__ import annotations

import json

import polars as pl
import pytest

from mlobs_notebook.demo import SCENARIOS
from mlobs_notebook.demo import features as feat
from mlobs_notebook.demo.lineage_events import day_events, failure_day
from mlobs_notebook.errors import UnknownScenario

SEED = 11
ROWS = 3_000
DAYS = 45


def _timeline():
    return feat.make_timeline(DAYS, has_incident=True)


def _frames(scenario: str, days):
    return {d: feat.day_features(SEED, d, _timeline(), scenario, ROWS) for d in days}


def _changed_columns(a: pl.DataFrame, b: pl.DataFrame) -> set[str]:
    return {c for c in a.columns if not a[c].equals(b[c], check_names=True)}


def _events(scenario: str, day: int) -> list[dict]:
    from openlineage.client.serde import Serde

    return [json.loads(Serde.to_json(e)) for e in day_events(SEED, day, _timeline(), scenario)]


def test_same_seed_same_features_and_events():
    d = _timeline().incident_day
    assert feat.day_features(SEED, d, _timeline(), "pipeline_bug", ROWS).equals(
        feat.day_features(SEED, d, _timeline(), "pipeline_bug", ROWS)
    )
    assert _events("pipeline_bug", d) == _events("pipeline_bug", d)
    assert not feat.day_features(SEED, d, _timeline(), "healthy", ROWS).equals(
        feat.day_features(SEED + 1, d, _timeline(), "healthy", ROWS)
    )


@pytest.mark.parametrize(
    ("scenario", "changed"),
    [
        ("pipeline_bug", {"user_session_count_7d"}),
        ("data_drift", {"tenure_days", "is_churned"}),
        ("model_drift", {"is_churned"}),
    ],
)
def test_scenario_changes_only_its_columns_and_only_from_the_incident(scenario, changed):
    d = _timeline().incident_day
    days = [d - 2, d - 1, d + 2, d + 10]
    twisted, healthy = _frames(scenario, days), _frames("healthy", days)
    for day in (d - 2, d - 1):
        assert _changed_columns(twisted[day], healthy[day]) == set(), day
    for day in (d + 2, d + 10):
        assert _changed_columns(twisted[day], healthy[day]) == changed, day


def test_pipeline_bug_halves_the_session_count_at_the_incident():
    d = _timeline().incident_day
    frames = _frames("pipeline_bug", [d - 1, d])
    before = frames[d - 1]["user_session_count_7d"].mean()
    after = frames[d]["user_session_count_7d"].mean()
    assert 4.0 < before < 4.6
    assert 1.8 < after < 2.4
    assert 0.4 < after / before < 0.6


def test_data_drift_shifts_tenure_gradually():
    d = _timeline().incident_day
    frames = _frames("data_drift", [d - 1, d + 3, d + 12])
    means = [frames[x]["tenure_days"].mean() for x in (d - 1, d + 3, d + 12)]
    assert means[0] > means[1] > means[2]


def test_model_drift_keeps_every_feature_distribution():
    d = _timeline().incident_day
    twisted, healthy = _frames("model_drift", [d + 5]), _frames("healthy", [d + 5])
    for column in feat.FEATURES:
        assert twisted[d + 5][column].equals(healthy[d + 5][column])
    assert twisted[d + 5]["is_churned"].mean() != healthy[d + 5]["is_churned"].mean()


def _diff_paths(a, b, path=""):
    """The JSON paths where two documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _diff_paths(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff_paths(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


def test_pipeline_bug_lineage_changes_only_the_two_sql_facets():
    d = _timeline().incident_day
    for day in range(d - 3, d + 3):
        bug, calm = _events("pipeline_bug", day), _events("healthy", day)
        assert len(bug) == len(calm)
        changed = set()
        for x, y in zip(bug, calm, strict=True):
            for path in _diff_paths(x, y):
                changed.add((x["job"]["name"], path))
        expected = set()
        if day >= d - 1:
            expected |= {("billing_daily.aggregate_billing", ".job.facets.sql.query")}
        if day >= d:
            expected |= {("churn_features_daily.sessionize", ".job.facets.sql.query")}
        assert changed == expected, day


def test_sessionize_sql_narrows_the_window_at_the_incident():
    d = _timeline().incident_day
    sql = {
        day: next(e["job"]["facets"]["sql"]["query"] for e in _events("pipeline_bug", day)
                  if e["job"]["name"] == "churn_features_daily.sessionize")
        for day in (d - 1, d)
    }
    assert "INTERVAL '7' DAY" in sql[d - 1] and "INTERVAL '1' DAY" in sql[d]


def test_one_failed_run_far_from_the_incident_in_every_scenario():
    timeline = _timeline()
    for scenario in SCENARIOS:
        events = _events(scenario, failure_day(timeline))
        failed = [e for e in events if e["eventType"] == "FAIL"]
        assert [e["job"]["name"] for e in failed] == ["billing_daily.ingest_invoices"]
        assert "errorMessage" in failed[0]["run"]["facets"]
    assert abs(failure_day(timeline) - timeline.incident_day) >= 5


def test_unknown_scenario_names_the_known_ones():
    with pytest.raises(UnknownScenario, match="healthy, join_bug, model_drift, null_flood, pipeline_bug"):
        from mlobs_notebook.demo import get_scenario

        get_scenario("pipeline")


HARDER = {
    # scenario: (feature columns it changes from D, jobs whose events change from D, SQL aspects)
    "join_bug": ({"support_tickets_30d"}, {"churn_features_daily.build_features"}, ("join key",)),
    "unit_change": ({"user_session_count_7d"}, {"churn_features_daily.sessionize"}, ("projection",)),
    "null_flood": ({"user_session_count_7d"}, {"churn_features_daily.sessionize"}, ("projection",)),
    "stale_data": ({"user_session_count_7d", "user_recency_days"}, {"churn_features_daily.ingest_raw_sessions"}, None),
    "segment_break": ({"user_session_count_7d"}, {"churn_features_daily.sessionize"}, ("join", "filter")),
    "gradual_drift": ({"monthly_spend", "is_churned"}, set(), None),
    "drift_without_impact": ({"monthly_spend"}, set(), None),
    "cosmetic_change": ({"is_churned"}, {"churn_features_daily.build_features"}, ()),
    "unrelated_change": ({"tenure_days", "is_churned"}, {"billing_daily.aggregate_billing"}, ("projection",)),
}


@pytest.mark.parametrize("scenario", sorted(HARDER))
def test_harder_scenarios_change_what_they_say_from_the_incident(scenario):
    from mlobs_notebook.lineage.sql import compare_sql

    columns, jobs, aspects = HARDER[scenario]
    d = _timeline().incident_day
    twisted, healthy = _frames(scenario, [d - 1, d + 3]), _frames("healthy", [d - 1, d + 3])
    assert _changed_columns(twisted[d - 1], healthy[d - 1]) == set()
    assert _changed_columns(twisted[d + 3], healthy[d + 3]) == columns
    for day, expected in ((d - 1, set()), (d, jobs)):
        bug, calm = _events(scenario, day), _events("healthy", day)
        assert len(bug) == len(calm)
        assert {x["job"]["name"] for x, y in zip(bug, calm, strict=True) if _diff_paths(x, y)} == expected, day
    if aspects is not None and jobs:
        job = next(iter(jobs))

        def sql(day):
            return next(e["job"]["facets"]["sql"]["query"] for e in _events(scenario, day) if e["job"]["name"] == job)

        found = compare_sql(sql(d - 1), sql(d), "trino")
        assert found.semantic is bool(aspects) and set(found.aspects) == set(aspects)


def test_the_stale_scenario_fails_ingestion_every_day_from_the_incident():
    d = _timeline().incident_day
    for day in (d, d + 1, d + 5):
        failed = [e for e in _events("stale_data", day) if e["eventType"] == "FAIL"]
        assert [e["job"]["name"] for e in failed] == ["churn_features_daily.ingest_raw_sessions"]
    stale = _frames("stale_data", [d - 1, d, d + 6])
    means = [stale[x]["user_session_count_7d"].mean() for x in (d - 1, d, d + 6)]
    assert means[0] > means[1] > means[2] == 0  # a day of sessions lost each day


def test_weekly_seasonality_changes_weekends_in_training_and_after():
    timeline = _timeline()
    days = range(0, 14)
    twisted, healthy = _frames("weekly_seasonality", days), _frames("healthy", days)
    weekends = [d for d in days if timeline.date_of(d).weekday() >= 5]
    for d in days:
        changed = _changed_columns(twisted[d], healthy[d])
        assert bool(changed) == (d in weekends), d
    assert timeline.incident_day is not None  # the shared timeline; the scenario itself has none
    from mlobs_notebook.demo import get_scenario

    assert not get_scenario("weekly_seasonality").incident and get_scenario("drift_without_impact").incident


def test_segment_break_zeroes_only_the_free_plans_sessions():
    d = _timeline().incident_day
    frame = _frames("segment_break", [d + 1])[d + 1]
    free = frame.filter(pl.col("plan") == "free")["user_session_count_7d"]
    paying = frame.filter(pl.col("plan") != "free")["user_session_count_7d"]
    assert free.max() == 0 and paying.mean() > 3
