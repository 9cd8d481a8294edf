"""investigate() takes the time options ``mlobs drift`` takes: ``time_zone`` labels the windows in
that zone, ``columns`` naming the time column is no error."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from investigation_cache import demo_investigation as cached_investigation

from mlobs_notebook import investigate
from mlobs_notebook.cli import main
from mlobs_notebook.investigation.features import choose_features

NEW_YORK = "America/New_York"


@pytest.fixture(scope="module")
def in_new_york(demo_world):
    m = demo_world
    return investigate(m.model, lineage=m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column,
                       metric=m.metric, eval_filter=m.eval_filter, time_zone=NEW_YORK)


def test_time_zone_labels_every_window_in_that_zone(demo_world, in_new_york):
    inv, demo_investigation = in_new_york, cached_investigation(demo_world)
    assert inv.zone == NEW_YORK and demo_investigation.zone == "UTC"
    starts = inv.drift.table["window_start"]
    assert starts.dtype == pl.Datetime("us", NEW_YORK)
    tz = ZoneInfo(NEW_YORK)
    assert all(s.astimezone(tz).hour == 0 and s.astimezone(tz).minute == 0 for s in starts.unique())
    assert all(s.astimezone(tz).hour == 0 for s in inv.metric["window_start"])
    # the same rows, windowed at another midnight: none lost
    counts = inv.drift.table.filter(pl.col("drift_type") == "BASELINE").group_by("column_name").agg(pl.col("count").sum())
    before = demo_investigation.drift.table.filter(pl.col("drift_type") == "BASELINE").group_by("column_name").agg(
        pl.col("count").sum())
    assert counts.sort("column_name").equals(before.sort("column_name"))


def test_the_cli_takes_time_zone_and_names_a_bad_one(demo_world, capsys):
    assert main(["investigate", "--demo", demo_world.path, "--time-zone", "Mars/Base", "--format", "json"]) == 2
    assert "'Mars/Base'" in capsys.readouterr().err
    assert main(["investigate", "--demo", demo_world.path, "--time-zone", NEW_YORK, "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert NEW_YORK in json.dumps(payload)


def test_columns_naming_the_time_column_or_one_twice_are_one_feature_each():
    base = pl.LazyFrame({"ts": ["2024-01-01"], "x": [1.0], "y": [2.0]})
    features, notes = choose_features(base, base, "ts", ["x", "ts", "y", "x"], None, ())
    assert features == ("x", "y")
    assert any("time column 'ts'" in n for n in notes)


@pytest.mark.parametrize("granularity", ["1w", "1mo"])
def test_weekly_and_monthly_windows_find_the_drop_over_the_metric_own_days(demo_world, granularity):
    from datetime import date, timedelta

    m = demo_world
    inv = investigate(m.model, lineage=m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column,
                      metric=m.metric, eval_filter=m.eval_filter, granularity=granularity)
    # the world's story: AUC falls label_delay_days after the incident, as the labels arrive
    manifest = json.loads((Path(m.path) / "manifest.json").read_text())
    fell = date.fromisoformat(manifest["incident_date"]) + timedelta(days=manifest["label_delay_days"])
    assert inv.drop.onset is not None and inv.drop.onset.date() == fell
    assert inv.drop.points > 17  # one value a day, not one a week or a month
    assert str(inv.granularity) == granularity and inv.verdict != "inconclusive", inv.diagnosis.evidence
    assert any("windows of 1d (the metric's own)" in n for n in inv.notes)
    # the metric shown per window of the investigation still counts every evaluation
    assert int(inv.metric["points"].sum()) == inv.drop.points


@pytest.mark.parametrize(("option", "value", "flag"), [("label_delay", -3, "--label-delay"),
                                                        ("min_evaluations", 0, "--min-evaluations")])
def test_impossible_options_are_refused_before_any_store_is_read(option, value, flag):
    from mlobs_notebook.errors import InputError
    from mlobs_notebook.investigation import investigate

    with pytest.raises(InputError, match=flag):
        investigate("no_such_model", time_column="ts", tracking_uri="sqlite:////nonexistent/mlflow.db", **{option: value})
