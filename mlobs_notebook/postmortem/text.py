"""The postmortem as plain text: what ``mlobs investigate`` and ``mlobs demo`` print."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlobs_notebook.postmortem.contents import (
    cause_lines,
    inconclusive_lines,
    metric_line,
    snapshot_line,
)
from mlobs_notebook.times import Granularity, human

if TYPE_CHECKING:
    from mlobs_notebook.investigation import Investigation

__all__ = ["text_summary"]


def text_summary(inv: Investigation) -> str:
    """Verdict (with why and the fix when inconclusive), model (or app), baseline (with its digest
    check), where the metric came from, evidence, suspects, the app's version changes with their
    diff, warnings, advice."""
    d = inv.diagnosis
    if inv.of_traces:
        head = [f"App: {inv.model.label}", f"Traces: {inv.current_source}",
                f"Baseline: {inv.dataset.name} ({inv.dataset.num_rows} traces, {inv.dataset.source.uri})"]
    else:
        head = [f"Model: {inv.model.name} version {inv.model.version} (run {inv.model.run_id})",
                f"Baseline: {inv.baseline_source or inv.dataset.source.uri}", f"Digest check: {snapshot_line(inv)}"]
    lines = [
        f"Verdict: {d.verdict}" + (f" (confidence {d.confidence:.1f})" if d.confidence is not None else ""),
        *([f"Causes: {'; '.join(cause_lines(inv))}"] if len(d.causes) > 1 else []),
        *inconclusive_lines(inv),
        *head,
        f"Metric: {metric_line(inv)}",
        "",
        "Evidence:",
        *(f"  - {e}" for e in d.evidence),
    ]
    if d.suspects:
        lines += ["", "Suspects (most likely first):"]
        lines += [
            f"  {i}. {s.job}  run {s.run_id}  {human(s.event_time, Granularity(1, 'h'))}  "
            f"({', '.join(s.kinds)}{': ' + ', '.join(s.aspects) if s.aspects else ''}; {', '.join(s.features)})"
            for i, s in enumerate(d.suspects, 1)
        ]
    if d.verdict == "app_change":
        for change in inv.app_changes:
            if change.diff:
                lines += ["", f"What changed from {change.before} to {change.after}:", change.diff.rstrip()]
    if d.warnings:
        lines += ["", "Warnings:", *(f"  - {w}" for w in d.warnings)]
    lines += ["", f"Recommendation: {d.recommendation}"]
    return "\n".join(lines)
