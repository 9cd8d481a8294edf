"""The postmortem: an investigation as JSON, a light HTML summary, and a self-contained report.

HTML: one file, figures embedded, plotly.js included once (inline, so it opens offline).
Markdown: one file with its figures as SVG images in a folder beside it and the lineage path as a
Mermaid diagram. Every user string (column, job, dataset names, SQL) is escaped. Files are
written atomically: a failure leaves no half-written report.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.errors import InputError, OutputUnwritable

__all__ = ["investigation_dict", "summary_html", "to_html", "to_markdown", "write_report"]

TOP_FEATURES = 3


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _at_onset(inv: Any, feature: str, onset: date | None) -> dict[str, Any]:
    """The report's BASELINE row of ``feature`` in its onset window."""
    if onset is None:
        return {}
    rows = inv.drift.table.filter(
        (pl.col("column_name") == feature)
        & (pl.col("drift_type") == "BASELINE")
        & (pl.col("window_start").dt.date() == onset)
    )
    return rows.row(0, named=True) if rows.height else {}


STAT_KEYS = ("population_stability_index", "js_distance", "ks_statistic", "wasserstein_distance",
             "chi_squared_pvalue", "tv_distance", "percent_null_delta", "avg_delta")


def investigation_dict(inv: Any) -> dict[str, Any]:
    """The JSON contract of ``mlobs investigate --format json`` (schema: schemas/investigation.json)."""
    d = inv.diagnosis
    drifted = []
    for o in d.drifted:
        row = _at_onset(inv, o.feature, o.onset)
        entry = {
            "feature": o.feature,
            "first_drift_date": _iso(o.onset),
            "drifted_windows": o.drifted_windows,
            "windows": o.windows,
            "peak_" + o.statistic: o.peak_value,
        }
        entry.update({k: row.get(k) for k in STAT_KEYS})
        drifted.append(entry)
    check = inv.snapshot_check
    return {
        "verdict": d.verdict,
        "model": {
            "name": inv.model.name,
            "version": inv.model.version,
            "run_id": inv.model.run_id,
            "aliases": list(inv.model.aliases),
            "logged_model_id": inv.model.logged_model_id,
            "tracking_uri": inv.model.tracking_uri,
        },
        "baseline": {
            "name": inv.dataset.name,
            "source": inv.dataset.source.uri,
            "source_type": inv.dataset.source_type,
            "digest": inv.dataset.digest,
            "digest_matches": None if check is None else check.matches,
            "digest_message": None if check is None else check.message,
            "trained_until": _iso(inv.trained_until),
        },
        "current": {
            "source": inv.current_source,
            "time_column": inv.time_column,
            "granularity": inv.granularity,
            "start": _iso(inv.current_range[0]),
            "end": _iso(inv.current_range[1]),
            "features": list(inv.features),
        },
        "drifted_features": drifted,
        "metric": {
            "name": inv.metric_name,
            "baseline_value": inv.drop.reference,
            "tolerance": inv.drop.tolerance,
            "drop_date": _iso(inv.drop.onset),
            "value_at_drop": inv.drop.value_at_onset,
            "mean_after_drop": inv.drop.mean_after,
            "evaluations": inv.drop.points,
        },
        "lead_days": inv.lead_days,
        "suspects": [s.to_dict() for s in d.suspects],
        "evidence": list(d.evidence),
        "recommendation": d.recommendation,
        "warnings": list(d.warnings),
        "lineage_dataset": inv.lineage_dataset,
        "correlations": {
            feature: frame.to_dicts() for feature, frame in inv.correlations.items()
        },
        "notes": list(inv.notes),
    }


_VERDICT_COLORS = {"pipeline_bug": "#b91c1c", "data_drift": "#b45309", "model_drift": "#6d28d9", "healthy": "#15803d"}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;color:#1f2937;line-height:1.45}
.mlobs-verdict{display:inline-block;padding:.2em .7em;border-radius:.4em;color:#fff;font-weight:600}
table.mlobs{border-collapse:collapse;margin:.5em 0}table.mlobs td,table.mlobs th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
pre.mlobs-diff{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    out = ['<table class="mlobs"><tr>', *(f"<th>{_e(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _fmt(v: Any, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))


def summary_html(inv: Any) -> str:
    """The light view a notebook shows for an Investigation."""
    d = inv.diagnosis
    color = _VERDICT_COLORS.get(d.verdict, "#374151")
    parts = [
        f'<div class="mlobs-investigation"><p><span class="mlobs-verdict" style="background:{color};'
        f'color:#fff;padding:.2em .6em;border-radius:.3em">{_e(d.verdict)}</span> '
        f"{_e(inv.model.name)} version {_e(inv.model.version)} · {_e(inv.metric_name)}</p>",
        "<ul>", *(f"<li>{_e(s)}</li>" for s in d.evidence), "</ul>",
        f"<p><b>Recommendation:</b> {_e(d.recommendation)}</p>",
    ]
    if d.suspects:
        parts.append(_table(
            ["suspect job", "run id", "time", "kinds", "features", "lineage"],
            [[s.job, s.run_id, s.event_time.isoformat(), ", ".join(s.kinds), ", ".join(s.features),
              "column" if s.column_level else "dataset"] for s in d.suspects],
        ))
    if d.warnings:
        parts += ["<p><b>Warnings</b></p><ul>", *(f"<li>{_e(w)}</li>" for w in d.warnings), "</ul>"]
    parts.append("</div>")
    return "".join(parts)


def _figures(inv: Any) -> list[tuple[str, Any]]:
    """(title, plotly figure) pairs for the HTML report."""
    from mlobs_notebook.correlate import drift_series
    from mlobs_notebook.plots.drift import histogram_overlay
    from mlobs_notebook.plots.timeline import drift_metric_timeline

    figures = []
    series = drift_series(inv.drift)
    top = [o for o in inv.diagnosis.drifted][:TOP_FEATURES] or list(inv.onsets[:1])
    for o in top:
        figures.append((
            f"{o.feature}: drift and {inv.metric_name} over time",
            drift_metric_timeline(
                series.filter(pl.col("feature") == o.feature), inv.metric, feature=o.feature,
                metric_name=inv.metric_name, drift_onset=o.onset, metric_onset=inv.drop.onset,
                suspects=[(s.event_time, s.job) for s in inv.diagnosis.suspects if o.feature in s.features],
            ),
        ))
    for o in top:
        window = o.onset if o.onset is not None else None
        figures.append((
            f"{o.feature}: baseline and current distribution" + (f" ({window})" if window else ""),
            histogram_overlay(inv.drift, o.feature, window),
        ))
    lineage = _lineage_figure(inv)
    if lineage is not None:
        figures.append(lineage)
    return figures


def _lineage_figure(inv: Any):
    try:
        from mlobs_notebook.plots.lineage import lineage_figure
    except ImportError:
        return None
    suspect = inv.diagnosis.suspects[0] if inv.diagnosis.suspects else None
    if suspect is None:
        return None
    feature = suspect.features[0]
    upstream = inv.upstream.get(feature)
    if upstream is None:
        return None
    return (f"Lineage: upstream of {feature}", lineage_figure(upstream, graph=inv.lineage, highlight=[suspect.job]))


def _timeline_rows(inv: Any) -> list[list[Any]]:
    from mlobs_notebook.plots.timeline import timeline_events

    return [[_iso(e["when"]), e["what"], e["detail"]] for e in timeline_events(inv)]


def to_html(inv: Any) -> str:
    """The self-contained HTML postmortem."""
    d = inv.diagnosis
    title = f"Postmortem: {inv.model.name} version {inv.model.version} — {d.verdict}"
    body = [
        f"<h1>{_e(title)}</h1>",
        "<h2>Summary</h2>", summary_html(inv),
        "<h2>Timeline</h2>", _table(["when", "what", "detail"], _timeline_rows(inv)),
        "<h2>Drifted features</h2>",
        _table(
            ["feature", "first drift", "PSI at onset", "peak PSI", "drifted windows"],
            [[o.feature, _iso(o.onset), _fmt(o.value_at_onset), _fmt(o.peak_value), f"{o.drifted_windows} / {o.windows}"]
             for o in d.drifted] or [["none", "", "", "", ""]],
        ),
    ]
    for i, (caption, fig) in enumerate(_figures(inv)):
        body.append(f"<h3>{_e(caption)}</h3>")
        body.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    if d.suspects:
        body.append("<h2>Suspects</h2>")
        for s in d.suspects:
            body.append(f"<h3>{_e(s.job)} — run {_e(s.run_id)}</h3><p>{_e('; '.join(s.details))}</p>")
            if s.diff:
                body.append(f'<pre class="mlobs-diff">{_e(s.diff)}</pre>')
    body += [
        "<h2>Baseline</h2>",
        _table(["", ""], [["training dataset", inv.dataset.name], ["source", inv.dataset.source.uri],
                          ["digest", inv.dataset.digest],
                          ["digest check", inv.snapshot_check.message if inv.snapshot_check else "not checked"]]),
        "<h2>Notes</h2><ul>", *(f"<li>{_e(n)}</li>" for n in inv.notes), "</ul>",
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body) + "</body></html>"
    )


def _mermaid(inv: Any) -> str | None:
    suspects = inv.diagnosis.suspects
    if not suspects:
        return None
    feature = suspects[0].features[0]
    up = inv.upstream.get(feature)
    if up is None:
        return None
    lines = ["```mermaid", "flowchart LR"]
    labels = {n.id: n.label for n in up.nodes if n.kind != "field"}
    ids = {node_id: f"n{i}" for i, node_id in enumerate(labels)}
    _mermaid_id = ids.__getitem__
    for node_id, label in labels.items():
        safe = label.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f'  {_mermaid_id(node_id)}["{safe}"]')
    for edge in up.edges:
        if edge.source in labels and edge.target in labels:
            lines.append(f"  {_mermaid_id(edge.source)} --> {_mermaid_id(edge.target)}")
    for s in suspects:
        for node_id, label in labels.items():
            if label == s.job:
                lines.append(f"  style {_mermaid_id(node_id)} fill:#fecaca,stroke:#b91c1c")
    lines.append("```")
    return "\n".join(lines)


def _md_escape(text: Any) -> str:
    # Markdown renderers pass raw HTML through: escape it, and the table/emphasis characters
    return html.escape("" if text is None else str(text)).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def to_markdown(inv: Any, figures_dir: str | None = None) -> str:
    """The Markdown postmortem; with ``figures_dir`` (relative to the file) it links SVG figures
    that :func:`write_report` writes there."""
    d = inv.diagnosis
    out = [
        f"# Postmortem: {_md_escape(inv.model.name)} version {inv.model.version} — {d.verdict}", "",
        "## Summary", "", f"**Verdict: {d.verdict}**", "",
        *(f"- {_md_escape(s)}" for s in d.evidence), "",
        f"**Recommendation:** {_md_escape(d.recommendation)}", "",
    ]
    if d.warnings:
        out += ["**Warnings**", "", *(f"- {_md_escape(w)}" for w in d.warnings), ""]
    out += ["## Timeline", "", "| when | what | detail |", "|---|---|---|"]
    out += [f"| {_md_escape(w)} | {_md_escape(what)} | {_md_escape(det)} |" for w, what, det in _timeline_rows(inv)]
    out += ["", "## Drifted features", "", "| feature | first drift | PSI at onset | peak PSI | drifted windows |", "|---|---|---|---|---|"]
    out += [f"| {_md_escape(o.feature)} | {o.onset} | {_fmt(o.value_at_onset)} | {_fmt(o.peak_value)} | {o.drifted_windows} / {o.windows} |"
            for o in d.drifted] or ["| none | | | | |"]
    if figures_dir:
        out += ["", "## Figures", ""]
        for name, caption in _svg_names(inv):
            out.append(f"![{_md_escape(caption)}]({figures_dir}/{name})")
            out.append("")
    mermaid = _mermaid(inv)
    if mermaid:
        out += ["", "## Lineage path to the suspect", "", mermaid]
    if d.suspects:
        out += ["", "## Suspects", ""]
        for s in d.suspects:
            out += [f"### {_md_escape(s.job)} — run {_md_escape(s.run_id)}", "", _md_escape("; ".join(s.details)), ""]
            if s.diff:
                out += ["```diff", s.diff.replace("```", "` ` `"), "```", ""]
    out += ["", "## Baseline", "", f"- training dataset: {_md_escape(inv.dataset.name)}",
            f"- source: `{inv.dataset.source.uri}`", f"- digest: {inv.dataset.digest}",
            f"- digest check: {_md_escape(inv.snapshot_check.message if inv.snapshot_check else 'not checked')}",
            "", "## Notes", "", *(f"- {_md_escape(n)}" for n in inv.notes), ""]
    return "\n".join(out)


def _svg_names(inv: Any) -> list[tuple[str, str]]:
    top = list(inv.diagnosis.drifted[:TOP_FEATURES]) or list(inv.onsets[:1])
    names = [(f"timeline_{i}.svg", f"{o.feature}: drift and {inv.metric_name}") for i, o in enumerate(top)]
    names += [(f"histogram_{i}.svg", f"{o.feature}: baseline and current") for i, o in enumerate(top)]
    return names


def _svgs(inv: Any) -> dict[str, str]:
    from mlobs_notebook import _svg
    from mlobs_notebook.correlate import drift_series
    from mlobs_notebook.plots.drift import bin_labels

    series = drift_series(inv.drift)
    top = list(inv.diagnosis.drifted[:TOP_FEATURES]) or list(inv.onsets[:1])
    out = {}
    metric = inv.metric.sort("date")
    for i, o in enumerate(top):
        s = series.filter(pl.col("feature") == o.feature)
        markers = [(m, label) for m, label in ((o.onset, "drift onset"), (inv.drop.onset, f"{inv.metric_name} drop")) if m]
        out[f"timeline_{i}.svg"] = _svg.line_chart(
            f"{o.feature}: {o.statistic} and {inv.metric_name}",
            [(o.feature, s["date"].to_list(), s["value"].to_list()),
             (inv.metric_name, metric["date"].to_list(), metric["value"].to_list())],
            markers,
        )
        rows = inv.drift.bins.filter((pl.col("column_name") == o.feature) & (pl.col("drift_type") == "BASELINE"))
        if o.onset is not None:
            at = rows.filter(pl.col("window_start").dt.date() == o.onset)
            rows = at if at.height else rows
        row = rows.row(0, named=True)
        base, cur = row["baseline_counts"], row["current_counts"]
        out[f"histogram_{i}.svg"] = _svg.bar_chart(
            f"{o.feature}: baseline vs {o.onset or 'current'}", bin_labels(row),
            [("baseline", [c / max(1, sum(base)) for c in base]), ("current", [c / max(1, sum(cur)) for c in cur])],
        )
    return out


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(inv: Any, path: str | os.PathLike) -> str:
    """Write the postmortem to ``path`` (``.html``/``.htm`` or ``.md``); returns the path."""
    target = Path(path).expanduser().absolute()
    suffix = target.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise InputError(f"cannot write a report to {target}: use a .html or .md file name")
    if not target.parent.is_dir():
        raise OutputUnwritable(f"cannot write {target}: folder {target.parent} does not exist")
    try:
        if suffix == ".md":
            figures = target.with_name(target.stem + "_figures")
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{figures.name}."))
            staging.chmod(0o755)
            try:
                for name, svg in _svgs(inv).items():
                    (staging / name).write_text(svg, encoding="utf-8")
                text = to_markdown(inv, figures_dir=figures.name)
                if figures.exists():
                    shutil.rmtree(figures)
                os.replace(staging, figures)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _atomic_write(target, text)
        else:
            _atomic_write(target, to_html(inv))
    except PermissionError as exc:
        raise OutputUnwritable(f"cannot write {target}: {exc.strerror}") from exc
    return str(target)

