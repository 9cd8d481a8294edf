"""correlate: onsets by the persistence rule, the metric drop, lead time, lagged correlation
(checked against scipy on the aligned points)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from mlobs_notebook.correlate import (
    drift_onsets,
    lagged_correlation,
    lead_days,
    metric_drop,
    persistent_onset,
)

START = date(2026, 1, 1)


def _series(values, start=START, name="value"):
    return pl.DataFrame({"date": [start + timedelta(days=i) for i in range(len(values))], name: values})


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


def test_drift_onsets_per_feature_ranked_by_onset():
    days = [START + timedelta(days=i) for i in range(6)]
    series = pl.DataFrame({
        "date": days * 2,
        "feature": ["a"] * 6 + ["b"] * 6,
        "value": [0.0, 0.0, 0.0, 0.5, 0.6, 0.7] + [0.0, 0.3, 0.4, 0.3, 0.0, 0.0],
        "drifted": [False, False, False, True, True, True] + [False, True, True, True, False, False],
    })
    onsets = drift_onsets(series)
    assert [(o.feature, o.onset) for o in onsets] == [("b", days[1]), ("a", days[3])]
    assert onsets[1].peak_value == 0.7 and onsets[1].value_at_onset == 0.5
    assert onsets[0].drifted_windows == 3 and onsets[0].windows == 6


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


def test_lead_days_sign():
    assert lead_days(date(2026, 1, 1), date(2026, 1, 4)) == 3
    assert lead_days(date(2026, 1, 4), date(2026, 1, 1)) == -3
    assert lead_days(None, date(2026, 1, 1)) is None


def test_lagged_correlation_matches_scipy_at_every_lag():
    rng = np.random.default_rng(3)
    n = 40
    drift_values = rng.normal(size=n)
    metric_values = np.roll(-drift_values, 3) + rng.normal(0, 0.1, n)  # metric follows drift 3 days later
    drift = _series(list(drift_values))
    metric = _series(list(metric_values))
    table = lagged_correlation(drift, metric, max_lag=5)
    assert table["lag"].to_list() == list(range(-5, 6))
    for row in table.iter_rows(named=True):
        k = row["lag"]
        pairs = [(drift_values[i], metric_values[i + k]) for i in range(n) if 0 <= i + k < n]
        x, y = np.array(pairs).T
        assert row["points"] == len(pairs)
        assert row["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
        assert row["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    best = table.sort("pearson").row(0, named=True)
    assert best["lag"] == 3 and best["pearson"] < -0.9


def test_lagged_correlation_is_null_for_too_few_or_constant_points():
    table = lagged_correlation(_series([1.0, 2.0, 3.0]), _series([1.0, 1.0, 1.0]), max_lag=1, min_points=2)
    assert table["pearson"].null_count() == 3
    assert table.filter(pl.col("lag") == 0)["points"].item() == 3
