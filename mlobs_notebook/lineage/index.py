"""The lineage index: merged lineage (``merge.py``) and the networkx graph the queries walk.

Readers (``readers/``) turn each source into OpenLineage-shaped events; the ``Merger`` folds them
into ``LineageData``; :class:`LineageIndex` adds the graph.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from mlobs_notebook.lineage.merge import LineageData
from mlobs_notebook.lineage.model import ColumnRef, Dataset, DatasetRef, Job, JobRef, Run

__all__ = ["LineageIndex"]


class LineageIndex:
    """Merged lineage with its graph: what the queries (``queries.py``) and name matching read.

    ``lineage_graph`` holds datasets, jobs and fields (nodes ``("dataset", DatasetRef)``,
    ``("job", JobRef)``, ``("field", ColumnRef)``) with edges that follow the data: ``reads``,
    ``writes``, ``column`` (with the jobs that declared it) and ``column_all`` (an input field
    that affects every column, e.g. a filter). ``full_graph()`` adds runs and dataset versions.
    """

    def __init__(self, data: LineageData) -> None:
        self.data = data
        self.lineage_graph = _lineage_graph(data)

    @property
    def runs(self) -> dict[str, Run]:
        return self.data.runs

    @property
    def jobs(self) -> dict[JobRef, Job]:
        return self.data.jobs

    @property
    def datasets(self) -> dict[DatasetRef, Dataset]:
        return self.data.datasets

    @property
    def canonical(self) -> dict[DatasetRef, DatasetRef]:
        return self.data.canonical

    def full_graph(self) -> nx.DiGraph:
        """The lineage graph plus ``("run", run_id)`` and ``("version", DatasetRef, run_id)`` nodes,
        with ``run_of``, ``wrote`` and ``version_of`` edges."""
        g = self.lineage_graph.copy()
        runs = self.runs.values()
        g.add_nodes_from((("run", r.run_id), {"kind": "run", "state": r.state, "time": r.event_time}) for r in runs)
        versions = [v for ds in self.datasets.values() for v in ds.versions if v.run_id is not None]
        g.add_nodes_from((("version", v.dataset, v.run_id), {"kind": "version", "time": v.event_time}) for v in versions)
        g.add_edges_from((("version", v.dataset, v.run_id), ("dataset", v.dataset), {"kind": "version_of"}) for v in versions)
        g.add_edges_from((("run", v.run_id), ("version", v.dataset, v.run_id), {"kind": "wrote"}) for v in versions)
        g.add_edges_from((("run", r.run_id), ("job", r.job), {"kind": "run_of"}) for r in runs)
        return g


def _lineage_graph(data: LineageData) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from((("dataset", ref), {"kind": "dataset"}) for ref in data.datasets)
    g.add_nodes_from((("job", ref), {"kind": "job"}) for ref in data.jobs)
    for ref, job in data.jobs.items():
        g.add_edges_from((("dataset", d), ("job", ref), {"kind": "reads"}) for d in job.inputs)
        g.add_edges_from((("job", ref), ("dataset", d), {"kind": "writes"}) for d in job.outputs)
    for edge, declared_by, _run_id in data.column_edges:
        src = ("field", edge.source)
        g.add_node(src, kind="field")
        g.add_node(("dataset", edge.source.dataset), kind="dataset")
        dst: tuple[Any, ...]
        if edge.target_field is None:
            dst, kind = ("dataset", edge.target), "column_all"
        else:
            dst, kind = ("field", ColumnRef(edge.target, edge.target_field)), "column"
            g.add_node(dst, kind="field")
        if g.has_edge(src, dst):
            attributes = g.edges[src, dst]
            attributes["jobs"].add(declared_by)
            attributes["transformations"].update(edge.transformations)
        else:
            g.add_edge(src, dst, kind=kind, jobs={declared_by}, transformations=set(edge.transformations))
    return g
