"""Drift against the model metric: the figures of the correlation step of an investigation.

- ``feature_timeline``: one feature's drift and the metric on one timeline (two y axes), with the
  drift onset, the metric drop, suspect runs and the lead time marked;
- ``drift_metric_scatter``: drift in window w against the metric in window w + lag, one point per
  pair;
- ``lag_correlation_figure``: Pearson and Spearman over every lag, each bar with its point count.

Lags are counted in the investigation's windows (days at ``1d``, hours at ``1h``).

The figures draw what the investigation computed (``Investigation.correlations``); a feature the
investigation did not correlate (it correlates drifted features only) is correlated here with
the same ``correlate.lagged_correlation``, so every feature can be looked at the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.plots import _style
from mlobs_notebook.times import Granularity, human

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "correlation_table",
    "drift_metric_scatter",
    "feature_drift",
    "feature_timeline",
    "lag_correlation_figure",
    "lag_pairs",
    "ranked_features",
]

STATISTIC = "population_stability_index"
DEFAULT_MAX_LAG = 7


def _check_feature(investigation: Any, feature: str) -> None:
    if feature not in investigation.features:
        raise UnknownColumn(
            f"the investigation compared no feature {feature!r}. Its features: "
            f"{', '.join(investigation.features) or 'none'}."
        )


def ranked_features(investigation: Any) -> list[str]:
    """Features in the order a reader should look at them: drifted ones by onset, then the rest
    by their peak drift (the order of ``investigation.onsets``)."""
    seen = [o.feature for o in investigation.onsets]
    return seen + [f for f in investigation.features if f not in seen]


def feature_drift(investigation: Any, feature: str, statistic: str = STATISTIC) -> pl.DataFrame:
    """(window_start, value, drifted) of one feature's baseline drift per window."""
    from mlobs_notebook.correlate import drift_series

    _check_feature(investigation, feature)
    return drift_series(investigation.drift, statistic).filter(pl.col("feature") == feature).drop("feature")


def _max_lag(investigation: Any) -> int:
    for table in investigation.correlations.values():
        if table.height:
            return int(table["lag"].max())
    return DEFAULT_MAX_LAG


def correlation_table(investigation: Any, feature: str) -> pl.DataFrame:
    """(lag, pearson, spearman, points) of ``feature``: the investigation's own table, or the
    same computation over the same lags for a feature it did not correlate."""
    from mlobs_notebook.correlate import lagged_correlation

    if feature in investigation.correlations:
        return investigation.correlations[feature]
    return lagged_correlation(feature_drift(investigation, feature), investigation.metric,
                              investigation.granularity, max_lag=_max_lag(investigation))  # fmt: skip


def lag_pairs(drift: pl.DataFrame, metric: pl.DataFrame, lag: int, granularity: Granularity | str = "1d") -> pl.DataFrame:
    """(window_start, drift, metric_window, metric): drift in a window beside the metric ``lag``
    windows later, the pairs ``correlate.lagged_correlation`` correlates at that lag."""
    step = Granularity.parse(granularity)
    values = {k: v for k, v in metric.drop_nulls("value").select("window_start", "value").iter_rows()}
    rows = []
    for start, value in drift.drop_nulls("value").select("window_start", "value").iter_rows():
        later = step.add(start, lag)
        if later in values:
            rows.append((start, value, later, values[later]))
    dtype = drift.schema["window_start"]
    schema: dict[str, pl.DataType] = {"window_start": dtype, "drift": pl.Float64(), "metric_window": dtype,
                                      "metric": pl.Float64()}
    return pl.DataFrame(rows, schema=schema, orient="row").sort("window_start")


def feature_timeline(investigation: Any, feature: str, statistic: str = STATISTIC) -> go.Figure:
    """``feature``'s drift and the metric over time on two axes, with the drift threshold, the
    onsets, the suspect runs that touch the feature and the lead time marked."""
    from mlobs_notebook.plots.drift import threshold_of
    from mlobs_notebook.plots.timeline import drift_metric_timeline

    inv = investigation
    drift = feature_drift(inv, feature, statistic)
    onset = next((o.onset for o in inv.onsets if o.feature == feature), None)
    _warn, threshold, _judged = threshold_of(inv.drift, feature, statistic)
    suspects = [(s.event_time, s.job.rsplit(".", 1)[-1]) for s in inv.diagnosis.suspects if feature in s.features]
    fig = drift_metric_timeline(
        drift.select("window_start", "value"), inv.metric.select("window_start", "value"), feature=feature,
        metric_name=inv.metric_name, statistic=statistic, threshold=threshold, drift_onset=onset,
        metric_onset=inv.drop.onset, suspects=suspects,
    )
    fig.update_layout(template=_style.TEMPLATE)  # the panels' look; and no full named template to copy
    return fig


def drift_metric_scatter(
    investigation: Any, feature: str, lag: int = 0, statistic: str = STATISTIC
) -> go.Figure:
    """One point per window w: ``feature``'s drift in w (x) against the metric in w + ``lag`` (y),
    coloured by whether the window was flagged as drifted; the title carries the correlation
    figures of that lag and the number of points behind them."""
    import plotly.graph_objects as go

    inv = investigation
    table = correlation_table(inv, feature)
    lags = table["lag"].to_list()
    if lag not in lags:
        raise InputError(
            f"lag {lag} is outside the lags correlated ({min(lags)} .. {max(lags)} windows of {inv.granularity})")
    drift = feature_drift(inv, feature, statistic)
    pairs = lag_pairs(drift, inv.metric, lag, inv.granularity).join(
        drift.select("window_start", "drifted"), on="window_start", how="left"
    )
    row = table.filter(pl.col("lag") == lag).row(0, named=True)
    traces = []
    for flagged, name, color in ((False, "window not drifted", _style.BASELINE), (True, "window drifted", _style.THRESHOLD)):
        part = pairs.filter(pl.col("drifted").fill_null(False) == flagged)
        traces.append(go.Scatter(
            x=part["drift"].to_list(), y=part["metric"].to_list(), mode="markers", name=name,
            marker={"color": color, "size": 8, "opacity": 0.8},
            customdata=[[human(d, inv.granularity), human(m, inv.granularity)]
                        for d, m in zip(part["window_start"], part["metric_window"], strict=True)],
            hovertemplate=(f"drift on %{{customdata[0]}}: %{{x:.4g}}<br>{inv.metric_name} on "
                           "%{customdata[1]}: %{y:.4g}<extra></extra>"),
        ))  # fmt: skip

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+.2f}"

    step = inv.granularity
    when = "in the same window" if lag == 0 else f"{step.windows(lag)} {'later' if lag > 0 else 'earlier'}"
    title = (f"{feature} drift vs {inv.metric_name} {when}<br><sub>Pearson {fmt(row['pearson'])}, "
             f"Spearman {fmt(row['spearman'])}, {row['points']} points</sub>")  # fmt: skip
    layout = _style.base_layout(
        title, margin={"l": 60, "r": 20, "t": 80, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0},
        xaxis={"title": {"text": f"{feature} drift ({statistic})"}},
        yaxis={"title": {"text": f"{inv.metric_name}, {int(lag):+d} windows of {step}"}},
    )
    return go.Figure(data=traces, layout=layout)


def lag_correlation_figure(investigation: Any, feature: str, lag: int | None = None) -> go.Figure:
    """Pearson and Spearman correlation of ``feature``'s drift with the metric at each lag, the
    number of points written on each bar; ``lag`` marks the chosen lag and the lead time is
    drawn as a dotted line."""
    import plotly.graph_objects as go

    inv = investigation
    table = correlation_table(inv, feature)
    lags = table["lag"].to_list()
    points = table["points"].to_list()
    traces = []
    for name, color in (("pearson", _style.BASELINE), ("spearman", _style.CURRENT)):
        values = table[name].to_list()
        traces.append(go.Bar(
            x=lags, y=values, name=name.capitalize(), marker_color=color, customdata=points,
            text=[f"n={n}" if v is not None else f"n={n}, n/a" for v, n in zip(values, points, strict=True)],
            textposition="outside", textfont={"size": 9},
            hovertemplate=f"lag %{{x}} × {inv.granularity}<br>{name} %{{y:.3f}}<br>%{{customdata}} points<extra></extra>",
        ))  # fmt: skip
    shapes, annotations = [], []
    if lag is not None:
        shapes.append({"type": "rect", "xref": "x", "x0": lag - 0.5, "x1": lag + 0.5, "yref": "paper",
                       "y0": 0, "y1": 1, "fillcolor": _style.SELECTED, "opacity": 0.08, "line": {"width": 0}})  # fmt: skip
    lead = inv.lead_windows
    if lead is not None and lags and min(lags) <= lead <= max(lags):
        shapes.append({"type": "line", "xref": "x", "x0": lead, "x1": lead, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": _style.THRESHOLD, "dash": "dot", "width": 1}})  # fmt: skip
        annotations.append({"xref": "x", "x": lead, "yref": "paper", "y": 1, "yanchor": "top", "xanchor": "left",
                            "xshift": 3, "text": f"lead time {inv.granularity.windows(lead)}", "showarrow": False})  # fmt: skip
    layout = _style.base_layout(
        f"{feature} drift vs {inv.metric_name}: correlation by lag<br><sub>drift in window w against "
        f"{inv.metric_name} in window w + lag ({inv.granularity} windows); n: the points behind each bar</sub>",
        barmode="group", shapes=shapes, annotations=annotations, margin={"l": 60, "r": 20, "t": 80, "b": 90},
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0},
        xaxis={"title": {"text": f"lag (windows of {inv.granularity})"}, "dtick": 1},
        yaxis={"title": {"text": "correlation"}, "range": [-1.15, 1.15]},
    )
    return go.Figure(data=traces, layout=layout)
