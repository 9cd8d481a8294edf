"""LineageGraph: the facade over a lineage index that notebooks and the investigation use.

It resolves what users type (dataset names, URIs, job names) and answers ``upstream``,
``downstream`` and ``changes`` through ``queries.py``; the graph itself (nodes and edges) is
described in ``index.py``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import networkx as nx

from mlobs_notebook.errors import LineageParseError, UnknownDataset, UnknownJob
from mlobs_notebook.lineage import naming, queries
from mlobs_notebook.lineage.changes import Change
from mlobs_notebook.lineage.index import LineageIndex
from mlobs_notebook.lineage.merge import LineageData, Merger
from mlobs_notebook.lineage.model import (
    Dataset,
    DatasetEvent,
    DatasetRef,
    Job,
    JobEvent,
    JobRef,
    Problem,
    Run,
    RunEvent,
    Upstream,
)
from mlobs_notebook.lineage.readers.openlineage import EventError, parse_event

_PARSED = (RunEvent, DatasetEvent, JobEvent)


def build_lineage(items: Iterable[tuple[str, int | None, Any, str | None]], *, strict: bool = False) -> LineageGraph:
    """Decoded items (source, line, object, decode error) -> a LineageGraph (pure: no I/O)."""
    merger = Merger()
    # A load allocates millions of small containers that stay alive; the cyclic collector would
    # rescan them again and again (a third of the load time) while finding nothing to free.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(merger, items, strict)
    finally:
        if was_enabled:
            gc.enable()


def _build(merger: Merger, items: Iterable[tuple[str, int | None, Any, str | None]], strict: bool) -> LineageGraph:
    for source, line, obj, error in items:
        problems: list[Problem] = []
        if error is not None:
            problems.append(Problem(source, line, error))
        else:
            try:
                # readers of other shapes (Unity Catalog system tables) hand over parsed events
                merger.add(obj if isinstance(obj, _PARSED) else parse_event(obj, source=source, line=line, problems=problems))
            except EventError as exc:
                problems.insert(0, Problem(source, line, f"event skipped: {exc}"))
        if problems:
            if strict:
                p = problems[0]
                raise LineageParseError(p.source, p.line, p.reason)
            merger.problems.extend(problems)
    return LineageGraph(merger.finish())


class LineageGraph:
    """Runs, jobs and datasets merged from OpenLineage events, and the questions asked of them."""

    def __init__(self, data: LineageData) -> None:
        self._data = data
        self._index = LineageIndex(data)
        self._full: nx.DiGraph | None = None

    @property
    def graph(self) -> nx.DiGraph:
        """The whole graph: the lineage (datasets, jobs, fields) plus runs and dataset versions.
        Built on first access, since queries only walk the lineage part."""
        if self._full is None:
            self._full = self._index.full_graph()
        return self._full

    @property
    def lineage_graph(self) -> nx.DiGraph:
        """Datasets, jobs and fields only, with reads/writes/column edges (what queries walk)."""
        return self._index.lineage_graph

    # --- contents ----------------------------------------------------------------------------
    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._data.problems

    @property
    def runs(self) -> dict[str, Run]:
        """Run id -> Run, ordered by the run's event time."""
        return self._data.runs

    @property
    def jobs(self) -> dict[JobRef, Job]:
        return self._data.jobs

    @property
    def datasets(self) -> dict[DatasetRef, Dataset]:
        return self._data.datasets

    @property
    def event_count(self) -> int:
        return self._data.event_count

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.event_count,
            "runs": len(self.runs),
            "jobs": len(self.jobs),
            "datasets": len(self.datasets),
            "problems": [p.to_dict() for p in self.problems],
        }

    def runs_of(self, job: JobRef | tuple[str, str] | str) -> list[Run]:
        ref = self.resolve_job(job)
        return [self.runs[r] for r in self.jobs[ref].run_ids]

    def canonical(self, ref: DatasetRef) -> DatasetRef:
        return self._data.canonical.get(ref, ref)

    def __repr__(self) -> str:
        return (
            f"LineageGraph({self.event_count} events, {len(self.runs)} runs, {len(self.jobs)} jobs, "
            f"{len(self.datasets)} datasets, {len(self.problems)} problems)"
        )

    def _repr_html_(self) -> str:
        return f"<b>LineageGraph</b>: {self.__repr__()[len('LineageGraph(') : -1]}"

    # --- arguments ---------------------------------------------------------------------------
    def resolve_dataset(self, dataset: DatasetRef | tuple[str, str] | str) -> DatasetRef:
        """A DatasetRef, a ``(namespace, name)`` pair, ``"NAMESPACE/NAME"`` (known namespaces
        tried as prefixes, since names contain slashes) or any URI ``match_dataset`` knows."""
        found = naming.match_dataset(self._data.canonical, dataset)
        if found is None:
            known = ", ".join(str(d) for d in list(self.datasets)[:8])
            more = "" if len(self.datasets) <= 8 else f" and {len(self.datasets) - 8} more"
            raise UnknownDataset(
                f"no dataset {dataset!s} in this lineage. Give it as (namespace, name) or "
                f"'NAMESPACE/NAME'. Known datasets: {known or 'none'}{more}."
            )
        return found

    def resolve_job(self, job: JobRef | tuple[str, str] | str) -> JobRef:
        if isinstance(job, tuple) and len(job) == 2:
            job = JobRef(*job)
        if isinstance(job, JobRef) and job in self.jobs:
            return job
        if isinstance(job, str):
            for ref in self.jobs:
                if job in (str(ref), ref.name):
                    return ref
        known = ", ".join(str(j) for j in list(self.jobs)[:8])
        raise UnknownJob(f"no job {job!s} in this lineage. Known jobs: {known or 'none'}.")

    # --- queries -----------------------------------------------------------------------------
    def upstream(
        self, dataset: DatasetRef | tuple[str, str] | str, column: str | None = None, depth: int | None = None
    ) -> Upstream:
        """What ``dataset`` (or one ``column`` of it) depends on; see ``queries.upstream``."""
        return queries.upstream(self._index, self.resolve_dataset(dataset), column, depth)

    def downstream(self, dataset: DatasetRef | tuple[str, str] | str, depth: int | None = None) -> Upstream:
        """What reads ``dataset`` and what those jobs write (dataset level; negative layers)."""
        return queries.downstream(self._index, self.resolve_dataset(dataset), depth)

    def changes(
        self,
        dataset: DatasetRef | tuple[str, str] | str,
        column: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        *,
        depth: int | None = None,
    ) -> list[Change]:
        """Events on the upstream path in [since, until] that could explain a change."""
        return queries.changes(self._index, self.resolve_dataset(dataset), column, since, until, depth)

    def match_dataset(self, uri_or_name: Any) -> DatasetRef | None:
        """The dataset named by an MLflow source or table URI, or None."""
        return naming.match_dataset(self._data.canonical, uri_or_name)

    def match_mlflow_source(self, source: Any) -> DatasetRef | None:
        """The dataset an MLflow dataset source (object, dict or stored JSON) names, or None."""
        return naming.match_mlflow_source(self._data.canonical, source)

    def closest_datasets(self, uri_or_name: str, n: int = 5) -> list[str]:
        """The known dataset names most like ``uri_or_name`` (for "did you mean" messages)."""
        return naming.closest_names(self._data.canonical, uri_or_name, n)
