"""Upstream evidence for an LLM app: the pipeline that builds its retriever's index.

What a retriever returns (how many documents, their scores, the context's length) depends on the
index it searches, so the index's lineage can explain the drift of those features. The index is
the dataset the traces name in the RETRIEVER spans' ``gen_ai.data_source.id`` (or the one the
caller gives); its upstream is walked at dataset level (a retriever feature is not a column of
the index), and the changes of every job on it are gathered in each drifted feature's suspect
window, the same window the diagnosis reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from mlobs_notebook.correlate import FeatureOnset
from mlobs_notebook.diagnose import suspect_window
from mlobs_notebook.investigation.evidence import LineageEvidence, upstream_change
from mlobs_notebook.times import Granularity

__all__ = ["index_evidence"]


def index_evidence(
    lineage: Any,
    index: Any,
    named_by_traces: bool,
    onsets: Sequence[FeatureOnset],
    granularity: Granularity,
    lookback: timedelta,
) -> LineageEvidence:
    """Load the lineage (a path, URL or LineageGraph), find ``index`` (a dataset name or URI; None
    when the traces name none) and gather the changes upstream of it for each drifted retrieval
    feature in ``onsets``. ``named_by_traces`` says where ``index`` came from, for the notes."""
    from mlobs_notebook.lineage import LineageGraph, load_lineage

    graph = lineage if isinstance(lineage, LineageGraph) else load_lineage(lineage)
    found = LineageEvidence(graph)
    if graph.problems:
        found.notes.append(f"{len(graph.problems)} lineage event(s) could not be used (see lineage.problems)")
    if index is None:
        found.notes.append(
            "the traces name no retriever index (gen_ai.data_source.id on their RETRIEVER spans): pass "
            "lineage_dataset= (--lineage-dataset NAMESPACE/NAME) to search the index pipeline's changes"
        )
        return found
    target = graph.match_dataset(index) if named_by_traces else graph.resolve_dataset(index)
    if target is None:
        found.closest = graph.closest_datasets(str(index))
        found.notes.append(
            f"the lineage holds no dataset matching the retriever's index {index} (closest: "
            f"{', '.join(found.closest) or 'none'}): pass lineage_dataset= (--lineage-dataset NAMESPACE/NAME)"
        )
        return found
    found.target = target
    up = graph.upstream(target)
    for o in onsets:
        if o.onset is None:
            continue
        since, until = suspect_window(o.onset, granularity, lookback)
        found.upstream[o.feature] = up
        found.changes[o.feature] = [upstream_change(c) for c in graph.changes(target, since=since, until=until)]
    return found
