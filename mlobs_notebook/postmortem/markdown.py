"""The postmortem as Markdown: one file, its figures as SVG in a folder beside it, and the lineage
path to the suspect as a Mermaid diagram. User strings are escaped for Markdown and HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from mlobs_notebook.postmortem.contents import (
    cause_lines,
    inconclusive_lines,
    metric_line,
    signal_rows,
    snapshot_line,
    timeline_rows,
)
from mlobs_notebook.postmortem.figures import svg_names
from mlobs_notebook.times import human

if TYPE_CHECKING:
    from mlobs_notebook.investigation import Investigation

__all__ = ["md_escape", "to_markdown"]


def md_escape(text: Any) -> str:
    """Text safe in Markdown: raw HTML escaped (``<``, ``>``, ``&``; quotes stay, as Markdown
    text holds no attribute), and the table and emphasis characters."""
    return html.escape("" if text is None else str(text), quote=False).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _fmt(v: object, digits: int = 3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))


def to_markdown(inv: Investigation, figures_dir: str | None = None) -> str:
    """The Markdown postmortem; with ``figures_dir`` (relative to the file) it links the SVG figures
    that :func:`~mlobs_notebook.postmortem.write_report` writes there."""
    d = inv.diagnosis
    out = [
        f"# Postmortem: {md_escape(inv.model.label)} — {d.verdict}", "",
        "## Summary", "", f"**Verdict: {d.verdict}**", "",
        *(f"- {md_escape(line)}" for line in (cause_lines(inv) if len(d.causes) > 1 else [])),
        *([""] if len(d.causes) > 1 else []),
        *(f"**{md_escape(line)}**" + "\n" for line in inconclusive_lines(inv)),
        *(f"- {md_escape(s)}" for s in d.evidence), "",
        f"**Recommendation:** {md_escape(d.recommendation)}", "",
    ]
    if d.warnings:
        out += ["**Warnings**", "", *(f"- {md_escape(w)}" for w in d.warnings), ""]
    out += ["## Timeline", "", "| when | what | detail |", "|---|---|---|"]
    out += [f"| {md_escape(w)} | {md_escape(what)} | {md_escape(det)} |" for w, what, det in timeline_rows(inv)]
    out += ["", "## Drifted features", "", "| feature | first drift | PSI at onset | peak PSI | drifted windows |",
            "|---|---|---|---|---|"]
    out += [
        f"| {md_escape(o.feature)} | {md_escape(human(o.onset, inv.granularity))} | {_fmt(o.value_at_onset)} | "
        f"{_fmt(o.peak_value)} | {o.drifted_windows} / {o.windows} |"
        for o in d.drifted
    ] or ["| none | | | | |"]
    signals = signal_rows(inv)
    if signals:
        out += ["", "## Beyond one feature at a time", "", "| signal | finding |", "|---|---|"]
        out += [f"| {md_escape(a)} | {md_escape(b)} |" for a, b in signals]
    if figures_dir:
        out += ["", "## Figures", ""]
        for name, caption in svg_names(inv):
            out += [f"![{md_escape(caption)}]({figures_dir}/{name})", ""]
    mermaid = _mermaid(inv)
    if mermaid:
        out += ["", "## Lineage path to the suspect", "", mermaid]
    if d.suspects:
        out += ["", "## Suspects", ""]
        for s in d.suspects:
            out += [f"### {md_escape(s.job)} — run {md_escape(s.run_id)}", "", md_escape("; ".join(s.details)), ""]
            if s.diff:
                out += ["```diff", s.diff.replace("```", "` ` `"), "```", ""]
    if inv.app_changes:
        out += ["", "## App versions", ""]
        for c in inv.app_changes:
            out += [f"### {md_escape(c.after)} replaced {md_escape(c.before)} — {c.at.isoformat()}", "",
                    md_escape(c.what), ""]
            if c.diff:
                out += ["```diff", c.diff.replace("```", "` ` `"), "```", ""]
    out += ["", "## Baseline", "", f"- {'traces' if inv.of_traces else 'training dataset'}: {md_escape(inv.dataset.name)}",
            f"- source: `{inv.dataset.source.uri}`", f"- digest: {inv.dataset.digest}",
            f"- read: `{inv.baseline_source or inv.dataset.source.uri}`",
            f"- digest check: {md_escape(snapshot_line(inv))}",
            "", "## Metric", "", f"- {md_escape(metric_line(inv))}",
            "", "## Notes", "", *(f"- {md_escape(n)}" for n in inv.notes), ""]
    return "\n".join(out)


def _mermaid(inv: Investigation) -> str | None:
    suspects = inv.diagnosis.suspects
    if not suspects:
        return None
    up = inv.upstream.get(suspects[0].features[0])
    if up is None:
        return None
    labels = {n.id: n.label for n in up.nodes if n.kind != "field"}
    ids = {node_id: f"n{i}" for i, node_id in enumerate(labels)}
    lines = ["```mermaid", "flowchart LR"]
    for node_id, label in labels.items():
        safe = label.replace('"', "'").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f'  {ids[node_id]}["{safe}"]')
    lines += [f"  {ids[e.source]} --> {ids[e.target]}" for e in up.edges if e.source in labels and e.target in labels]
    for s in suspects:
        lines += [f"  style {ids[node_id]} fill:#fecaca,stroke:#b91c1c" for node_id, label in labels.items() if label == s.job]
    lines.append("```")
    return "\n".join(lines)
