"""Colours and layout shared by the figure builders, so every panel reads the same way."""

from __future__ import annotations

from typing import Any

BASELINE = "#4c78a8"  # blue: the data the model was trained on
CURRENT = "#f58518"  # orange: the data it sees now
STATUS = {"ok": "#54a24b", "warn": "#eeca3b", "drift": "#e45756", "too_small": "#bab0ac", "empty": "#d8d8d8", None: "#9d9d9d"}
THRESHOLD = "#e45756"
WARN = "#eeca3b"
SELECTED = "#222222"

NODE_FILL = {"dataset": "#c6dbef", "job": "#e5e5e5", "field": "#fdd0a2"}
NODE_SYMBOL = {"dataset": "square", "job": "circle", "field": "diamond"}
CHANGED = "#f58518"
FAILED = "#e45756"
SUSPECT = "#7b3294"


_AXIS = {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "automargin": True}
# A small explicit template: figures look the same whatever pio.templates.default a notebook set,
# and plotly does not deep-copy a full named template (most of a figure's build time) each time.
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"color": "#2a3f5f"},
        "hoverlabel": {"align": "left"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
}


def base_layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left"},
        "template": TEMPLATE,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 360,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    }
    layout.update(extra)
    return layout
