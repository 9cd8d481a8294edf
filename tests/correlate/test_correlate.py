"""correlate: onsets by the persistence rule, the metric per window and its drop, lead time and
lagged correlation counted in windows (checked against scipy on the aligned points)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from mlobs_notebook.correlate import (
    FeatureOnset,
    MetricDrop,
    align_metric,
    drift_onsets,
    lagged_correlation,
    lead_time,
    lead_windows,
    metric_drop,
    persistent_onset,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def _series(values, start=START, step=timedelta(days=1), name="value"):
    return pl.DataFrame({"window_start": [start + step * i for i in range(len(values))], name: values})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([0, 0, 1, 0, 0, 0], None),  # one noisy window is not an onset
        ([0, 1, 0, 1, 1, 1], 1),  # 2 of 3 from index 1
        ([0, 0, 0, 1, 1], 3),
        ([0, 0, 0, 0, 1], None),  # the last window alone cannot be confirmed
        ([1, 1, 1], 0),
        ([], None),
    ],
)
def test_persistent_onset_two_of_three(flags, expected):
    assert persistent_onset([bool(f) for f in flags], (2, 3)) == expected


@given(st.lists(st.booleans(), max_size=40))
def test_onset_is_a_flagged_window_with_enough_company(flags):
    i = persistent_onset(flags, (2, 3))
    if i is None:
        assert all(sum(flags[j : j + 3]) < 2 or not flags[j] for j in range(len(flags)))
    else:
        assert flags[i] and sum(flags[i : i + 3]) >= 2
        assert all(not (flags[j] and sum(flags[j : j + 3]) >= 2) for j in range(i))


def test_drift_onsets_per_feature_ranked_by_onset_keep_the_hour():
    hours = [START + timedelta(hours=i) for i in range(6)]
    series = pl.DataFrame({
        "window_start": hours * 2,
        "feature": ["a"] * 6 + ["b"] * 6,
        "value": [0.0, 0.0, 0.0, 0.5, 0.6, 0.7] + [0.0, 0.3, 0.4, 0.3, 0.0, 0.0],
        "drifted": [False, False, False, True, True, True] + [False, True, True, True, False, False],
    })
    onsets = drift_onsets(series)
    assert [(o.feature, o.onset) for o in onsets] == [("b", hours[1]), ("a", hours[3])]
    assert onsets[1].onset.hour == 3  # an hourly onset is not truncated to its day
    assert onsets[1].peak_value == 0.7 and onsets[1].value_at_onset == 0.5
    assert onsets[0].drifted_windows == 3 and onsets[0].windows == 6


def test_records_take_a_date_as_its_utc_midnight_and_keep_an_aware_zone():
    assert FeatureOnset("x", date(2026, 1, 2), 1, 2, 0.3, 0.3, "psi").onset == datetime(2026, 1, 2, tzinfo=UTC)
    berlin = datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin"))
    assert MetricDrop("auc", 0.9, 0.02, berlin, 0.8, 0.8, 3, "threshold").onset is berlin


def test_metric_drop_finds_a_sustained_fall_and_ignores_a_dip():
    rng = np.random.default_rng(0)
    values = list(0.80 + rng.normal(0, 0.005, 30))
    values[20] = 0.70  # a single bad day
    calm = metric_drop(_series(values), "auc")
    assert not calm.dropped and calm.reference == pytest.approx(np.median(values[:14]))
    fallen = values[:25] + [0.70 + e for e in rng.normal(0, 0.005, 10)]
    drop = metric_drop(_series(fallen), "auc")
    assert drop.onset == START + timedelta(days=25)
    assert drop.mean_after == pytest.approx(np.mean(fallen[25:]))
    change = metric_drop(_series(fallen), "auc", method="changepoint")
    assert change.onset == START + timedelta(days=25)


def test_metric_drop_lower_is_better_and_explicit_baseline():
    values = [0.1] * 20 + [0.3] * 10  # an error rate that rose
    drop = metric_drop(_series(values), "error", higher_is_better=False)
    assert drop.onset == START + timedelta(days=20)
    assert drop.reference == pytest.approx(0.1)
    assert not metric_drop(_series([0.5] * 30), "auc", baseline_value=0.51).dropped
    assert metric_drop(_series([0.5] * 30), "auc", baseline_value=0.6).onset == START


def test_lead_time_and_windows_sign_and_units():
    drift, metric = START, START + timedelta(days=3, hours=6)
    assert lead_time(drift, metric) == timedelta(days=3, hours=6)
    assert lead_windows(drift, metric, "1d") == 3
    assert lead_windows(drift, metric, "1h") == 78
    assert lead_windows(metric, drift, "1d") == -4  # floor: 3.25 windows back is the 4th boundary
    assert lead_windows(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), "1mo") == 3
    assert lead_time(None, metric) is None and lead_windows(drift, None, "1d") is None


def test_align_metric_keeps_the_last_point_of_each_window_in_the_data_zone():
    points = pl.DataFrame({
        "time": [datetime(2026, 3, 28, 22, 30, tzinfo=UTC),  # 23:30 in Berlin: still the 28th there
                 datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 on the 29th in Berlin
                 datetime(2026, 3, 29, 9, 0, tzinfo=UTC)],
        "value": [0.8, 0.7, 0.6],
        "run_id": ["a", "b", "c"],
    })
    berlin = align_metric(points, "1d", "Europe/Berlin")
    assert berlin["window_start"].dtype == pl.Datetime("us", "Europe/Berlin")
    assert [w.day for w in berlin["window_start"]] == [28, 29]
    assert berlin["value"].to_list() == [0.8, 0.6] and berlin["points"].to_list() == [1, 2]
    utc = align_metric(points, "1d")
    assert [w.day for w in utc["window_start"]] == [28, 29] and utc["points"].to_list() == [2, 1]
    assert utc["value"].to_list() == [0.7, 0.6]


def _check_against_scipy(table, drift_values, metric_values):
    n = len(drift_values)
    for row in table.iter_rows(named=True):
        k = row["lag"]
        pairs = [(drift_values[i], metric_values[i + k]) for i in range(n) if 0 <= i + k < n]
        x, y = np.array(pairs).T
        assert row["points"] == len(pairs)
        assert row["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
        assert row["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


@pytest.mark.parametrize(("granularity", "step"), [("1d", timedelta(days=1)), ("1h", timedelta(hours=1)),
                                                   ("6h", timedelta(hours=6))])
def test_lagged_correlation_counts_lags_in_windows_and_matches_scipy(granularity, step):
    rng = np.random.default_rng(3)
    n = 40
    drift_values = rng.normal(size=n)
    metric_values = np.roll(-drift_values, 3) + rng.normal(0, 0.1, n)  # the metric follows 3 windows later
    drift, metric = _series(list(drift_values), step=step), _series(list(metric_values), step=step)
    table = lagged_correlation(drift, metric, granularity, max_lag=5)
    assert table["lag"].to_list() == list(range(-5, 6))
    _check_against_scipy(table, drift_values, metric_values)
    best = table.sort("pearson").row(0, named=True)
    assert best["lag"] == 3 and best["pearson"] < -0.9


def test_lagged_correlation_on_calendar_months():
    rng = np.random.default_rng(4)
    months = [datetime(2024 + (m // 12), m % 12 + 1, 1, tzinfo=UTC) for m in range(24)]
    drift_values, metric_values = rng.normal(size=24), rng.normal(size=24)
    drift = pl.DataFrame({"window_start": months, "value": drift_values})
    metric = pl.DataFrame({"window_start": months, "value": metric_values})
    table = lagged_correlation(drift, metric, "1mo", max_lag=2)
    _check_against_scipy(table, drift_values, metric_values)


def test_lagged_correlation_pairs_instants_across_zones():
    berlin = ZoneInfo("Europe/Berlin")
    drift = pl.DataFrame({"window_start": [datetime(2026, 1, d, tzinfo=berlin) for d in range(1, 9)],
                          "value": [float(d) for d in range(8)]})
    metric = pl.DataFrame({"window_start": [datetime(2026, 1, d, tzinfo=berlin).astimezone(UTC) for d in range(1, 9)],
                           "value": [float(-d) for d in range(8)]})
    table = lagged_correlation(drift, metric, "1d", max_lag=0)
    assert table.row(0, named=True)["points"] == 8 and table["pearson"][0] == pytest.approx(-1.0)


def test_lagged_correlation_is_null_for_too_few_or_constant_points():
    table = lagged_correlation(_series([1.0, 2.0, 3.0]), _series([1.0, 1.0, 1.0]), "1d", max_lag=1, min_points=2)
    assert table["pearson"].null_count() == 3
    assert table.filter(pl.col("lag") == 0)["points"].item() == 3


def test_the_metric_drop_granularity_is_at_most_a_day_and_rewindowing_keeps_the_points():
    from mlobs_notebook.correlate import align_metric, metric_granularity

    assert [str(metric_granularity(g)) for g in ("1h", "6h", "24h", "1d", "1w", "2w", "1mo")] == [
        "1h", "6h", "24h", "1d", "1d", "1d", "1d"]
    days = [datetime(2026, 3, 2) + timedelta(days=i) for i in range(14)]  # two Monday-started weeks
    points = pl.DataFrame({"time": [d + timedelta(hours=h) for d in days for h in (1, 2)],
                           "value": [float(i) for i in range(28)]})
    daily = align_metric(points, "1d")
    weekly = align_metric(daily, "1w")
    assert weekly["points"].to_list() == [14, 14] and weekly["value"].to_list() == [13.0, 27.0]
