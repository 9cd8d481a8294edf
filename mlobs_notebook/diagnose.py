"""From evidence to a verdict: ``pipeline_bug``, ``data_drift``, ``model_drift`` or ``healthy``. Pure.

The rules, in order:

1. No sustained metric drop: ``healthy``; features that drifted anyway are listed as warnings.
2. The metric fell and no feature drifted before it (up to ``slack_days`` after its onset):
   ``model_drift`` — the features look as they did in training, the relation to the label moved.
3. Drifted features whose upstream lineage holds a change (job definition, schema, failure,
   volume) from ``lookback_days`` before their drift onset to the end of the onset window:
   ``pipeline_bug``, with those runs as suspects.
4. Otherwise ``data_drift``: the inputs moved and no pipeline change explains it.

Suspects are ranked by column-level lineage first (a change that column lineage ties to the
drifted column beats one that only dataset lineage reaches), then graph distance (fewer hops
first), then closeness in time to the drift onset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from mlobs_notebook.correlate import FeatureOnset, MetricDrop

__all__ = ["VERDICTS", "Diagnosis", "Suspect", "UpstreamChange", "diagnose"]

VERDICTS = ("pipeline_bug", "data_drift", "model_drift", "healthy")

RECOMMENDATIONS = {
    "pipeline_bug": (
        "Fix or revert the upstream change ({jobs}) and backfill the affected features; do not "
        "retrain: a model retrained on broken inputs learns the bug."
    ),
    "data_drift": (
        "Confirm the shift in {features} is real (check the source systems, not the pipeline), "
        "then retrain on recent data and compare it with the production model before promoting."
    ),
    "model_drift": (
        "No input moved, yet {metric} fell: the relation between the features and the label "
        "changed. Retrain on recent labelled data, or revisit the features."
    ),
    "healthy": "No action needed: {metric} holds at its reference level.",
}


@dataclass(frozen=True)
class UpstreamChange:
    """A change found on a feature's upstream path (from the lineage queries)."""

    job: str
    run_id: str
    event_time: datetime
    kind: str  # job_definition | schema | failure | volume
    detail: str
    distance: int
    column_level: bool
    diff: str | None = None


@dataclass(frozen=True)
class Suspect:
    """An upstream run that could explain one or more drift onsets."""

    job: str
    run_id: str
    event_time: datetime
    kinds: tuple[str, ...]
    features: tuple[str, ...]
    column_level: bool
    distance: int
    hours_from_onset: float
    details: tuple[str, ...]
    diff: str | None = None

    def to_dict(self) -> dict:
        return {
            "job": self.job,
            "run_id": self.run_id,
            "event_time": self.event_time.isoformat(),
            "kinds": list(self.kinds),
            "features": list(self.features),
            "column_level": self.column_level,
            "distance": self.distance,
            "hours_from_onset": round(self.hours_from_onset, 2),
            "details": list(self.details),
            "diff": self.diff,
        }


@dataclass(frozen=True)
class Diagnosis:
    verdict: str
    evidence: tuple[str, ...]
    recommendation: str
    suspects: tuple[Suspect, ...] = ()
    drifted: tuple[FeatureOnset, ...] = ()
    warnings: tuple[str, ...] = ()
    unexplained: tuple[str, ...] = field(default=())  # drifted features with no suspect


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _rank(suspect: Suspect) -> tuple:
    return (not suspect.column_level, suspect.distance, abs(suspect.hours_from_onset), suspect.event_time)


def diagnose(
    onsets: Sequence[FeatureOnset],
    drop: MetricDrop,
    changes: Mapping[str, Sequence[UpstreamChange]],
    *,
    lookback_days: int = 3,
    slack_days: int = 1,
    window: timedelta = timedelta(days=1),
    unconnected: Sequence[UpstreamChange] = (),
    lineage_searched: bool = True,
) -> Diagnosis:
    """The verdict for drift onsets, a metric drop and the upstream changes found per feature.

    ``changes`` maps each drifted feature to the changes on its upstream path (any time range;
    the ones near the onset are selected here). ``unconnected`` are changes that only
    dataset-level lineage reaches, named in the evidence as ruled out. ``lineage_searched=False``
    says no lineage was available: drift then still reads as data drift, and the evidence says
    that a pipeline change could not be ruled out.
    """
    drifted = tuple(o for o in onsets if o.onset is not None)
    metric = drop.metric
    evidence: list[str] = []
    warnings: list[str] = []

    if not drop.dropped:
        evidence.append(
            f"{metric} held at its reference level ({_fmt(drop.reference)}, tolerance "
            f"{_fmt(drop.tolerance)}) over {drop.points} evaluations: no sustained drop."
        )
        for o in drifted:
            warnings.append(
                f"{o.feature} drifted from {o.onset} ({o.drifted_windows} of {o.windows} windows) "
                f"without hurting {metric}."
            )
        return Diagnosis("healthy", tuple(evidence), RECOMMENDATIONS["healthy"].format(metric=metric),
                         drifted=drifted, warnings=tuple(warnings))

    evidence.append(
        f"{metric} fell below {_fmt(drop.reference - drop.tolerance)} (reference {_fmt(drop.reference)} "
        f"minus tolerance {_fmt(drop.tolerance)}) from {drop.onset} and stayed down: "
        f"{_fmt(drop.mean_after)} on average since."
    )
    cutoff = drop.onset + timedelta(days=slack_days)
    relevant = tuple(o for o in drifted if o.onset <= cutoff)
    late = [o for o in drifted if o.onset > cutoff]
    for o in late:
        warnings.append(f"{o.feature} drifted only from {o.onset}, after {metric} had fallen.")
    if not relevant:
        evidence.append(
            "No feature drifted before the drop"
            + (f" ({len(onsets)} features compared with the training data)." if onsets else ".")
        )
        return Diagnosis("model_drift", tuple(evidence),
                         RECOMMENDATIONS["model_drift"].format(metric=metric),
                         drifted=drifted, warnings=tuple(warnings))

    for o in relevant:
        lead = (drop.onset - o.onset).days
        when = f"{lead} day{'s' if abs(lead) != 1 else ''} {'before' if lead >= 0 else 'after'}"
        evidence.append(
            f"{o.feature} drifted from {o.onset}, {when} {metric} fell "
            f"({o.statistic} {_fmt(o.value_at_onset)} at onset, up to {_fmt(o.peak_value)}; "
            f"{o.drifted_windows} of {o.windows} windows drifted)."
        )

    suspects: dict[str, dict] = {}
    explained: set[str] = set()
    for o in relevant:
        opens = _start_of(o.onset)
        lo, hi = opens - timedelta(days=lookback_days), opens + window
        for change in changes.get(o.feature, ()):
            at = _aware(change.event_time)
            if not lo <= at < hi:
                continue
            explained.add(o.feature)
            entry = suspects.setdefault(
                change.run_id,
                {"change": change, "kinds": [], "features": [], "details": [], "hours": [],
                 "column_level": False, "distance": change.distance},
            )
            if change.kind not in entry["kinds"]:
                entry["kinds"].append(change.kind)
            if o.feature not in entry["features"]:
                entry["features"].append(o.feature)
            if change.detail not in entry["details"]:
                entry["details"].append(change.detail)
            entry["hours"].append((at - opens).total_seconds() / 3600)
            entry["column_level"] |= change.column_level
            entry["distance"] = min(entry["distance"], change.distance)
            if change.diff and not entry["change"].diff:
                entry["change"] = change

    ranked = sorted(
        (
            Suspect(
                job=e["change"].job,
                run_id=run_id,
                event_time=_aware(e["change"].event_time),
                kinds=tuple(e["kinds"]),
                features=tuple(e["features"]),
                column_level=e["column_level"],
                distance=e["distance"],
                hours_from_onset=min(e["hours"], key=abs),
                details=tuple(e["details"]),
                diff=e["change"].diff,
            )
            for run_id, e in suspects.items()
        ),
        key=_rank,
    )
    unexplained = tuple(o.feature for o in relevant if o.feature not in explained)
    if not ranked:
        if lineage_searched:
            evidence.append(
                f"No upstream run of {', '.join(o.feature for o in relevant)} changed its definition, "
                f"schema, state or volume from {lookback_days} days before the drift onset to its window's end."
            )
        else:
            evidence.append(
                "No lineage was given, so upstream changes were not searched: a pipeline change "
                "cannot be ruled out."
            )
        for change in unconnected:
            evidence.append(_ruled_out(change))
        features = ", ".join(o.feature for o in relevant)
        return Diagnosis("data_drift", tuple(evidence),
                         RECOMMENDATIONS["data_drift"].format(features=features),
                         drifted=drifted, warnings=tuple(warnings), unexplained=unexplained)

    for s in ranked:
        lineage = "column-level lineage" if s.column_level else "dataset-level lineage only"
        evidence.append(
            f"{s.job} (run {s.run_id}) {'; '.join(s.details)} at {s.event_time:%Y-%m-%d %H:%M} UTC, "
            f"{_hours(s.hours_from_onset)} the drift window of {', '.join(s.features)} opened; "
            f"{s.distance} hop{'s' if s.distance != 1 else ''} upstream through {lineage}."
        )
    for change in unconnected:
        if change.run_id not in suspects:
            evidence.append(_ruled_out(change))
    jobs = ", ".join(dict.fromkeys(s.job for s in ranked))
    return Diagnosis("pipeline_bug", tuple(evidence),
                     RECOMMENDATIONS["pipeline_bug"].format(jobs=jobs),
                     suspects=tuple(ranked), drifted=drifted, warnings=tuple(warnings),
                     unexplained=unexplained)


def _hours(hours: float) -> str:
    if abs(hours) < 1:
        return "as"
    return f"{abs(hours):.0f} h {'after' if hours >= 0 else 'before'}"


def _ruled_out(change: UpstreamChange) -> str:
    return (
        f"{change.job} also changed ({change.detail}) at {_aware(change.event_time):%Y-%m-%d %H:%M} UTC, "
        "but column-level lineage does not connect it to any drifted feature."
    )
