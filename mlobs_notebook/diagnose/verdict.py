"""From evidence to a verdict: ``pipeline_bug``, ``data_drift``, ``model_drift`` or ``healthy``. Pure.

(An LLM app has a fifth verdict, ``app_change``: :mod:`mlobs_notebook.diagnose.app_change`
applies these rules to its inputs first.)

The rules, in order:

1. No sustained metric drop: ``healthy``; features that drifted anyway are listed as warnings.
2. The metric fell and no feature drifted before it (up to ``slack`` after its onset):
   ``model_drift``: the features look as they did in training, the relation to the label moved.
3. Drifted features whose upstream lineage holds a change (job definition, schema, failure,
   volume) in their suspect window (:func:`~mlobs_notebook.diagnose.window.suspect_window`):
   ``pipeline_bug``, with those runs as suspects.
4. Otherwise ``data_drift``: the inputs moved and no pipeline change explains it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mlobs_notebook.correlate import FeatureOnset, MetricDrop
from mlobs_notebook.diagnose.suspects import Suspect, UpstreamChange, rank_key
from mlobs_notebook.diagnose.window import DEFAULT_LOOKBACK, suspect_window
from mlobs_notebook.times import Granularity, aware, human

__all__ = ["DEFAULT_SLACK", "RECOMMENDATIONS", "VERDICTS", "Diagnosis", "diagnose"]

VERDICTS = ("pipeline_bug", "data_drift", "model_drift", "healthy", "app_change")
# A drift that starts up to a day after the metric fell still counts as "before" it: metrics are
# usually daily, so the drop's window covers the day the drift window opened in.
DEFAULT_SLACK = timedelta(days=1)

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
class Diagnosis:
    """A verdict with its evidence (sentences), the suspects ranked, and where it looked.

    ``suspect_windows`` maps each drifted feature considered to the window its upstream
    changes were searched in (aware); the panels draw those windows.
    """

    verdict: str
    evidence: tuple[str, ...]
    recommendation: str
    suspects: tuple[Suspect, ...] = ()
    drifted: tuple[FeatureOnset, ...] = ()
    warnings: tuple[str, ...] = ()
    unexplained: tuple[str, ...] = field(default=())  # drifted features with no suspect
    suspect_windows: Mapping[str, tuple[datetime, datetime]] = field(default_factory=dict)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def diagnose(
    onsets: Sequence[FeatureOnset],
    drop: MetricDrop,
    changes: Mapping[str, Sequence[UpstreamChange]],
    *,
    granularity: Granularity | str | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    slack: timedelta = DEFAULT_SLACK,
    unconnected: Sequence[UpstreamChange] = (),
    lineage_searched: bool = True,
    window: timedelta | None = None,
    lookback_days: int | None = None,
    slack_days: int | None = None,
) -> Diagnosis:
    """The verdict for drift onsets, a metric drop and the upstream changes found per feature.

    ``changes`` maps each drifted feature to the changes on its upstream path (any time range;
    those in the feature's suspect window are selected here). ``granularity`` is the drift
    windows' size (``1d`` by default). ``unconnected`` are changes that only dataset-level lineage
    reaches, named in the evidence as ruled out. ``lineage_searched=False`` says no lineage was
    available: drift then still reads as data drift, and the evidence says that a pipeline change
    could not be ruled out. ``window``, ``lookback_days`` and ``slack_days`` are the older
    spellings of ``granularity`` (a timedelta of whole hours, days or weeks), ``lookback`` and
    ``slack``.
    """
    step = _granularity(granularity, window)
    if lookback_days is not None:
        lookback = timedelta(days=lookback_days)
    if slack_days is not None:
        slack = timedelta(days=slack_days)
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
                f"{o.feature} drifted from {human(o.onset, step)} ({o.drifted_windows} of {o.windows} "
                f"windows) without hurting {metric}."
            )
        return Diagnosis("healthy", tuple(evidence), RECOMMENDATIONS["healthy"].format(metric=metric),
                         drifted=drifted, warnings=tuple(warnings))

    assert drop.onset is not None and drop.reference is not None and drop.tolerance is not None
    evidence.append(
        f"{metric} fell below {_fmt(drop.reference - drop.tolerance)} (reference {_fmt(drop.reference)} "
        f"minus tolerance {_fmt(drop.tolerance)}) from {human(drop.onset, step)} and stayed down: "
        f"{_fmt(drop.mean_after)} on average since."
    )
    cutoff = drop.onset + slack
    relevant = tuple(o for o in drifted if o.onset is not None and o.onset <= cutoff)
    for o in drifted:
        if o not in relevant:
            warnings.append(f"{o.feature} drifted only from {human(o.onset, step)}, after {metric} had fallen.")
    if not relevant:
        evidence.append(
            "No feature drifted before the drop"
            + (f" ({len(onsets)} features compared with the training data)." if onsets else ".")
        )
        return Diagnosis("model_drift", tuple(evidence),
                         RECOMMENDATIONS["model_drift"].format(metric=metric),
                         drifted=drifted, warnings=tuple(warnings))

    for o in relevant:
        assert o.onset is not None
        evidence.append(
            f"{o.feature} drifted from {human(o.onset, step)}, {_lead(drop.onset - o.onset)} {metric} fell "
            f"({o.statistic} {_fmt(o.value_at_onset)} at onset, up to {_fmt(o.peak_value)}; "
            f"{o.drifted_windows} of {o.windows} windows drifted)."
        )

    windows = {o.feature: suspect_window(o.onset, step, lookback) for o in relevant if o.onset is not None}
    suspects, explained = _collect(relevant, changes, windows)
    ranked = sorted(suspects, key=rank_key)
    unexplained = tuple(o.feature for o in relevant if o.feature not in explained)
    if not ranked:
        if lineage_searched:
            evidence.append(
                f"No upstream run of {', '.join(o.feature for o in relevant)} changed its definition, "
                f"schema, state or volume from {_duration(lookback)} before the drift onset to its window's end."
            )
        else:
            evidence.append(
                "No lineage was given, so upstream changes were not searched: a pipeline change "
                "cannot be ruled out."
            )
        evidence.extend(_ruled_out(change) for change in unconnected)
        features = ", ".join(o.feature for o in relevant)
        return Diagnosis("data_drift", tuple(evidence),
                         RECOMMENDATIONS["data_drift"].format(features=features),
                         drifted=drifted, warnings=tuple(warnings), unexplained=unexplained,
                         suspect_windows=windows)

    for s in ranked:
        lineage = "column-level lineage" if s.column_level else "dataset-level lineage only"
        evidence.append(
            f"{s.job} (run {s.run_id}) {'; '.join(s.details)} at {human(s.event_time, Granularity(1, 'h'))}, "
            f"{_hours(s.hours_from_onset)} the drift window of {', '.join(s.features)} opened; "
            f"{s.distance} hop{'s' if s.distance != 1 else ''} upstream through {lineage}."
        )
    suspected = {s.run_id for s in ranked}
    evidence.extend(_ruled_out(change) for change in unconnected if change.run_id not in suspected)
    jobs = ", ".join(dict.fromkeys(s.job for s in ranked))
    return Diagnosis("pipeline_bug", tuple(evidence),
                     RECOMMENDATIONS["pipeline_bug"].format(jobs=jobs),
                     suspects=tuple(ranked), drifted=drifted, warnings=tuple(warnings),
                     unexplained=unexplained, suspect_windows=windows)


def _granularity(granularity: Granularity | str | None, window: timedelta | None) -> Granularity:
    if granularity is not None:
        return Granularity.parse(granularity)
    if window is None:
        return Granularity(1, "d")
    for unit, size in (("w", timedelta(weeks=1)), ("d", timedelta(days=1)), ("h", timedelta(hours=1))):
        if window >= size and window % size == timedelta(0):
            return Granularity(int(window / size), unit)  # type: ignore[arg-type]
    raise ValueError(f"window={window} is not a whole number of hours; pass granularity= instead")


def _collect(
    relevant: Sequence[FeatureOnset],
    changes: Mapping[str, Sequence[UpstreamChange]],
    windows: Mapping[str, tuple[datetime, datetime]],
) -> tuple[list[Suspect], set[str]]:
    """The runs whose changes fall in a drifted feature's suspect window, merged per run."""
    entries: dict[str, dict[str, Any]] = {}
    explained: set[str] = set()
    for o in relevant:
        lo, hi = windows[o.feature]
        opens = aware(o.onset) if o.onset is not None else lo
        for change in changes.get(o.feature, ()):
            if not lo <= change.event_time < hi:
                continue
            explained.add(o.feature)
            entry = entries.setdefault(
                change.run_id,
                {"change": change, "kinds": [], "features": [], "details": [], "hours": [],
                 "column_level": False, "distance": change.distance},
            )
            for key, value in (("kinds", change.kind), ("features", o.feature), ("details", change.detail)):
                if value not in entry[key]:
                    entry[key].append(value)
            entry["hours"].append((change.event_time - opens).total_seconds() / 3600)
            entry["column_level"] |= change.column_level
            entry["distance"] = min(entry["distance"], change.distance)
            if change.diff and not entry["change"].diff:
                entry["change"] = change
    suspects = [
        Suspect(
            job=e["change"].job,
            run_id=run_id,
            event_time=e["change"].event_time,
            kinds=tuple(e["kinds"]),
            features=tuple(e["features"]),
            column_level=e["column_level"],
            distance=e["distance"],
            hours_from_onset=min(e["hours"], key=abs),
            details=tuple(e["details"]),
            diff=e["change"].diff,
        )
        for run_id, e in entries.items()
    ]
    return suspects, explained


def _lead(lead: timedelta) -> str:
    hours = lead.total_seconds() / 3600
    if abs(hours) < 48 and hours % 24:
        amount = f"{abs(hours):.0f} hour{'s' if abs(hours) != 1 else ''}"
    else:
        days = round(abs(hours) / 24)
        amount = f"{days} day{'s' if days != 1 else ''}"
    return f"{amount} {'before' if hours >= 0 else 'after'}"


def _duration(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{span.total_seconds() / 3600:g} hours"


def _hours(hours: float) -> str:
    if abs(hours) < 1:
        return "as"
    return f"{abs(hours):.0f} h {'after' if hours >= 0 else 'before'}"


def _ruled_out(change: UpstreamChange) -> str:
    return (
        f"{change.job} also changed ({change.detail}) at {human(change.event_time, Granularity(1, 'h'))}, "
        "but column-level lineage does not connect it to any drifted feature."
    )
