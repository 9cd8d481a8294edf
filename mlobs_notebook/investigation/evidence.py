"""Upstream evidence for drift onsets: the lineage walked from each drifted column, and the runs
that changed something in the column's suspect window (the window :mod:`mlobs_notebook.diagnose`
decides, so the query and the verdict look at the same hours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlobs_notebook.correlate import FeatureOnset
from mlobs_notebook.diagnose import UpstreamChange, suspect_window
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity

if TYPE_CHECKING:
    from mlobs_notebook.lineage import Change, DatasetRef, LineageGraph, Upstream

__all__ = ["LineageEvidence", "lineage_evidence", "timing_evidence", "upstream_change"]


@dataclass
class LineageEvidence:
    """What the lineage says about the drifted features.

    ``target`` is the feature table's dataset in the lineage (None when nothing matched: then
    ``closest`` lists the nearest dataset names); ``changes`` maps each drifted feature to the
    changes on its upstream path in its suspect window; ``unconnected`` are changes only
    dataset-level lineage reaches.
    """

    graph: LineageGraph
    target: DatasetRef | None = None
    upstream: dict[str, Upstream] = field(default_factory=dict)
    changes: dict[str, list[UpstreamChange]] = field(default_factory=dict)
    unconnected: list[UpstreamChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closest: list[str] = field(default_factory=list)


def lineage_evidence(
    lineage: Any,
    lineage_dataset: Any,
    training_uri: str,
    onsets: Sequence[FeatureOnset],
    granularity: Granularity,
    lookback: timedelta,
) -> LineageEvidence:
    """Load the lineage (a path, URL or LineageGraph), find the feature table in it, and gather
    the upstream changes of each drifted feature in its suspect window."""
    from mlobs_notebook.lineage import LineageGraph, load_lineage

    graph = lineage if isinstance(lineage, LineageGraph) else load_lineage(lineage)
    found = LineageEvidence(graph)
    if graph.problems:
        found.notes.append(f"{len(graph.problems)} lineage event(s) could not be used (see lineage.problems)")
    target = (
        graph.resolve_dataset(lineage_dataset) if lineage_dataset is not None
        else graph.match_dataset(training_uri)
    )
    if target is None:
        found.closest = graph.closest_datasets(training_uri)
        found.notes.append(
            f"the lineage holds no dataset matching the training source {training_uri} (closest: "
            f"{', '.join(found.closest) or 'none'}): pass lineage_dataset= (--lineage-dataset "
            "NAMESPACE/NAME) to search upstream changes"
        )
        return found
    found.target = target
    drifted = [o for o in onsets if o.onset is not None]
    for o in drifted:
        assert o.onset is not None
        since, until = suspect_window(o.onset, granularity, lookback)
        try:
            up = graph.upstream(target, column=o.feature)
        except InputError:
            up = graph.upstream(target)
            found.notes.append(f"{o.feature} is not a field of {target} in the lineage: dataset-level lineage used")
        found.upstream[o.feature] = up
        if up.note:
            found.notes.append(f"{o.feature}: {up.note}")
        column = o.feature if up.column is not None else None
        found.changes[o.feature] = [
            upstream_change(c) for c in graph.changes(target, column=column, since=since, until=until)
        ]
    if drifted:
        windows = [suspect_window(o.onset, granularity, lookback) for o in drifted if o.onset is not None]
        since, until = min(w[0] for w in windows), max(w[1] for w in windows)
        connected = {r for cs in found.changes.values() for c in cs for r in (c.run_id, c.suspect_run)}
        found.unconnected = [
            u for u in map(upstream_change, graph.changes(target, since=since, until=until))
            if u.run_id not in connected and u.suspect_run not in connected
        ]
    return found


def upstream_change(change: Change) -> UpstreamChange:
    """A lineage change as the diagnosis reads it."""
    return UpstreamChange(
        job=change.job.name, run_id=change.run_id, event_time=change.event_time, kind=change.kind,
        detail=change.detail, distance=change.distance, column_level=change.via_column_lineage,
        diff=change.diff, semantic=change.semantic, aspects=change.aspects, streak_start=change.streak_start,
        streak_since=change.streak_since, streak_runs=change.streak_runs,
    )


def timing_evidence(
    found: LineageEvidence, features: Sequence[str], window: tuple[datetime, datetime]
) -> dict[str, list[UpstreamChange]]:
    """Every feature's upstream changes in ``window`` (the timing window of a metric drop that no
    drift explains), at column level where the lineage has it."""
    if found.target is None:
        return {}
    since, until = window
    out: dict[str, list[UpstreamChange]] = {}
    for feature in features:
        try:
            changes = found.graph.changes(found.target, column=feature, since=since, until=until)
        except InputError:
            changes = found.graph.changes(found.target, since=since, until=until)
        out[feature] = [upstream_change(c) for c in changes]
    return out
