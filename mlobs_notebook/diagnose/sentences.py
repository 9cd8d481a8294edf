"""The diagnosis's sentences: numbers, durations and the lines of evidence, as people read them."""

from __future__ import annotations

from datetime import timedelta

from mlobs_notebook.correlate import MetricDrop
from mlobs_notebook.diagnose.suspects import Suspect, UpstreamChange
from mlobs_notebook.times import Granularity, human

__all__ = ["duration", "estimate_sentence", "fmt", "hours", "lead", "ruled_out", "suspect_sentence"]

HOUR = Granularity(1, "h")


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def lead(span: timedelta) -> str:
    """``3 days before`` / ``5 hours after``: a lead time as a phrase."""
    total = span.total_seconds() / 3600
    if abs(total) < 48 and total % 24:
        amount = f"{abs(total):.0f} hour{'s' if abs(total) != 1 else ''}"
    else:
        days = round(abs(total) / 24)
        amount = f"{days} day{'s' if days != 1 else ''}"
    return f"{amount} {'before' if total >= 0 else 'after'}"


def duration(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{span.total_seconds() / 3600:g} hours"


def hours(value: float) -> str:
    if abs(value) < 1:
        return "as"
    return f"{abs(value):.0f} h {'after' if value >= 0 else 'before'}"


def ruled_out(change: UpstreamChange) -> str:
    if change.cosmetic:
        return (
            f"{change.job} (run {change.run_id}) {change.detail} at {human(change.event_time, HOUR)}: "
            "it computes what it computed before, so it is not a cause."
        )
    return (
        f"{change.job} also changed ({change.detail}) at {human(change.event_time, HOUR)}, "
        "but column-level lineage does not connect it to any drifted feature."
    )


def suspect_sentence(s: Suspect, what: str) -> str:
    """One suspect: the run, what it changed, when against ``what`` (the drift window of ...),
    and how the lineage reaches it."""
    lineage = "column-level lineage" if s.column_level else "dataset-level lineage only"
    first = f"first failed run {s.run_id}" if s.failed_runs >= 2 else f"run {s.run_id}"
    return (
        f"{s.job} ({first}) {'; '.join(s.details)} at {human(s.event_time, HOUR)}, "
        f"{hours(s.hours_from_onset)} {what}; {s.distance} hop{'s' if s.distance != 1 else ''} "
        f"upstream through {lineage}."
    )


def estimate_sentence(estimate: MetricDrop, drop: MetricDrop, step: Granularity) -> str:
    """How the metric estimated from the scores compares with the realized drop."""
    name = f"the confidence-based estimate of {drop.metric} (from the scores, before labels)"
    if not estimate.dropped or estimate.onset is None or drop.onset is None:
        return (
            f"{name[0].upper()}{name[1:]} held ({fmt(estimate.reference)}): the scores did not foresee the "
            "fall. Such an estimate assumes the scores stay calibrated, which a broken input or a changed "
            "relation to the label undoes."
        )
    return (
        f"{name[0].upper()}{name[1:]} fell from {human(estimate.onset, step)}, "
        f"{lead(drop.onset - estimate.onset)} the realized {drop.metric} did."
    )
