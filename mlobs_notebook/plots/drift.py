"""Drift figures from a DriftReport: what was computed once is drawn here, never recomputed.

- ``histogram_overlay``: baseline and current distributions of one feature in one window, from the
  report's ``bins`` (numeric: overlaid bars per bin; categorical: side-by-side bars per category);
- ``drift_over_windows``: one statistic of one feature across windows, with its threshold lines;
- ``drift_ranking``: every feature ranked by drift (``feature_ranking`` is the table behind it).

Bars show shares (so a 4,000-row window and a 120,000-row baseline compare), and every bar
carries its raw count in ``customdata``: the counts are the report's, bin for bin.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn, UnknownStatistic
from mlobs_notebook.plots import _style
from mlobs_notebook.times import Granularity, human, in_zone

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from mlobs_notebook.drift import DriftReport

__all__ = [
    "DEFAULT_STATISTIC",
    "bin_labels",
    "drift_over_windows",
    "drift_ranking",
    "feature_ranking",
    "histogram_overlay",
    "report_windows",
    "threshold_of",
    "window_key",
    "window_label",
]

DEFAULT_STATISTIC = "population_stability_index"
_DRIFT_TYPES = ("BASELINE", "CONSECUTIVE")


# --- arguments ---------------------------------------------------------------------------------
def _check_drift_type(drift_type: str) -> str:
    if drift_type not in _DRIFT_TYPES:
        raise InputError(f"drift_type must be one of {', '.join(_DRIFT_TYPES)}, not {drift_type!r}")
    return drift_type


def _check_column(report: DriftReport, column: str) -> None:
    known = report.table["column_name"].unique(maintain_order=True).to_list()
    if column not in known:
        raise UnknownColumn(
            f"the drift report has no column {column!r}. Compared columns: {', '.join(known) or 'none'}."
        )


def _check_statistic(report: DriftReport, statistic: str) -> None:
    if statistic not in report.table.columns or (report.statistics and statistic not in report.statistics):
        listed = ", ".join(report.statistics) if report.statistics else "none"
        raise UnknownStatistic(
            f"the drift report has no statistic {statistic!r}. It computed: {listed}. "
            "Pass statistics=[...] to compute_drift for others."
        )


def window_key(report: DriftReport, value: Any) -> datetime | None:
    """A window as the report labels it (aware, in the report's zone): a datetime, a date (its
    midnight in that zone) or ISO text; None for a report without windows."""
    if value is None:
        return None
    return in_zone(value, report.zone, "window")


def report_windows(report: DriftReport, drift_type: str = "BASELINE") -> list[datetime | None]:
    """Window starts of the report, in time order (``[None]`` for a report without windows)."""
    rows = report.table.filter(pl.col("drift_type") == _check_drift_type(drift_type))
    return rows["window_start"].unique().sort(nulls_last=False).to_list()


def _rows_for(frame: pl.DataFrame, column: str, drift_type: str, window: datetime | None) -> pl.DataFrame:
    keep = (pl.col("column_name") == column) & (pl.col("drift_type") == drift_type)
    keep &= pl.col("window_start").is_null() if window is None else pl.col("window_start") == window
    return frame.filter(keep)


def window_label(window: datetime | None, granularity: Granularity | None = None) -> str:
    """A window's start as a person reads it ("all data" when the report has no windows)."""
    if window is None:
        return "all data"
    return human(window, granularity)


# --- histograms --------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:.4g}"


def bin_labels(row: dict[str, Any]) -> list[str]:
    """One label per count of a bins row: numeric bins are left-closed ``[a, b)``, open at the
    ends, and the last bin holds nulls and NaN."""
    if row["kind"] == "categorical" or row["bin_edges"] is None:
        return ["null" if c is None else str(c) for c in row["categories"]]
    edges = row["bin_edges"]
    labels = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if math.isinf(lo) and math.isinf(hi):
            labels.append("all values")
        elif math.isinf(lo):
            labels.append(f"< {_fmt(hi)}")
        elif math.isinf(hi):
            labels.append(f">= {_fmt(lo)}")
        else:
            labels.append(f"[{_fmt(lo)}, {_fmt(hi)})")
    return [*labels, "null"]


def _shares(counts: list[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def histogram_overlay(
    report: DriftReport,
    column: str,
    window: Any = None,
    *,
    drift_type: str = "BASELINE",
    normalize: bool = True,
) -> go.Figure:
    """Baseline and current distributions of ``column`` in ``window``, from the report's bins.

    ``window``: a window start (datetime, date or ISO string); ``None`` pools every window (the
    current counts summed; the baseline is the same in every BASELINE row). Numeric columns get
    overlaid bars per bin, categorical ones side-by-side bars per category. ``normalize=False``
    plots raw counts instead of shares. Each bar's ``customdata`` is its count.
    """
    import plotly.graph_objects as go

    _check_column(report, column)
    _check_drift_type(drift_type)
    rows = report.bins.filter((pl.col("column_name") == column) & (pl.col("drift_type") == drift_type))
    if window is None and rows["window_start"].null_count() < rows.height:
        if drift_type == "CONSECUTIVE":
            raise InputError("pooling every window needs drift_type='BASELINE'; choose a window")
        first = rows.row(0, named=True)
        baseline_counts = first["baseline_counts"]
        current_counts = _sum_lists(rows["current_counts"].to_list())
        row, label = first, "all windows"
    else:
        key = window_key(report, window)
        picked = _rows_for(report.bins, column, drift_type, key)
        if picked.height == 0:
            windows = [w for w in report_windows(report, drift_type) if w is not None]
            span = f"{window_label(windows[0])} .. {window_label(windows[-1])}" if windows else "none"
            raise InputError(
                f"the drift report has no {drift_type} window starting {window_label(key)} for "
                f"{column!r}. Its {len(windows)} windows start {span} (granularity {report.granularity})."
            )
        row = picked.row(0, named=True)
        baseline_counts, current_counts, label = row["baseline_counts"], row["current_counts"], window_label(key)
    labels = bin_labels(row)
    reference = "previous window" if drift_type == "CONSECUTIVE" else "baseline"
    categorical = row["kind"] == "categorical"
    traces = []
    for name, counts, color in (
        (reference, baseline_counts, _style.BASELINE),
        (f"current ({label})", current_counts, _style.CURRENT),
    ):
        counts = [int(c) for c in counts]
        y = _shares(counts) if normalize else counts
        traces.append(
            go.Bar(
                x=labels, y=y, name=name, customdata=counts, marker_color=color,
                opacity=1.0 if categorical else 0.6,
                hovertemplate="%{x}<br>%{customdata:,} rows"
                + ("<br>%{y:.1%} of the sample" if normalize else "")
                + f"<extra>{name}</extra>",
            )
        )
    subtitle = ""
    if label != "all windows":
        stat = _rows_for(report.table, column, drift_type, row["window_start"])
        psi = stat[DEFAULT_STATISTIC][0] if stat.height and DEFAULT_STATISTIC in stat.columns else None
        if psi is not None:
            subtitle = f" (PSI {psi:.3f}, {stat['status'][0]})"
    layout = _style.base_layout(
        f"{column}: {reference} vs current, {label}{subtitle}",
        barmode="group" if categorical else "overlay",
        xaxis={"title": {"text": "category" if categorical else "bin"}, "type": "category"},
        yaxis={"title": {"text": "share of rows" if normalize else "rows"}, "tickformat": ".0%" if normalize else ","},
    )
    return go.Figure(data=traces, layout=layout)


def _sum_lists(lists: list[list[int]]) -> list[int]:
    total = [0] * len(lists[0])
    for counts in lists:
        for i, c in enumerate(counts):
            total[i] += int(c)
    return total


# --- statistics over windows -------------------------------------------------------------------
def threshold_of(
    report: DriftReport, column: str, statistic: str, drift_type: str = "BASELINE"
) -> tuple[float | None, float | None, bool]:
    """(warn, drift, judged): the levels the report judged ``column`` by for ``statistic``, or
    the statistic's registered defaults with ``judged`` False when the report did not judge by it.
    For a p-value the levels are the lower bounds, otherwise the upper ones."""
    from mlobs_notebook.drift import get_statistic

    registered = get_statistic(statistic)
    used = report.threshold(column, statistic, drift_type)
    if used is not None and used.defined:
        if registered.pvalue:
            return used.warn_lower, used.lower, True
        return used.warn_upper, used.upper, True
    return registered.warn_threshold, registered.drift_threshold, False


def drift_over_windows(
    report: DriftReport,
    column: str,
    statistic: str = DEFAULT_STATISTIC,
    *,
    drift_type: str = "BASELINE",
    window: Any = None,
) -> go.Figure:
    """``statistic`` of ``column`` in every window, markers coloured by status, with the drift
    (and warn) threshold as horizontal lines; ``window`` marks the chosen window."""
    import plotly.graph_objects as go

    _check_column(report, column)
    _check_statistic(report, statistic)
    _check_drift_type(drift_type)
    rows = report.table.filter(
        (pl.col("column_name") == column) & (pl.col("drift_type") == drift_type)
    ).sort("window_start", nulls_last=False)
    x = [w if w is not None else "all data" for w in rows["window_start"].to_list()]
    values = rows[statistic].to_list()
    statuses = rows["status"].to_list()
    warn, drift, judged = threshold_of(report, column, statistic, drift_type)
    traces = [
        go.Scatter(
            x=x, y=values, mode="lines+markers", name=statistic,
            line={"color": _style.BASELINE},
            marker={"color": [_style.STATUS.get(s, _style.STATUS[None]) for s in statuses], "size": 8},
            customdata=[s or "not judged" for s in statuses],
            hovertemplate="%{x}<br>" + statistic + " %{y:.4g}<br>%{customdata}<extra></extra>",
        )
    ]
    shapes, annotations = [], []
    label = "threshold" if judged else "registered default threshold (not used to judge)"
    for level, color, text in ((drift, _style.THRESHOLD, f"drift {label}"), (warn, _style.WARN, "warn")):
        if level is None:
            continue
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": level, "y1": level,
                       "line": {"color": color, "dash": "dash", "width": 2}})  # fmt: skip
        annotations.append({"xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": level,
                            "yanchor": "bottom", "text": f"{text} {level:g}", "showarrow": False,
                            "font": {"color": color}})  # fmt: skip
    key = window_key(report, window)
    if key is not None:
        shapes.append({"type": "line", "xref": "x", "x0": key, "x1": key, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": _style.SELECTED, "dash": "dot", "width": 1}})  # fmt: skip
    if all(v is None for v in values):
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": f"{statistic} was not computed for {column!r} ({rows['kind'][0] if rows.height else ''})"})  # fmt: skip
    layout = _style.base_layout(
        f"{column}: {statistic} over windows ({drift_type.lower()})",
        shapes=shapes, annotations=annotations, showlegend=False,
        xaxis={"title": {"text": "window start"}}, yaxis={"title": {"text": statistic}, "rangemode": "tozero"},
    )
    return go.Figure(data=traces, layout=layout)


# --- ranking -----------------------------------------------------------------------------------
def feature_ranking(
    report: DriftReport, statistic: str = DEFAULT_STATISTIC, *, drift_type: str = "BASELINE"
) -> pl.DataFrame:
    """Every compared feature, most drifted first: :meth:`DriftReport.worst_by_column`, after
    checking the report has ``statistic`` and the drift type exists."""
    _check_statistic(report, statistic)
    return report.worst_by_column(statistic, _check_drift_type(drift_type))


def drift_ranking(
    report: DriftReport, statistic: str = DEFAULT_STATISTIC, *, drift_type: str = "BASELINE"
) -> go.Figure:
    """Features ranked by drift (see ``feature_ranking``): one horizontal bar per feature, the
    worst value of ``statistic``, coloured by the worst status, most drifted on top."""
    import plotly.graph_objects as go

    ranking = feature_ranking(report, statistic, drift_type=drift_type)
    names = ranking["column_name"].to_list()
    statuses = ranking["status"].to_list()
    text = [
        f"{d} of {n} windows drifted" for d, n in zip(ranking["drifted_windows"], ranking["windows"], strict=True)
    ]
    trace = go.Bar(
        x=ranking["worst"].to_list(), y=names, orientation="h",
        marker_color=[_style.STATUS.get(s, _style.STATUS[None]) for s in statuses],
        customdata=list(zip(ranking["drifted_windows"], ranking["warned_windows"], ranking["windows"],
                            [s or "not judged" for s in statuses], strict=True)),  # fmt: skip
        text=text, textposition="auto",
        hovertemplate="%{y}<br>worst " + statistic + " %{x:.4g}<br>%{customdata[0]} drifted, "
        "%{customdata[1]} warned of %{customdata[2]} windows<br>%{customdata[3]}<extra></extra>",
    )
    layout = _style.base_layout(
        f"features ranked by drift ({statistic}, {drift_type.lower()})",
        showlegend=False, height=max(220, 60 + 32 * len(names)),
        xaxis={"title": {"text": f"worst {statistic} over windows"}, "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return go.Figure(data=[trace], layout=layout)
