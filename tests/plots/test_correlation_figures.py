"""Figures of drift against the metric, checked against the investigation's own numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from investigation_cache import demo_investigation
from scipy import stats

from mlobs_notebook.correlate import drift_series, lagged_correlation
from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.plots.correlation import (
    correlation_table,
    drift_metric_scatter,
    feature_drift,
    feature_timeline,
    lag_correlation_figure,
    lag_pairs,
    ranked_features,
)


@pytest.fixture(scope="module")
def inv(world):
    return demo_investigation(world)


@pytest.fixture(scope="module")
def drifted(inv):
    return inv.drifted_features[0].feature


def _metric_on(inv) -> dict[date, float]:
    return {w.date(): v for w, v in inv.metric.select("window_start", "value").iter_rows()}


def test_features_are_ranked_drifted_first(inv, drifted):
    ranked = ranked_features(inv)
    assert sorted(ranked) == sorted(inv.features)
    assert ranked[0] == drifted
    onsets = [next(o.onset for o in inv.onsets if o.feature == f) for f in ranked]
    assert all(a is not None for a in onsets[: len(inv.drifted_features)])


def test_pairs_at_every_lag_are_the_ones_correlated(inv, drifted):
    drift = feature_drift(inv, drifted)
    table = inv.correlations[drifted]
    for row in table.iter_rows(named=True):
        pairs = lag_pairs(drift, inv.metric, row["lag"], inv.granularity)
        assert pairs.height == row["points"]
        assert (pairs["metric_window"] - pairs["window_start"]).dt.total_days().unique().to_list() == [row["lag"]]
        if row["pearson"] is not None:
            assert stats.pearsonr(pairs["drift"], pairs["metric"]).statistic == pytest.approx(row["pearson"])
            assert stats.spearmanr(pairs["drift"], pairs["metric"]).statistic == pytest.approx(row["spearman"])


def test_scatter_shows_each_pair_once_with_the_lag_figures_in_its_title(inv, drifted):
    lag = inv.lead_windows
    fig = drift_metric_scatter(inv, drifted, lag)
    row = inv.correlations[drifted].filter(pl.col("lag") == lag).row(0, named=True)
    xs = [x for t in fig.data for x in t.x]
    assert len(xs) == row["points"]
    assert f"{row['points']} points" in fig.layout.title.text and f"{row['pearson']:+.2f}" in fig.layout.title.text
    drift = {w.date(): v for w, v in feature_drift(inv, drifted).select("window_start", "value").iter_rows()}
    metric = _metric_on(inv)
    flagged = {w.date(): f for w, f in feature_drift(inv, drifted).select("window_start", "drifted").iter_rows()}
    for trace in fig.data:
        for x, y, (d, m) in zip(trace.x, trace.y, trace.customdata, strict=True):
            d, m = date.fromisoformat(d), date.fromisoformat(m)
            assert m - d == timedelta(days=lag)
            assert x == drift[d] and y == metric[m]
            assert flagged[d] == (trace.name == "window drifted")


def test_the_lag_moves_the_scatter(inv, drifted):
    a, b = drift_metric_scatter(inv, drifted, 0), drift_metric_scatter(inv, drifted, 5)
    ya = sorted(y for t in a.data for y in t.y)
    yb = sorted(y for t in b.data for y in t.y)
    assert ya != yb


def test_correlation_bars_carry_the_table_and_its_point_counts(inv, drifted):
    table = inv.correlations[drifted]
    fig = lag_correlation_figure(inv, drifted, lag=2)
    pearson, spearman = fig.data
    assert list(pearson.x) == table["lag"].to_list()
    assert list(pearson.y) == table["pearson"].to_list() and list(spearman.y) == table["spearman"].to_list()
    assert list(pearson.customdata) == table["points"].to_list()
    assert pearson.text[0] == f"n={table['points'][0]}"
    rect = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(r.x0, r.x1) for r in rect] == [(1.5, 2.5)]
    lead = [s for s in fig.layout.shapes if s.type == "line"]
    assert [s.x0 for s in lead] == [inv.lead_windows]


def test_a_feature_without_an_onset_is_correlated_on_demand_over_the_same_lags(inv):
    quiet = next(f for f in inv.features if f not in inv.correlations)
    table = correlation_table(inv, quiet)
    series = drift_series(inv.drift).filter(pl.col("feature") == quiet)
    expected = lagged_correlation(series, inv.metric, inv.granularity,
                                  max_lag=int(next(iter(inv.correlations.values()))["lag"].max()))
    assert table.equals(expected)
    fig = lag_correlation_figure(inv, quiet)
    assert list(fig.data[0].customdata) == expected["points"].to_list()


def test_timeline_puts_drift_and_metric_on_two_axes_with_the_onsets(inv, drifted):
    fig = feature_timeline(inv, drifted)
    drift_trace, metric_trace = fig.data
    drift = feature_drift(inv, drifted)
    assert list(drift_trace.y) == drift["value"].to_list()
    assert list(metric_trace.y) == inv.metric["value"].to_list()
    assert metric_trace.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    onset = inv.drifted_features[0].onset
    # the x axis shows the windows' wall-clock times (the demo's are UTC): lines sit at those instants
    lines_at = {datetime.fromtimestamp(s.x0 / 1000, UTC) for s in fig.layout.shapes if s.x0 == s.x1 and s.type == "line"}
    assert {onset, inv.drop.onset} <= lines_at
    assert any(f"lead time: {inv.lead_windows} days" in (a.text or "") for a in fig.layout.annotations)


def test_timeline_of_another_feature_changes_the_drift_only(inv, drifted):
    quiet = next(f for f in inv.features if f != drifted)
    a, b = feature_timeline(inv, drifted), feature_timeline(inv, quiet)
    assert list(a.data[1].y) == list(b.data[1].y)
    assert not np.allclose(np.asarray(a.data[0].y, float), np.asarray(b.data[0].y, float))


def test_bad_feature_and_lag_are_named(inv, drifted):
    with pytest.raises(UnknownColumn, match="no feature 'nope'.*" + drifted):
        feature_timeline(inv, "nope")
    with pytest.raises(InputError, match="lag 99 is outside"):
        drift_metric_scatter(inv, drifted, 99)
