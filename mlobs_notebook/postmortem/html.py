"""The postmortem as HTML: a light summary for notebooks, and one self-contained file.

Both come from Jinja2 templates with autoescape (``templates/postmortem/``), so every user
string (column, job and dataset names, a job's SQL) is escaped. The file embeds its figures and
plotly.js once, inline, so it opens offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from mlobs_notebook import markup
from mlobs_notebook.postmortem.contents import (
    inconclusive_lines,
    iso,
    metric_line,
    signal_rows,
    snapshot_line,
    timeline_rows,
)
from mlobs_notebook.postmortem.figures import figures
from mlobs_notebook.times import human

if TYPE_CHECKING:
    from mlobs_notebook.investigation import Investigation

__all__ = ["VERDICT_COLORS", "summary_html", "to_html"]

VERDICT_COLORS = {
    "pipeline_bug": "#b91c1c", "data_drift": "#b45309", "model_drift": "#6d28d9",
    "healthy": "#15803d", "inconclusive": "#374151", "app_change": "#0e7490",
}


def _fmt(v: object, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))


def summary_html(inv: Investigation) -> str:
    """The light view a notebook shows for an Investigation: verdict, evidence, suspects."""
    d = inv.diagnosis
    suspects = [
        [s.job, s.run_id, iso(s.event_time), ", ".join(s.kinds), ", ".join(s.features),
         "column" if s.column_level else "dataset"]
        for s in d.suspects
    ]
    return markup.render("postmortem/summary.html.j2", inv=inv, d=d, suspects=suspects,
                         color=VERDICT_COLORS.get(d.verdict, "#374151"), why=inconclusive_lines(inv))


def to_html(inv: Investigation) -> str:
    """The self-contained HTML postmortem (figures inline, plotly.js once)."""
    d = inv.diagnosis
    drifted = [
        [o.feature, human(o.onset, inv.granularity), _fmt(o.value_at_onset), _fmt(o.peak_value),
         f"{o.drifted_windows} / {o.windows}"]
        for o in d.drifted
    ] or [["none", "", "", "", ""]]
    rendered = [
        (caption, Markup(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})))
        for i, (caption, fig) in enumerate(figures(inv))
    ]
    baseline = [
        ["traces" if inv.of_traces else "training dataset", inv.dataset.name],
        ["source", inv.dataset.source.uri],
        ["read", inv.baseline_source or inv.dataset.source.uri],
        ["digest", inv.dataset.digest],
        ["digest check", snapshot_line(inv)],
        ["metric series", metric_line(inv)],
    ]
    return markup.render(
        "postmortem/report.html.j2",
        title=f"Postmortem: {inv.model.label} — {d.verdict}",
        app_changes=inv.app_changes,
        summary=Markup(summary_html(inv)),
        timeline=timeline_rows(inv),
        drifted=drifted,
        signals=signal_rows(inv),
        figures=rendered,
        d=d,
        baseline=baseline,
        notes=inv.notes,
    )
