"""A model's metric over time (the frame ``metric_series`` returns) as a line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.plots import _style

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["metric_series_figure"]


def metric_series_figure(
    frame: Any,
    metric: str = "metric",
    *,
    x: str | None = None,
    y: str = "value",
    marks: Mapping[str, date | datetime | str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """One line of ``y`` against ``x`` (``metric_series``' window_start, or a points frame's time,
    and value columns), each point's
    run id (when the frame has ``run_id``) in its hover; ``marks`` draws labelled vertical lines,
    e.g. ``{"training": "2026-06-30", "incident": "2026-07-30"}``."""
    import plotly.graph_objects as go

    data = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame(frame)
    if x is None:
        x = next((c for c in ("window_start", "time", "date") if c in data.columns), "window_start")
    missing = [c for c in (x, y) if c not in data.columns]
    if missing:
        raise UnknownColumn(
            f"the metric series has no column {missing[0]!r}. Its columns: {', '.join(data.columns) or 'none'}. "
            "Pass x= and y= to name the time and value columns."
        )
    data = data.sort(x)
    run_ids = data["run_id"].to_list() if "run_id" in data.columns else [""] * data.height
    trace = go.Scatter(
        x=data[x].to_list(), y=data[y].to_list(), mode="lines+markers", name=metric,
        line={"color": _style.BASELINE}, customdata=run_ids,
        hovertemplate="%{x}<br>" + metric + " %{y:.4g}<br>run %{customdata}<extra></extra>",
    )
    shapes, annotations = [], []
    for label, when in (marks or {}).items():
        shapes.append({"type": "line", "xref": "x", "x0": str(when), "x1": str(when), "yref": "paper",
                       "y0": 0, "y1": 1, "line": {"color": _style.THRESHOLD, "dash": "dot", "width": 1}})  # fmt: skip
        annotations.append({"xref": "x", "x": str(when), "yref": "paper", "y": 1, "yanchor": "bottom",
                            "text": label, "showarrow": False})  # fmt: skip
    if data.height == 0:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": f"no {metric} values found"})  # fmt: skip
    layout = _style.base_layout(
        title or f"{metric} over time", shapes=shapes, annotations=annotations, showlegend=False,
        xaxis={"title": {"text": x}}, yaxis={"title": {"text": metric}},
    )
    return go.Figure(data=[trace], layout=layout)
