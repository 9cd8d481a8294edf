"""The drift-vs-metric timeline of an investigation: one feature's drift and the model metric on
two y axes, with the drift onset, the metric drop, suspect runs and the lead time marked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from mlobs_notebook.times import aware

__all__ = ["drift_metric_timeline", "timeline_events"]


def timeline_events(investigation: Any) -> list[dict[str, Any]]:
    """Dated events of an investigation, oldest first: training, promotion (an app: its versions
    starting to serve), drift onsets, suspect runs, the metric drop."""
    inv = investigation
    events: list[dict[str, Any]] = []
    trained = inv.trained_until
    if inv.current_range[0] is not None:
        events.append({"when": inv.current_range[0], "what": "current data starts",
                       "detail": f"windows of {inv.granularity} from {inv.current_source}"})
    if trained is not None:
        events.append({"when": trained, "what": "training data ends", "detail": inv.dataset.source.uri})
    for change in getattr(inv, "app_changes", ()):
        events.append({"when": change.at, "what": "app version serving",
                       "detail": f"{change.after} replaced {change.before}: {change.what}"})
    if inv.model.creation_time is not None and not getattr(inv, "of_traces", False):
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

    return sorted(events, key=lambda e: aware(e["when"]))


def _wall_ms(moment: datetime, zone: str) -> float:
    """Where plotly draws an instant on an axis of wall-clock times in ``zone``: plotly.js has no
    time zones, so the axis shows each window's local start; an instant is placed at its local time."""
    from zoneinfo import ZoneInfo

    wall = aware(moment).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return wall.replace(tzinfo=UTC).timestamp() * 1000


def _wall(values: list[Any], zone: str) -> list[Any]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    return [v.astimezone(tz).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v for v in values]


def drift_metric_timeline(
    drift: pl.DataFrame,
    metric: pl.DataFrame,
    *,
    feature: str,
    metric_name: str,
    statistic: str = "population_stability_index",
    threshold: float | None = 0.2,
    drift_onset: datetime | None = None,
    metric_onset: datetime | None = None,
    suspects: Sequence[tuple[datetime, str]] = (),
    title: str | None = None,
) -> Any:
    """``drift``: (window_start, value) of one feature; ``metric``: (window_start, value). The
    x axis shows wall-clock times in the drift windows' zone; onsets, suspects and the lead time
    are marked."""
    import plotly.graph_objects as go

    zone = getattr(drift.schema["window_start"], "time_zone", None) or "UTC"
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=_wall(drift["window_start"].to_list(), zone), y=drift["value"].to_list(), name=f"{feature} ({statistic})",
        mode="lines+markers", line={"color": "#d62728"}, yaxis="y",
    ))
    fig.add_trace(go.Scatter(
        x=_wall(metric["window_start"].to_list(), zone), y=metric["value"].to_list(), name=metric_name,
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
            fig.add_vline(x=_wall_ms(when, zone), line={"dash": "dash", "color": color}, annotation_text=label,
                          annotation_position=side)
    for when, label in suspects:
        fig.add_vline(x=_wall_ms(when, zone), line={"color": "#ff7f0e"},
                      annotation_text=label, annotation_position="bottom right")
    if drift_onset is not None and metric_onset is not None:
        lead = aware(metric_onset) - aware(drift_onset)
        middle = aware(drift_onset) + lead / 2
        fig.add_annotation(
            x=_wall(([middle]), zone)[0], y=1.12, yref="paper",
            text=f"lead time: {_lead_words(lead)}", showarrow=False,
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


def _lead_words(lead: timedelta) -> str:
    hours = lead.total_seconds() / 3600
    if abs(hours) < 48 and hours % 24:
        return f"{hours:.0f} hour{'s' if abs(hours) != 1 else ''}"
    days = round(hours / 24)
    return f"{days} day{'s' if abs(days) != 1 else ''}"
