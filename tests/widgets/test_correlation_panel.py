"""CorrelationPanel, driven as the browser drives it: by setting the controls' values."""

from __future__ import annotations

import copy

import polars as pl
import pytest
from investigation_cache import demo_investigation

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.plots.correlation import correlation_table, feature_drift
from mlobs_notebook.widgets.correlation import CorrelationPanel

PLOTLY = "application/vnd.plotly.v1+json"


def sent(panel, name):
    """The figure the frontend receives in the panel's output ``name``."""
    return panel.displays[name].data[PLOTLY]


def snapshot(panel):
    return {name: copy.deepcopy(sent(panel, name)) for name in panel.figures}


@pytest.fixture(scope="module")
def inv(world):
    return demo_investigation(world)


@pytest.fixture
def panel(inv):
    return CorrelationPanel(inv)


def test_opens_on_the_first_drifted_feature_at_the_lead_time(panel, inv):
    assert panel.feature.value == inv.drifted_features[0].feature
    assert panel.lag.value == inv.lead_windows
    assert (panel.lag.min, panel.lag.max) == (-7, 7)
    assert list(panel.displays) == ["summary", "timeline", "scatter", "correlation", "table"]
    assert set(panel.figures) == {"timeline", "scatter", "correlation"}
    labels = dict((v, k) for k, v in panel.feature.options)
    assert labels[inv.drifted_features[0].feature].endswith("(drifted)")


def test_changing_the_lag_redraws_the_scatter_and_the_bars_only(panel, inv):
    before = snapshot(panel)
    panel.lag.value = 0
    after = snapshot(panel)
    assert after["timeline"] == before["timeline"]
    assert after["scatter"] != before["scatter"] and after["correlation"] != before["correlation"]
    points = inv.correlations[panel.feature.value].filter(pl.col("lag") == 0)["points"].item()
    assert sum(len(t["x"]) for t in after["scatter"]["data"]) == points
    assert all(c[0] == c[1] for t in after["scatter"]["data"] for c in t["customdata"])  # same-day pairs
    [rect] = [s for s in after["correlation"]["layout"]["shapes"] if s["type"] == "rect"]
    assert (rect["x0"], rect["x1"]) == (-0.5, 0.5)
    assert panel.feature.value == inv.drifted_features[0].feature


def test_changing_the_feature_redraws_every_figure_for_it(panel, inv):
    before = snapshot(panel)
    quiet = next(f for f in inv.features if f != panel.feature.value)
    lag = panel.lag.value
    panel.feature.value = quiet
    after = snapshot(panel)
    assert all(after[n] != before[n] for n in after)
    assert after["timeline"]["data"][0]["y"] == pytest.approx(feature_drift(inv, quiet)["value"].to_list())
    assert after["timeline"]["data"][1]["y"] == before["timeline"]["data"][1]["y"]  # the metric stays
    assert after["scatter"]["layout"]["title"]["text"].startswith(f"{quiet} drift vs")
    assert panel.lag.value == lag


def test_static_view_has_the_figures_and_the_correlation_table(panel, inv):
    html = panel.to_html()
    assert html.count('<script type="application/vnd.mlobs.figure+json">') == 3
    assert "lead time" in html and f">{inv.granularity.windows(inv.lead_windows)}<" in html
    table = inv.correlations[panel.feature.value]
    assert html.count("<tr>") >= table.height + 3


def test_the_summary_and_table_follow_the_controls(panel, inv):
    quiet = next(f for f in inv.features if f != panel.feature.value)
    panel.feature.value = quiet
    panel.lag.value = 0
    summary = panel.displays["summary"].data["text/html"]
    assert f"feature {quiet}, lag 0 days" in summary
    onset = next(o.onset for o in inv.onsets if o.feature == quiet)
    assert ("drift onset</th><td style=\"text-align:left\">none" in summary) == (onset is None)
    table = panel.displays["table"].data["text/html"]
    rows = correlation_table(inv, quiet)
    assert table.count("<tr>") == rows.height + 1  # a header row, then one row per lag


def test_bad_feature_and_lag_are_refused_with_the_choices(inv):
    with pytest.raises(UnknownColumn, match="no feature 'nope'"):
        CorrelationPanel(inv, feature="nope")
    with pytest.raises(ValueError, match="between -7 and 7"):
        CorrelationPanel(inv, lag=30)
