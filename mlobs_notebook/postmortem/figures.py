"""The postmortem's figures: plotly for HTML, SVG for Markdown, for the top drifted features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.correlate import drift_series
from mlobs_notebook.postmortem import svg
from mlobs_notebook.postmortem.contents import TOP_FEATURES
from mlobs_notebook.times import human

if TYPE_CHECKING:
    from mlobs_notebook.correlate import FeatureOnset
    from mlobs_notebook.investigation import Investigation

__all__ = ["figures", "svg_figures", "svg_names"]


def _top(inv: Investigation) -> list[FeatureOnset]:
    return list(inv.diagnosis.drifted[:TOP_FEATURES]) or list(inv.onsets[:1])


def _binned(inv: Investigation, top: list[FeatureOnset]) -> list[FeatureOnset]:
    """The features whose distributions the report holds (drift read from a Databricks drift
    metrics table has none)."""
    names = set(inv.drift.bins["column_name"].unique().to_list())
    return [o for o in top if o.feature in names]


def figures(inv: Investigation) -> list[tuple[str, Any]]:
    """(caption, plotly figure) pairs: per top feature its timeline and its distributions, then
    the lineage path to the first suspect."""
    from mlobs_notebook.plots.drift import histogram_overlay
    from mlobs_notebook.plots.timeline import drift_metric_timeline

    out: list[tuple[str, Any]] = []
    series = drift_series(inv.drift)
    top = _top(inv)
    for o in top:
        out.append((
            f"{o.feature}: drift and {inv.metric_name} over time",
            drift_metric_timeline(
                series.filter(pl.col("feature") == o.feature), inv.metric, feature=o.feature,
                metric_name=inv.metric_name, drift_onset=o.onset, metric_onset=inv.drop.onset,
                suspects=[(s.event_time, s.job) for s in inv.diagnosis.suspects if o.feature in s.features],
            ),
        ))
    for o in _binned(inv, top):
        label = f" ({human(o.onset, inv.granularity)})" if o.onset is not None else ""
        out.append((f"{o.feature}: baseline and current distribution{label}",
                    histogram_overlay(inv.drift, o.feature, o.onset)))
    lineage = _lineage_figure(inv)
    if lineage is not None:
        out.append(lineage)
    return out


def _lineage_figure(inv: Investigation) -> tuple[str, Any] | None:
    from mlobs_notebook.plots.lineage import lineage_figure

    suspect = inv.diagnosis.suspects[0] if inv.diagnosis.suspects else None
    if suspect is None:
        return None
    feature = suspect.features[0]
    upstream = inv.upstream.get(feature)
    if upstream is None:
        return None
    return (f"Lineage: upstream of {feature}", lineage_figure(upstream, graph=inv.lineage, highlight=[suspect.job]))


def svg_names(inv: Investigation) -> list[tuple[str, str]]:
    """(file name, caption) of the SVG figures :func:`svg_figures` makes."""
    top = _top(inv)
    names = [(f"timeline_{i}.svg", f"{o.feature}: drift and {inv.metric_name}") for i, o in enumerate(top)]
    binned = _binned(inv, top)
    names += [(f"histogram_{i}.svg", f"{o.feature}: baseline and current") for i, o in enumerate(top) if o in binned]
    return names


def svg_figures(inv: Investigation) -> dict[str, str]:
    """File name -> SVG text: per top feature a drift-and-metric line chart and a histogram."""
    from mlobs_notebook.plots.drift import bin_labels

    series = drift_series(inv.drift)
    metric = inv.metric.sort("window_start")
    out = {}
    for i, o in enumerate(_top(inv)):
        s = series.filter(pl.col("feature") == o.feature)
        markers = [(m, label) for m, label in ((o.onset, "drift onset"), (inv.drop.onset, f"{inv.metric_name} drop")) if m]
        out[f"timeline_{i}.svg"] = svg.line_chart(
            f"{o.feature}: {o.statistic} and {inv.metric_name}",
            [(o.feature, s["window_start"].to_list(), s["value"].to_list()),
             (inv.metric_name, metric["window_start"].to_list(), metric["value"].to_list())],
            markers,
        )
        rows = inv.drift.bins.filter((pl.col("column_name") == o.feature) & (pl.col("drift_type") == "BASELINE"))
        if rows.height == 0:
            continue
        if o.onset is not None:
            at = rows.filter(pl.col("window_start") == o.onset)
            rows = at if at.height else rows
        row = rows.row(0, named=True)
        base, cur = row["baseline_counts"], row["current_counts"]
        when = human(o.onset, inv.granularity) if o.onset is not None else "current"
        out[f"histogram_{i}.svg"] = svg.bar_chart(
            f"{o.feature}: baseline vs {when}", bin_labels(row),
            [("baseline", [c / max(1, sum(base)) for c in base]), ("current", [c / max(1, sum(cur)) for c in cur])],
        )
    return out
