"""diagnose: each verdict from its evidence, and suspects ranked column lineage first, then
distance, then closeness to the onset. Pure records; no stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mlobs_notebook.correlate import FeatureOnset, MetricDrop
from mlobs_notebook.diagnose import UpstreamChange, diagnose

ONSET = date(2026, 3, 10)


def _onset(feature: str, when: date | None = ONSET) -> FeatureOnset:
    return FeatureOnset(feature, when, 10 if when else 0, 30, 0.9 if when else 0.01, 0.5 if when else None,
                        "population_stability_index")


def _drop(when: date | None = ONSET + timedelta(days=3)) -> MetricDrop:
    return MetricDrop("f1", 0.8, 0.03, when, 0.7 if when else None, 0.7 if when else None, 40, "threshold")


def _change(job: str, hours: float, *, column: bool = True, distance: int = 1, kind: str = "job_definition",
            run: str | None = None) -> UpstreamChange:
    at = datetime(ONSET.year, ONSET.month, ONSET.day, tzinfo=UTC) + timedelta(hours=hours)
    return UpstreamChange(job, run or f"run-{job}-{hours}", at, kind, f"{kind} of {job}", distance, column)


def test_healthy_when_the_metric_holds_and_drift_is_a_warning():
    d = diagnose([_onset("x"), _onset("y", None)], _drop(None), {})
    assert d.verdict == "healthy"
    assert len(d.warnings) == 1 and "x drifted" in d.warnings[0]
    assert "no sustained drop" in d.evidence[0]


def test_model_drift_when_nothing_drifted_before_the_drop():
    d = diagnose([_onset("x", None), _onset("late", ONSET + timedelta(days=9))], _drop(), {})
    assert d.verdict == "model_drift"
    assert any("after f1 had fallen" in w for w in d.warnings)
    assert "relation between the features and the label" in d.recommendation


def test_data_drift_when_no_upstream_change_is_near_the_onset():
    far = _change("etl", -24 * 10)  # ten days before: outside the 3-day lookback
    d = diagnose([_onset("x")], _drop(), {"x": [far]})
    assert d.verdict == "data_drift" and d.suspects == ()
    assert d.unexplained == ("x",)
    assert "retrain on recent data" in d.recommendation


def test_pipeline_bug_names_the_run_and_rules_out_unconnected_changes():
    near = _change("sessionize", 2, distance=2)
    other = _change("billing", -20, column=False, distance=2)
    d = diagnose([_onset("x")], _drop(), {"x": [near]}, unconnected=[other])
    assert d.verdict == "pipeline_bug"
    assert [s.job for s in d.suspects] == ["sessionize"]
    assert d.suspects[0].hours_from_onset == pytest.approx(2)
    assert any("billing also changed" in e and "does not connect" in e for e in d.evidence)
    assert "do not retrain" in d.recommendation


def test_changes_after_the_onset_window_do_not_explain_it():
    d = diagnose([_onset("x")], _drop(), {"x": [_change("later", 30)]})
    assert d.verdict == "data_drift"


def test_suspects_rank_column_lineage_then_distance_then_time():
    changes = {"x": [
        _change("dataset_only_close", 1, column=False, distance=1),
        _change("column_far", 5, column=True, distance=3),
        _change("column_near_late", 20, column=True, distance=1),
        _change("column_near_early", -2, column=True, distance=1),
    ]}
    d = diagnose([_onset("x")], _drop(), changes)
    assert [s.job for s in d.suspects] == [
        "column_near_early", "column_near_late", "column_far", "dataset_only_close",
    ]


def test_one_run_explaining_two_features_is_one_suspect():
    shared = _change("build", 3, run="r1")
    d = diagnose([_onset("x"), _onset("y")], _drop(), {"x": [shared], "y": [shared]})
    assert len(d.suspects) == 1 and d.suspects[0].features == ("x", "y")


def test_without_lineage_the_evidence_says_a_pipeline_change_is_not_ruled_out():
    d = diagnose([_onset("x")], _drop(), {}, lineage_searched=False)
    assert d.verdict == "data_drift"
    assert any("cannot be ruled out" in e for e in d.evidence)
    assert not any("No upstream run" in e for e in d.evidence)


def test_the_suspect_window_runs_from_the_lookback_to_the_end_of_the_onset_window():
    from mlobs_notebook.diagnose import suspect_window

    hour = datetime(2026, 1, 2, 6, tzinfo=UTC)
    assert suspect_window(hour, "1h") == (hour - timedelta(days=3), hour + timedelta(hours=1))
    day = datetime(2026, 1, 31, tzinfo=UTC)
    assert suspect_window(day, "1mo", timedelta(days=1)) == (day - timedelta(days=1), datetime(2026, 2, 28, tzinfo=UTC))
    d = diagnose([_onset("x")], _drop(), {"x": [_change("etl", 2)]}, granularity="1d")
    assert d.suspect_windows == {"x": (datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))}


def test_the_older_window_spelling_still_means_the_granularity():
    change = _change("etl", 5)
    onset = FeatureOnset("x", datetime(2026, 3, 10, 6, tzinfo=UTC), 5, 48, 1.0, 0.5, "population_stability_index")
    assert diagnose([onset], _drop(), {"x": [change]}, window=timedelta(hours=1)).verdict == "pipeline_bug"
    late = _change("etl", 8)  # 08:00: after the 06:00-07:00 onset window
    assert diagnose([onset], _drop(), {"x": [late]}, window=timedelta(hours=1)).verdict == "data_drift"
    assert diagnose([onset], _drop(), {"x": [late]}, window=timedelta(days=1)).verdict == "pipeline_bug"


# --- inconclusive: the evidence too thin for a verdict ---------------------------------------

def _series(days: int, points: list[int] | None = None, start: date = date(2026, 3, 1)):
    import polars as pl

    counts = points or [1] * days
    return pl.DataFrame({
        "window_start": [datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(days=i) for i in range(days)],
        "value": [0.8] * days, "run_id": ["r"] * days, "points": counts,
    }).with_columns(pl.col("points").cast(pl.UInt32))


def test_the_minimum_is_the_reference_plus_the_persistence_window():
    from mlobs_notebook.correlate import REFERENCE_POINTS
    from mlobs_notebook.diagnose import minimum_evaluations

    assert minimum_evaluations() == REFERENCE_POINTS + 3 == 17
    assert minimum_evaluations((3, 5)) == 19
    assert minimum_evaluations(baseline_value_given=True) == 3


def test_never_healthy_over_one_evaluation():
    one = MetricDrop("auc", 0.84, 0.02, None, None, None, 1, "threshold")
    d = diagnose([_onset("x")], one, {})
    assert d.verdict == "inconclusive"
    assert "1 window" in d.inconclusive.reason and d.inconclusive.flag
    assert d.warnings and "x drifted" in d.warnings[0]  # the drift is still reported
    assert "inconclusive" in __import__("mlobs_notebook.diagnose", fromlist=["VERDICTS"]).VERDICTS


def test_few_windows_after_training_are_too_thin():
    from mlobs_notebook.diagnose import thin_evidence
    from mlobs_notebook.records import MetricSource
    from mlobs_notebook.times import Granularity

    source = MetricSource("evaluation_runs", "auc", "runs", "start_time")
    series = _series(30)
    day = Granularity.parse("1d")
    assert thin_evidence(series, source, trained_until=None, granularity=day, minimum=17) is None
    # training data ending on 21 March leaves 10 windows (the window holding the end counts)
    trained = datetime(2026, 3, 21, 12, tzinfo=UTC)
    why = thin_evidence(series, source, trained_until=trained, granularity=day, minimum=17)
    assert why is not None and "a value in 10 windows of 1d after the training data ends" in why.reason
    assert "--metric-run" in why.flag and "--predictions" in why.flag


def test_many_evaluations_on_one_date_are_inconclusive_whatever_the_length():
    from mlobs_notebook.diagnose import thin_evidence
    from mlobs_notebook.records import MetricSource
    from mlobs_notebook.times import Granularity

    hint = MetricSource("evaluation_runs", "auc", "runs", "start_time", hint="tags.day holds 40 dates",
                        hint_flag="--date-from tags.day")
    crowded = _series(20, [21] + [1] * 19)  # 20 windows, but 21 of the 40 runs on the first day
    why = thin_evidence(crowded, hint, trained_until=None, granularity=Granularity.parse("1d"), minimum=17)
    assert why.flag == "--date-from tags.day"
    assert why.reason.startswith("21 of the 40 evaluations of auc fall on 2026-03-01 (dated by start_time)")
    # hourly evaluations read daily: crowded windows, but no one date holds most of them
    hourly = _series(20, [24] * 20)
    assert thin_evidence(hourly, hint, trained_until=None, granularity=Granularity.parse("1d"), minimum=17) is None
    # a predictions log's windows count labelled rows, not runs
    rows = MetricSource("predictions", "auc", "log", labelled_rows=500)
    assert thin_evidence(_series(20, [400] + [5] * 19), rows, trained_until=None,
                         granularity=Granularity.parse("1d"), minimum=17) is None


def test_no_labelled_rows_names_the_label_column():
    from mlobs_notebook.diagnose import thin_evidence
    from mlobs_notebook.records import MetricSource
    from mlobs_notebook.times import Granularity

    source = MetricSource("predictions", "auc", "log", labelled_rows=0, rows=900,
                          hint="no labelled rows yet: 'y' is null in all 900 rows", hint_flag="--label-column")
    why = thin_evidence(_series(0), source, trained_until=None, granularity=Granularity.parse("1d"), minimum=17)
    assert why.flag == "--label-column" and why.reason.startswith("no labelled rows yet")
    d = diagnose([], _drop(None), {}, inconclusive=why, context=["The auc series: a log."])
    assert d.verdict == "inconclusive" and d.evidence[0] == "The auc series: a log."
    assert "--label-column" in d.recommendation


def test_lineage_given_without_the_table_is_not_called_no_lineage():
    d = diagnose([_onset("x")], _drop(), {}, lineage_searched=False,
                 lineage_note="The lineage holds no dataset matching the training source (closest: s3://lake/t)")
    said = " ".join(d.evidence)
    assert "The lineage holds no dataset matching the training source (closest: s3://lake/t), so upstream" in said
    assert "No lineage was given" not in said
