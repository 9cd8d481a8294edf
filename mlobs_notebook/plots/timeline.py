"""The drift-vs-metric timeline of an investigation: one feature's drift and the model metric on
two y axes, with the drift onset, the metric drop, suspect runs and the lead time marked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

__all__ = ["drift_metric_timeline", "timeline_events"]


def timeline_events(investigation: Any) -> list[dict[str, Any]]:
    """Dated events of an investigation, oldest first: training, promotion, drift onsets,
    suspect runs, the metric drop."""
    inv = investigation
    events: list[dict[str, Any]] = []
    trained = inv.trained_until
    if inv.current_range[0] is not None:
        events.append({"when": inv.current_range[0], "what": "current data starts",
                       "detail": f"windows of {inv.granularity} from {inv.current_source}"})
    if trained is not None:
        events.append({"when": trained, "what": "training data ends", "detail": inv.dataset.source.uri})
    if inv.model.creation_time is not None:
        aliases = ", ".join(inv.model.aliases) or "no alias"
        events.append({"when": inv.model.creation_time, "what": "model version registered",
                       "detail": f"{inv.model.name} version {inv.model.version} ({aliases})"})
    for onset in inv.diagnosis.drifted:
        events.append({"when": onset.onset, "what": "drift onset",
                       "detail": f"{onset.feature}: {onset.statistic} {onset.value_at_onset:.3f}"})
    for suspect in inv.diagnosis.suspects:
        events.append({"when": suspect.event_time, "what": "suspect run",
                       "detail": f"{suspect.job} ({', '.join(suspect.kinds)}), run {suspect.run_id}"})
    if inv.drop.onset is not None:
        events.append({"when": inv.drop.onset, "what": "metric drop",
                       "detail": f"{inv.metric_name} {inv.drop.value_at_onset:.3f} "
                                 f"(reference {inv.drop.reference:.3f})"})

    def key(e: dict[str, Any]) -> datetime:
        w = e["when"]
        if isinstance(w, datetime):
            return w.replace(tzinfo=None)
        return datetime(w.year, w.month, w.day)

    return sorted(events, key=key)


def drift_metric_timeline(
    drift: pl.DataFrame,
    metric: pl.DataFrame,
    *,
    feature: str,
    metric_name: str,
    statistic: str = "population_stability_index",
    threshold: float | None = 0.2,
    drift_onset: date | None = None,
    metric_onset: date | None = None,
    suspects: list[tuple[datetime, str]] = (),
    title: str | None = None,
):
    """``drift``: (date, value) of one feature; ``metric``: (date, value)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=drift["date"].to_list(), y=drift["value"].to_list(), name=f"{feature} ({statistic})",
        mode="lines+markers", line={"color": "#d62728"}, yaxis="y",
    ))
    fig.add_trace(go.Scatter(
        x=metric["date"].to_list(), y=metric["value"].to_list(), name=metric_name,
        mode="lines+markers", line={"color": "#1f77b4"}, yaxis="y2",
    ))
    if threshold is not None:
        fig.add_hline(y=threshold, line={"dash": "dot", "color": "#d62728"},
                      annotation_text=f"drift threshold {threshold}", annotation_position="top left")
    # the onset labels sit on either side of their lines so that close onsets stay readable
    for when, label, color, side in (
        (drift_onset, "drift onset", "#d62728", "top left"),
        (metric_onset, f"{metric_name} drop", "#1f77b4", "top right"),
    ):
        if when is not None:
            fig.add_vline(x=datetime(when.year, when.month, when.day).timestamp() * 1000,
                          line={"dash": "dash", "color": color}, annotation_text=label,
                          annotation_position=side)
    for when, label in suspects:
        fig.add_vline(x=when.replace(tzinfo=None).timestamp() * 1000, line={"color": "#ff7f0e"},
                      annotation_text=label, annotation_position="bottom right")
    if drift_onset is not None and metric_onset is not None:
        lead = (metric_onset - drift_onset).days
        middle = drift_onset + (metric_onset - drift_onset) / 2
        fig.add_annotation(
            x=datetime(middle.year, middle.month, middle.day), y=1.12, yref="paper",
            text=f"lead time: {lead} day{'s' if abs(lead) != 1 else ''}", showarrow=False,
        )
    from mlobs_notebook.plots._style import TEMPLATE

    fig.update_layout(
        template=TEMPLATE,
        title=title or f"{feature} drift and {metric_name} over time",
        yaxis={"title": statistic},
        yaxis2={"title": metric_name, "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 90, "r": 60, "l": 60, "b": 60},
        height=420,
    )
    return fig
