"""From evidence to a verdict: ``pipeline_bug``, ``data_drift``, ``model_drift``, ``healthy`` or
``inconclusive``. Pure.

(An LLM app has a fifth verdict, ``app_change``: :mod:`mlobs_notebook.diagnose.app_change`
applies these rules to its inputs first.)

The rules, in order:

0. The metric series is too thin to read (:mod:`~mlobs_notebook.diagnose.support`: fewer windows
   than the minimum, many evaluations on one date, no labelled rows): ``inconclusive``, with the
   reason and the flag that fixes it, and no cause. Never ``healthy`` over one evaluation.
1. No sustained metric drop: ``healthy``; features that drifted anyway are listed as warnings.
2. The metric fell and features drifted before it (up to ``slack`` after its onset; a slow drift
   counts from its warn onset, the sustained warning that led into it); where no
   single feature did, the joint distribution may have (a multivariate onset: the domain
   classifier tells the windows from the baseline), and the features the classifier leans on
   stand for it. Those features' upstream lineage is searched for a change (a semantic job
   definition change, schema, failures, volume; layout-only edits never count) in their suspect
   window (:func:`~mlobs_notebook.diagnose.window.suspect_window`): found, ``pipeline_bug`` with
   those runs as suspects, and any drifted feature no run explains is a secondary
   ``data_drift``; none found, ``data_drift``.
3. The metric fell and nothing drifted, jointly or alone: a change can still have spoiled the
   predictions without moving a distribution (a join on a wrong key shuffling a column that
   correlates with nothing). The upstream changes of every feature in the timing window
   (:func:`~mlobs_notebook.diagnose.window.timing_window`: around the drop minus the label delay)
   are searched; a cause-like change there (semantic definition, schema, failures in a row) makes
   it ``pipeline_bug`` from timing, with ``model_drift`` as the secondary cause. Otherwise
   ``model_drift``: the features look as they did in training, the relation to the label moved.

Each cause carries a confidence (:mod:`~mlobs_notebook.diagnose.causes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from mlobs_notebook.correlate import FeatureOnset, MetricDrop
from mlobs_notebook.diagnose.causes import HIGH, LOW, MEDIUM, Cause
from mlobs_notebook.diagnose.sentences import (
    duration,
    estimate_sentence,
    fmt,
    lead,
    ruled_out,
    suspect_sentence,
)
from mlobs_notebook.diagnose.support import Inconclusive, minimum_evaluations
from mlobs_notebook.diagnose.suspects import Suspect, UpstreamChange, collect_suspects, rank_key
from mlobs_notebook.diagnose.window import DEFAULT_LOOKBACK, suspect_window, timing_window
from mlobs_notebook.times import Granularity, human

__all__ = ["DEFAULT_SLACK", "RECOMMENDATIONS", "VERDICTS", "Diagnosis", "diagnose"]

VERDICTS = ("pipeline_bug", "data_drift", "model_drift", "healthy", "inconclusive", "app_change")
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
    "inconclusive": (
        "No verdict until the {metric} series can carry one: re-run with {flag}. Meanwhile treat "
        "any drifted feature as unexplained."
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    """A verdict with its evidence (sentences), the suspects ranked, and where it looked.

    ``suspect_windows`` maps each drifted feature considered to the window its upstream
    changes were searched in (aware); the panels draw those windows. ``causes``: the primary
    cause (its verdict is ``verdict``) and any secondary one, each with a confidence and its own
    evidence. ``joint``: the joint distribution's onset (multivariate drift), with the features
    the classifier leaned on in ``leaned_on``. ``timing_window``: where changes were searched
    when nothing drifted and the metric fell. ``inconclusive`` holds the reason and the flag that
    fixes it when the verdict is ``inconclusive`` (then ``causes`` is empty).
    """

    verdict: str
    evidence: tuple[str, ...]
    recommendation: str
    suspects: tuple[Suspect, ...] = ()
    drifted: tuple[FeatureOnset, ...] = ()
    warnings: tuple[str, ...] = ()
    unexplained: tuple[str, ...] = field(default=())  # drifted features with no suspect
    suspect_windows: Mapping[str, tuple[datetime, datetime]] = field(default_factory=dict)
    causes: tuple[Cause, ...] = ()
    joint: FeatureOnset | None = None
    leaned_on: tuple[str, ...] = ()
    timing_window: tuple[datetime, datetime] | None = None
    inconclusive: Inconclusive | None = None

    @property
    def confidence(self) -> float | None:
        return self.causes[0].confidence if self.causes else None

    @property
    def secondary(self) -> Cause | None:
        return self.causes[1] if len(self.causes) > 1 else None


@dataclass
class _Inputs:
    drop: MetricDrop
    step: Granularity
    lookback: timedelta
    changes: Mapping[str, Sequence[UpstreamChange]]
    unconnected: Sequence[UpstreamChange]
    lineage_searched: bool
    slices: Mapping[str, str]
    lineage_note: str | None
    evidence: list[str]
    warnings: list[str]


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
    lineage_note: str | None = None,
    inconclusive: Inconclusive | None = None,
    min_evaluations: int | None = None,
    context: Sequence[str] = (),
    window: timedelta | None = None,
    lookback_days: int | None = None,
    slack_days: int | None = None,
    joint: FeatureOnset | None = None,
    leaned_on: Sequence[str] = (),
    timing_changes: Mapping[str, Sequence[UpstreamChange]] | None = None,
    label_delay: timedelta | None = None,
    slices: Mapping[str, str] | None = None,
    estimate: MetricDrop | None = None,
) -> Diagnosis:
    """The verdict for drift onsets, a metric drop and the upstream changes found per feature.

    ``changes`` maps each drifted feature (and each feature the classifier leans on) to the
    changes on its upstream path (any time range; those in the feature's suspect window are
    selected here). ``granularity`` is the drift windows' size (``1d`` by default).
    ``unconnected`` are changes that only dataset-level lineage reaches, named in the evidence as
    ruled out. ``lineage_searched=False`` says no lineage was available: drift then still reads
    as data drift, and the evidence says that a pipeline change could not be ruled out, and
    ``lineage_note`` says why (the lineage held no matching dataset). ``inconclusive``: the metric
    series is too thin (from :func:`~mlobs_notebook.diagnose.support.thin_evidence`); without one,
    a drop computed over fewer than ``min_evaluations`` windows (default
    :func:`~mlobs_notebook.diagnose.support.minimum_evaluations`) is too thin as well.
    ``context``: sentences about the evidence's sources (where the metric came from, the
    baseline's snapshot check), placed first in the evidence. ``joint``/``leaned_on``: the multivariate onset and the features the domain classifier leans
    on. ``timing_changes``: every feature's upstream changes around the drop (rule 3), searched
    in the timing window with ``label_delay`` (None: unknown). ``slices``: per feature, the
    sentence naming the slice that carries its drift. ``estimate``: the confidence-based estimate
    of the metric and its drop, told beside the realized one. ``window``, ``lookback_days`` and
    ``slack_days`` are the older spellings of ``granularity``, ``lookback`` and ``slack``.
    """
    step = _granularity(granularity, window)
    if lookback_days is not None:
        lookback = timedelta(days=lookback_days)
    if slack_days is not None:
        slack = timedelta(days=slack_days)
    drifted = tuple(o for o in onsets if o.onset is not None)
    joint = joint if joint is not None and joint.onset is not None else None
    metric = drop.metric
    facts = _Inputs(drop, step, lookback, changes, unconnected, lineage_searched, slices or {}, lineage_note,
                    list(context), [])

    minimum = minimum_evaluations() if min_evaluations is None else min_evaluations
    if inconclusive is None and drop.points < minimum:
        inconclusive = Inconclusive(
            f"{metric} has a value in {drop.points} window{'s' if drop.points != 1 else ''}, fewer than the "
            f"{minimum} a verdict needs.", "more evaluations (--date-from, --metric-run, --predictions)")
    if inconclusive is not None:
        facts.evidence.append(inconclusive.reason)
        facts.warnings.extend(
            f"{o.feature} drifted from {human(o.onset, step)} ({o.drifted_windows} of {o.windows} windows); "
            f"whether it hurt {metric} cannot be told yet." for o in (*drifted, *((joint,) if joint else ()))
        )
        return Diagnosis("inconclusive", tuple(facts.evidence),
                         RECOMMENDATIONS["inconclusive"].format(metric=metric, flag=inconclusive.flag),
                         drifted=drifted, warnings=tuple(facts.warnings), joint=joint, leaned_on=tuple(leaned_on),
                         inconclusive=inconclusive)

    if not drop.dropped:
        facts.evidence.append(
            f"{metric} held at its reference level ({fmt(drop.reference)}, tolerance "
            f"{fmt(drop.tolerance)}) over {drop.points} evaluations: no sustained drop."
        )
        for o in (*drifted, *((joint,) if joint else ())):
            facts.warnings.append(
                f"{o.feature} drifted from {human(o.onset, step)} ({o.drifted_windows} of {o.windows} "
                f"windows) without hurting {metric}."
            )
        if estimate is not None and estimate.dropped:
            facts.warnings.append(
                f"The confidence-based estimate of {metric} fell from {human(estimate.onset, step)} "
                f"({fmt(estimate.mean_after)} on average since): the realized {metric} may fall once labels arrive."
            )
        confidence = HIGH if not facts.warnings else MEDIUM
        cause = Cause("healthy", confidence, tuple(facts.evidence))
        return Diagnosis("healthy", tuple(facts.evidence), RECOMMENDATIONS["healthy"].format(metric=metric),
                         drifted=drifted, warnings=tuple(facts.warnings), causes=(cause,), joint=joint,
                         leaned_on=tuple(leaned_on))

    assert drop.onset is not None and drop.reference is not None and drop.tolerance is not None
    facts.evidence.append(
        f"{metric} fell below {fmt(drop.reference - drop.tolerance)} (reference {fmt(drop.reference)} "
        f"minus tolerance {fmt(drop.tolerance)}) from {human(drop.onset, step)} and stayed down: "
        f"{fmt(drop.mean_after)} on average since."
    )
    if estimate is not None:
        facts.evidence.append(estimate_sentence(estimate, drop, step))
    cutoff = drop.onset + slack
    relevant = tuple(o for o in drifted if o.began is not None and o.began <= cutoff)
    for o in drifted:
        if o not in relevant:
            facts.warnings.append(f"{o.feature} drifted only from {human(o.onset, step)}, after {metric} had fallen.")

    def seen(d: Diagnosis) -> Diagnosis:
        return replace(d, drifted=drifted, joint=joint, leaned_on=tuple(leaned_on))

    if relevant:
        return seen(_from_drift(relevant, facts))
    if joint is not None and joint.onset is not None and joint.onset <= cutoff and leaned_on:
        facts.evidence.append(
            f"No feature drifted on its own before the drop, but their joint distribution did from {human(joint.onset, step)}, "
            f"{lead(drop.onset - joint.onset)} {metric} fell: a classifier tells those windows from the "
            f"training data (ROC AUC {fmt(joint.value_at_onset)} at onset, up to {fmt(joint.peak_value)}), "
            f"leaning on {', '.join(leaned_on)}."
        )
        stand_ins = tuple(replace(joint, feature=f) for f in leaned_on)
        return seen(_from_drift(stand_ins, facts, joint=True))
    return seen(_from_timing(onsets, facts, timing_changes or {}, label_delay))


def _from_drift(relevant: Sequence[FeatureOnset], facts: _Inputs, joint: bool = False) -> Diagnosis:
    """Rule 2: drift before the drop, explained by an upstream change or not."""
    drop, step, evidence, metric = facts.drop, facts.step, facts.evidence, facts.drop.metric
    assert drop.onset is not None
    for o in relevant:
        assert o.onset is not None
        if not joint:
            warned = ""
            if o.warn_onset is not None:
                warned = f"warned from {human(o.warn_onset, step)}, {lead(drop.onset - o.warn_onset)} {metric} fell, and "
            evidence.append(
                f"{o.feature} {warned}drifted from {human(o.onset, step)}, {lead(drop.onset - o.onset)} {metric} fell "
                f"({o.statistic} {fmt(o.value_at_onset)} at onset, up to {fmt(o.peak_value)}; "
                f"{o.drifted_windows} of {o.windows} windows drifted)."
            )
        if o.feature in facts.slices:
            evidence.append(facts.slices[o.feature][0].upper() + facts.slices[o.feature][1:] + ".")
    windows = {o.feature: suspect_window(o.began, step, facts.lookback) for o in relevant if o.began is not None}
    cosmetic: dict[str, UpstreamChange] = {}
    suspects, explained = collect_suspects(relevant, facts.changes, windows, cosmetic)
    ranked = sorted(suspects, key=rank_key)
    unexplained = tuple(o.feature for o in relevant if o.feature not in explained)
    features = ", ".join(o.feature for o in relevant)
    if not ranked:
        if facts.lineage_searched:
            evidence.append(
                f"No upstream run of {features} changed its definition, schema, state or volume from "
                f"{duration(facts.lookback)} before the drift onset to its window's end."
            )
        else:
            evidence.append(
                f"{facts.lineage_note or 'No lineage was given'}, so upstream changes were not searched: a "
                "pipeline change cannot be ruled out."
            )
        evidence.extend(ruled_out(c) for c in (*cosmetic.values(), *facts.unconnected))
        cause = Cause("data_drift", MEDIUM if facts.lineage_searched else LOW, tuple(evidence),
                      tuple(o.feature for o in relevant))
        return Diagnosis("data_drift", tuple(evidence), RECOMMENDATIONS["data_drift"].format(features=features),
                         warnings=tuple(facts.warnings), unexplained=unexplained, suspect_windows=windows,
                         causes=(cause,))
    for s in ranked:
        evidence.append(suspect_sentence(s, f"the drift window of {', '.join(s.features)} opened"))
    suspected = {s.run_id for s in ranked}
    evidence.extend(ruled_out(c) for c in (*cosmetic.values(), *facts.unconnected) if c.suspect_run not in suspected)
    top = ranked[0]
    confidence = HIGH if top.column_level and top.tier == 0 else MEDIUM
    causes = [Cause("pipeline_bug", confidence, tuple(evidence), tuple(sorted(explained)), tuple(ranked))]
    if unexplained and not joint:
        causes.append(Cause(
            "data_drift", MEDIUM,
            (f"{', '.join(unexplained)} also drifted before {metric} fell, and no upstream run "
             "of theirs changed in their suspect windows: a real shift in the data beside the bug.",),
            unexplained,
        ))
    jobs = ", ".join(dict.fromkeys(s.job for s in ranked))
    return Diagnosis("pipeline_bug", tuple(evidence), RECOMMENDATIONS["pipeline_bug"].format(jobs=jobs),
                     suspects=tuple(ranked), warnings=tuple(facts.warnings), unexplained=unexplained,
                     suspect_windows=windows, causes=tuple(causes))


def _from_timing(
    onsets: Sequence[FeatureOnset], facts: _Inputs, timing_changes: Mapping[str, Sequence[UpstreamChange]],
    label_delay: timedelta | None,
) -> Diagnosis:
    """Rule 3: the metric fell and nothing drifted."""
    drop, step, evidence, metric = facts.drop, facts.step, facts.evidence, facts.drop.metric
    assert drop.onset is not None
    evidence.append(
        "No feature drifted before the drop, alone or jointly"
        + (f" ({len(onsets)} features compared with the training data)." if onsets else ".")
    )
    lo, hi = timing_window(drop.onset, step, label_delay, facts.lookback)
    affected = drop.onset - (label_delay or timedelta(0))
    entries: dict[str, list[UpstreamChange]] = {}
    cosmetic = []
    for feature, found in timing_changes.items():
        for c in found:
            if not lo <= c.event_time < hi:
                continue
            if c.cosmetic:
                cosmetic.append(c)
            elif c.tier == 0:
                entries.setdefault(feature, []).append(c)
    onset_of = {f: FeatureOnset(f, affected, 0, 0, None, None, "timing") for f in entries}
    suspects, _ = collect_suspects(list(onset_of.values()), entries, dict.fromkeys(entries, (lo, hi)), {})
    ranked = sorted(suspects, key=rank_key)
    delay = f"a label delay of {duration(label_delay)}" if label_delay is not None else "an unknown label delay"
    if ranked:
        evidence.append(
            f"But upstream of the features, changes that can spoil predictions without moving a "
            f"distribution (a join key, a filter) happened where, with {delay}, the predictions "
            f"behind the drop were made ({human(lo, step)} to {human(hi, step)}):"
        )
        when = "the spoiled predictions began" if label_delay is not None else f"{metric} fell"
        evidence.extend(suspect_sentence(s, when) for s in ranked)
        evidence.extend(ruled_out(c) for c in dict.fromkeys(cosmetic))
        top = ranked[0]
        confidence = MEDIUM if top.column_level and "join key" in top.aspects else LOW
        jobs = ", ".join(dict.fromkeys(s.job for s in ranked))
        causes = (
            Cause("pipeline_bug", confidence, tuple(evidence), top.features, tuple(ranked)),
            Cause("model_drift", LOW,
                  (f"Had the change been harmless, the relation between the features and {metric} moved on its own.",)),
        )
        return Diagnosis("pipeline_bug", tuple(evidence), RECOMMENDATIONS["pipeline_bug"].format(jobs=jobs),
                         suspects=tuple(ranked), warnings=tuple(facts.warnings), causes=causes,
                         timing_window=(lo, hi))
    if not facts.lineage_searched:
        evidence.append(
            f"{facts.lineage_note or 'No lineage was given'}, so a change that spoils predictions without moving a distribution "
            "(a join on a wrong key) cannot be ruled out."
        )
    elif timing_changes or cosmetic:
        evidence.append(
            f"No upstream run of the features changed its definition, schema or state where, with {delay}, "
            f"the predictions behind the drop were made ({human(lo, step)} to {human(hi, step)})."
        )
    evidence.extend(ruled_out(c) for c in dict.fromkeys(cosmetic))
    cause = Cause("model_drift", MEDIUM if facts.lineage_searched else LOW, tuple(evidence))
    return Diagnosis("model_drift", tuple(evidence), RECOMMENDATIONS["model_drift"].format(metric=metric),
                     warnings=tuple(facts.warnings), causes=(cause,), timing_window=(lo, hi))


def _granularity(granularity: Granularity | str | None, window: timedelta | None) -> Granularity:
    if granularity is not None:
        return Granularity.parse(granularity)
    if window is None:
        return Granularity(1, "d")
    for unit, size in (("w", timedelta(weeks=1)), ("d", timedelta(days=1)), ("h", timedelta(hours=1))):
        if window >= size and window % size == timedelta(0):
            return Granularity(int(window / size), unit)  # type: ignore[arg-type]
    raise ValueError(f"window={window} is not a whole number of hours; pass granularity= instead")
