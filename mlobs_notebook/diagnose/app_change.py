"""An LLM app's own verdict, ``app_change``: the app itself changed. Pure.

An LLM app's quality can fall with no input moving and no pipeline changing because a new
version of the app (a LoggedModel: its prompt template, its model, its parameters) went live.
:func:`diagnose_app` applies the usual rules (:func:`~mlobs_notebook.diagnose.verdict.diagnose`)
to the features that describe the app's *inputs* (the requests, and what the retriever found),
then reads the app's own changes:

1. ``healthy`` and ``pipeline_bug`` stand; a version change is named in the warnings. A
   pipeline_bug's suspects are the runs of the retriever index's pipeline.
2. The metric fell, no input drifted before it (``model_drift`` by the usual rules), and a new
   app version started serving in the drop's suspect window
   (:func:`~mlobs_notebook.diagnose.window.suspect_window` of the drop's onset): ``app_change``.
   The evidence names the versions, what changed between them (prompt versions, parameters, with
   the prompt's diff) and the features of the app's behaviour (tokens, response length, latency)
   that moved with it.
3. Inputs drifted with no pipeline change (``data_drift``) and the app changed in the same
   window: the verdict stays ``data_drift`` and the evidence says that the version change could
   not be told apart from it.

Features of the app's behaviour never count as drifted inputs: a new prompt is expected to move
token counts. The recommendations are an app's (:data:`APP_RECOMMENDATIONS`): there is no model to
retrain, there is an index to rebuild, documents to add, a version to roll back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mlobs_notebook.correlate import FeatureOnset, MetricDrop
from mlobs_notebook.diagnose.support import Inconclusive, minimum_evaluations
from mlobs_notebook.diagnose.suspects import UpstreamChange
from mlobs_notebook.diagnose.verdict import DEFAULT_SLACK, Diagnosis, diagnose
from mlobs_notebook.diagnose.window import DEFAULT_LOOKBACK, suspect_window
from mlobs_notebook.times import Granularity, aware, human

__all__ = ["APP_CHANGE", "APP_RECOMMENDATIONS", "AppChange", "diagnose_app"]

APP_CHANGE = "app_change"
# what to do, for an app: there is no model to retrain, there is an index, a prompt and an LLM
APP_RECOMMENDATIONS = {
    "pipeline_bug": (
        "Fix or revert the change in {jobs} and rebuild what it wrote (the retriever's index); the "
        "app itself needs no change."
    ),
    "data_drift": (
        "Confirm the shift in {features} is real (new kinds of questions, not a logging change), then "
        "cover it: add documents on the new topics to the index and evaluate the app on recent questions."
    ),
    "model_drift": (
        "No input, pipeline or app version moved, yet {metric} fell: check what the traces do not "
        "record (the model the LLM provider serves under the same name, a judge's own changes) and "
        "evaluate the app again on the baseline's questions."
    ),
    APP_CHANGE: (
        "Roll back to {before} (or fix what {after} changed: {what}); evaluate the new version on the "
        "baseline's questions before serving it again."
    ),
}


@dataclass(frozen=True)
class AppChange:
    """A new app version that started serving: ``at`` is its first trace (aware), ``before`` and
    ``after`` name the versions (LoggedModel name and id), ``changes`` say what differs (prompt
    versions, parameters) and ``diff`` shows it (prompt templates and parameters, unified diff)."""

    at: datetime
    before: str
    after: str
    changes: tuple[str, ...]
    diff: str | None = None
    before_id: str | None = None
    after_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware(self.at, f"first trace of {self.after}"))

    @property
    def what(self) -> str:
        return "; ".join(self.changes) or "no recorded parameter or prompt differs"

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(), "before": self.before, "after": self.after,
            "before_id": self.before_id, "after_id": self.after_id,
            "changes": list(self.changes), "diff": self.diff,
        }


def diagnose_app(
    onsets: Sequence[FeatureOnset],
    drop: MetricDrop,
    changes: Mapping[str, Sequence[UpstreamChange]],
    app_changes: Sequence[AppChange],
    *,
    roles: Mapping[str, str],
    granularity: Granularity | str = "1d",
    lookback: timedelta = DEFAULT_LOOKBACK,
    slack: timedelta = DEFAULT_SLACK,
    lineage_searched: bool = True,
) -> Diagnosis:
    """The verdict for an LLM app; see the module docstring. ``roles`` maps each feature to
    ``input`` (the requests), ``retrieval`` (what the retriever found: the index's lineage can
    explain it) or ``app`` (the app's own behaviour); ``changes`` maps retrieval features to the
    index pipeline's changes, as :func:`~mlobs_notebook.diagnose.verdict.diagnose` reads them."""
    step = Granularity.parse(granularity)
    causes = [o for o in onsets if roles.get(o.feature) in ("input", "retrieval")]
    minimum = minimum_evaluations()
    thin = None if drop.points >= minimum else Inconclusive(
        f"{drop.metric} has a value in {drop.points} window{'s' if drop.points != 1 else ''} of traces, fewer than "
        f"the {minimum} a verdict needs.", "a longer range of traces (--trace-start, --trace-end)")
    base = diagnose(causes, drop, changes, granularity=step, lookback=lookback, slack=slack,
                    lineage_searched=lineage_searched, inconclusive=thin)
    behaviour = tuple(sorted((o for o in onsets if o not in causes and o.onset is not None), key=_order))
    drifted = (*base.drifted, *behaviour)  # the inputs first: the panels open on the first
    base = replace(base, drifted=drifted, recommendation=_recommend(base, drop.metric))
    if base.verdict == "data_drift":
        base = replace(base, evidence=(*base.evidence[:-1], *_unexplained(base, roles, lineage_searched)))
    if base.verdict == "inconclusive":  # too few windows of the metric: no app version is blamed either
        return replace(base, warnings=(*base.warnings, *(_served(c, step) for c in app_changes)))
    if base.verdict in ("healthy", "pipeline_bug"):
        return replace(base, warnings=(*base.warnings, *(_served(c, step) for c in app_changes)))
    assert drop.onset is not None
    lo, hi = suspect_window(drop.onset, step, lookback)
    near = [c for c in app_changes if lo <= c.at < hi]
    others = tuple(_served(c, step) for c in app_changes if c not in near)
    if not near:
        return replace(base, warnings=(*base.warnings, *others))
    if base.verdict == "data_drift":
        evidence = [*base.evidence, *(
            f"The app also changed in the same window ({c.after} replaced {c.before} from "
            f"{human(c.at, Granularity(1, 'h'))}: {c.what}); its effect cannot be told apart from the input "
            "drift: compare the two versions on the same questions." for c in near)]
        return replace(base, evidence=tuple(evidence), warnings=(*base.warnings, *others))
    change = near[-1]
    evidence = [base.evidence[0], (
        f"No input or retrieval feature drifted before the drop ({len(causes)} compared with the baseline)."
    )]
    for c in near:
        evidence.append(
            f"The app changed: {c.after} replaced {c.before} from {human(c.at, Granularity(1, 'h'))}, "
            f"{_when(c.at, drop.onset, step)} ({c.what})."
        )
    for o in behaviour:
        assert o.onset is not None
        evidence.append(
            f"{o.feature} moved with it from {human(o.onset, step)} ({o.statistic} {_fmt(o.value_at_onset)} "
            f"at onset): the app's own behaviour, not its input."
        )
    recommendation = APP_RECOMMENDATIONS[APP_CHANGE].format(before=change.before, after=change.after, what=change.what)
    return Diagnosis(APP_CHANGE, tuple(evidence), recommendation, drifted=drifted,
                     warnings=(*base.warnings, *others))


def _recommend(base: Diagnosis, metric: str) -> str:
    template = APP_RECOMMENDATIONS.get(base.verdict)
    if template is None:
        return base.recommendation
    jobs = ", ".join(dict.fromkeys(s.job for s in base.suspects))
    return template.format(jobs=jobs, features=", ".join(base.unexplained), metric=metric)


def _unexplained(base: Diagnosis, roles: Mapping[str, str], lineage_searched: bool) -> list[str]:
    """Why no pipeline explains the drift, per kind of feature (this replaces the tabular
    sentence about upstream runs, the last of a data_drift's evidence when nothing is unconnected)."""
    inputs = [f for f in base.unexplained if roles.get(f) == "input"]
    retrieval = [f for f in base.unexplained if roles.get(f) == "retrieval"]
    out = []
    if inputs:
        out.append(f"{', '.join(inputs)} describe{'s' if len(inputs) == 1 else ''} the requests themselves: "
                   "no pipeline or app version produces them.")
    if retrieval and lineage_searched:
        out.append(f"No run of the index pipeline changed its definition, schema, state or volume near the "
                   f"onset of {', '.join(retrieval)}.")
    elif retrieval:
        out.append(f"The index pipeline's lineage was not searched, so a change there cannot be ruled out for "
                   f"{', '.join(retrieval)}.")
    return out


def _order(o: FeatureOnset) -> tuple[bool, float, str]:
    return (o.onset is None, o.onset.timestamp() if o.onset is not None else 0.0, o.feature)


def _served(c: AppChange, step: Granularity) -> str:
    return f"{c.after} replaced {c.before} from {human(c.at, step)} ({c.what})."


def _when(at: datetime, onset: datetime, step: Granularity) -> str:
    """Where a change falls against the drop: in its first window, or how long before it."""
    if onset <= at < step.add(onset, 1):
        return "in the window the drop began"
    hours = (onset - at).total_seconds() / 3600
    amount = f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"
    return f"{amount} before the drop's window"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
