"""What a node of an upstream drawing stands for: its facets, runs and changes, and one more hop.

``node_details`` answers "what is this node?" for a hover or a selection; ``expand`` grows an
:class:`~mlobs_notebook.lineage.Upstream` by one job hop up or down from a node, so a drawing can
be explored past the path the query returned. Both read the LineageGraph; neither draws.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from mlobs_notebook import markup
from mlobs_notebook.errors import InputError
from mlobs_notebook.lineage import (
    Change,
    ColumnRef,
    DatasetRef,
    Edge,
    JobRef,
    LineageGraph,
    Node,
    Run,
    Upstream,
    node_id,
)
from mlobs_notebook.times import range_bound

_did = _jid = _fid = node_id

__all__ = ["NodeDetails", "expand", "node_details", "node_refs"]

Ref = JobRef | DatasetRef | ColumnRef
MAX_RUNS = 20
_FACET_CHARS = 400


def node_refs(upstream: Upstream) -> dict[str, Ref]:
    """Node id -> the job, dataset or column it draws."""
    refs: dict[str, Ref] = {_did(upstream.target): upstream.target}
    refs.update((_did(d), d) for d in upstream.datasets)
    refs.update((_jid(j), j) for j in upstream.jobs)
    refs.update((_fid(c), c) for c in upstream.columns)
    if upstream.column is not None:
        target = ColumnRef(upstream.target, upstream.column)
        refs[_fid(target)] = target
    return refs


def _node(upstream: Upstream, node_id: str) -> Node:
    for node in upstream.nodes:
        if node.id == node_id:
            return node
    listed = ", ".join(n.id for n in upstream.nodes[:10])
    raise InputError(f"no node {node_id!r} in this lineage drawing. Its nodes: {listed}")


@dataclass(frozen=True)
class NodeDetails:
    """One node: what it is (``facts``), its facets, its runs in the time range, its changes."""

    id: str
    kind: str
    title: str
    facts: tuple[tuple[str, str], ...]
    facets: dict[str, str]
    runs: tuple[Run, ...]
    changes: tuple[Change, ...]

    def hover_text(self) -> str:
        lines = [f"<b>{html.escape(self.title)}</b> ({self.kind})"]
        lines += [f"{html.escape(k)}: {html.escape(v[:80])}" for k, v in self.facts[:6]]
        if self.runs:
            last = self.runs[0]
            lines.append(f"last run {last.state} at {last.event_time:%Y-%m-%d %H:%M}")
        for change in self.changes[:4]:
            lines.append(f"<b>{change.kind}</b> {change.event_time:%Y-%m-%d}: {html.escape(change.detail[:80])}")
        if len(self.changes) > 4:
            lines.append(f"... {len(self.changes) - 4} more changes")
        return "<br>".join(lines)

    def to_html(self) -> str:
        esc = html.escape
        parts = [f"<h4 style='margin:4px 0'>{esc(self.title)} <small>({self.kind})</small></h4>"]
        if self.facts:
            parts.append(_table(["", ""], self.facts, header=False))
        if self.changes:
            changed = [(f"{c.event_time:%Y-%m-%d %H:%M}", c.kind, c.detail, c.run_id) for c in self.changes]
            parts.append("<b>changes</b>" + _table(["time", "kind", "detail", "run"], changed))
            for c in self.changes:
                if c.diff:
                    parts.append(f"<details><summary>diff of run {esc(c.run_id)}</summary><pre>{esc(c.diff)}</pre></details>")
        if self.runs:
            ran = [(f"{r.event_time:%Y-%m-%d %H:%M}", r.state, r.run_id, r.error_message or "") for r in self.runs]
            parts.append(f"<b>runs</b> (latest {len(self.runs)})" + _table(["time", "state", "run", "error"], ran))
        if self.facets:
            rows = [(k, v) for k, v in sorted(self.facets.items())]
            parts.append("<b>facets</b>" + _table(["facet", "value"], rows))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def _table(head: list[str], rows: Iterable[tuple[Any, ...]], header: bool = True) -> str:
    return markup.table(rows, head if header else None)


def _facet_text(value: Any) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in ("_producer", "_schemaURL")}
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= _FACET_CHARS else text[: _FACET_CHARS - 3] + "..."


def _in_range(when: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or when >= since) and (until is None or when <= until)


def node_details(
    graph: LineageGraph | None,
    upstream: Upstream,
    node_id: str,
    changes: Iterable[Change] = (),
    *,
    since: Any = None,
    until: Any = None,
) -> NodeDetails:
    """Facts, facets, runs (newest first, in [since, until]) and changes of one drawn node.

    Without ``graph`` only what the drawing itself knows (the node and its changes) is given.
    """
    node = _node(upstream, node_id)
    ref = node_refs(upstream).get(node_id)
    lo, hi = range_bound(since, "since"), range_bound(until, "until", end=True)
    all_changes = tuple(changes)
    facts: list[tuple[str, str]] = []
    facets: dict[str, str] = {}
    runs: list[Run] = []
    mine: tuple[Change, ...] = ()
    if isinstance(ref, JobRef):
        title = ref.name
        facts.append(("namespace", ref.namespace))
        mine = tuple(c for c in all_changes if c.job == ref)
        if graph is not None and ref in graph.jobs:
            job_runs = graph.runs_of(ref)
            runs = [r for r in job_runs if _in_range(r.event_time, lo, hi)]
            failed = sum(r.failed for r in runs)
            facts += [("runs in range", f"{len(runs)} of {len(job_runs)}"), ("failed in range", str(failed)),
                      ("reads", ", ".join(str(d) for d in graph.jobs[ref].inputs)),
                      ("writes", ", ".join(str(d) for d in graph.jobs[ref].outputs))]  # fmt: skip
            latest = runs[-1] if runs else (job_runs[-1] if job_runs else None)
            if latest is not None:
                facets = {k: _facet_text(v) for k, v in {**latest.job_facets, **latest.run_facets}.items()}
    elif isinstance(ref, DatasetRef):
        title = ref.name
        facts.append(("namespace", ref.namespace))
        mine = tuple(c for c in all_changes if ref in c.datasets)
        dataset = graph.datasets.get(ref) if graph is not None else None
        if graph is not None and dataset is not None:
            versions = [v for v in dataset.versions if _in_range(v.event_time, lo, hi)]
            facts.append(("writes in range", f"{len(versions)} of {len(dataset.versions)}"))
            if dataset.aliases:
                facts.append(("also known as", ", ".join(str(a) for a in dataset.aliases)))
            if dataset.schema:
                facts.append(("schema", ", ".join(f"{f.name} {f.type or ''}".strip() for f in dataset.schema)))
            counted = [v for v in (versions or dataset.versions) if v.row_count is not None]
            if counted:
                facts.append(("rows (latest write)", f"{counted[-1].row_count:,}"))
            facts += [("written by", ", ".join(j.name for j in dataset.writers) or "none seen"),
                      ("read by", ", ".join(j.name for j in dataset.readers) or "none seen")]  # fmt: skip
            run_ids = [v.run_id for v in versions if v.run_id is not None and v.run_id in graph.runs]
            runs = [graph.runs[r] for r in dict.fromkeys(run_ids)]
            for run in reversed(runs):
                written = next((o for o in run.outputs if o.ref == ref), None)
                if written is not None and written.facets:
                    facets = {k: _facet_text(v) for k, v in written.facets.items()}
                    break
    elif isinstance(ref, ColumnRef):
        title = ref.field
        facts.append(("dataset", str(ref.dataset)))
        mine = tuple(c for c in all_changes if ref.dataset in c.datasets and (not c.columns or ref.field in c.columns))
        if graph is not None and ("field", ref) in graph.graph:
            for src, data in graph.graph.pred[("field", ref)].items():
                if data.get("kind") == "column":
                    how = ", ".join(sorted(data.get("transformations") or ())) or "no transformation given"
                    facts.append((f"from {src[1]}", how))
    else:
        title = node.label
    runs.sort(key=lambda r: r.event_time, reverse=True)
    return NodeDetails(node_id, node.kind, title, tuple(facts), facets, tuple(runs[:MAX_RUNS]), mine)


def expand(upstream: Upstream, graph: LineageGraph, node_id: str, direction: Literal["up", "down"]) -> Upstream:
    """The drawing with one more job hop from ``node_id``: up adds the jobs writing a dataset and
    their inputs (a job: its inputs); down adds the jobs reading it and their outputs (a job: its
    outputs). A column expands from its dataset. Nodes already drawn keep their layer."""
    if direction not in ("up", "down"):
        raise InputError(f"direction must be 'up' or 'down', not {direction!r}")
    node = _node(upstream, node_id)
    ref = node_refs(upstream)[node_id]
    if isinstance(ref, ColumnRef):
        ref = ref.dataset
    nodes = {n.id: n for n in upstream.nodes}
    edges = {(e.source, e.target): e for e in upstream.edges}
    jobs, datasets = list(upstream.jobs), list(upstream.datasets)
    step = 1 if direction == "up" else -1

    def add_job(job: JobRef, layer: int) -> None:
        if _jid(job) not in nodes:
            nodes[_jid(job)] = Node(_jid(job), "job", job.name, layer)
            jobs.append(job)

    def add_dataset(ds: DatasetRef, layer: int) -> None:
        if _did(ds) not in nodes:
            nodes[_did(ds)] = Node(_did(ds), "dataset", str(ds), layer)
            datasets.append(ds)

    def link(job: JobRef, inputs: Iterable[DatasetRef], outputs: Iterable[DatasetRef]) -> None:
        for d in inputs:
            edges.setdefault((_did(d), _jid(job)), Edge(_did(d), _jid(job), "reads"))
        for d in outputs:
            edges.setdefault((_jid(job), _did(d)), Edge(_jid(job), _did(d), "writes"))

    layer = node.layer if node.kind != "field" else nodes[_did(ref)].layer if _did(ref) in nodes else node.layer
    if isinstance(ref, DatasetRef):
        dataset = graph.datasets.get(ref)
        hop_jobs = (dataset.writers if direction == "up" else dataset.readers) if dataset else ()
        for job in hop_jobs:
            if job not in graph.jobs:
                continue
            add_job(job, layer + step)
            far = graph.jobs[job].inputs if direction == "up" else graph.jobs[job].outputs
            for d in far:
                add_dataset(d, layer + 2 * step)
            link(job, [ref] if direction == "down" else far, [ref] if direction == "up" else far)
    elif isinstance(ref, JobRef):
        far = graph.jobs[ref].inputs if direction == "up" else graph.jobs[ref].outputs
        for d in far:
            add_dataset(d, layer + step)
        link(ref, far if direction == "up" else (), far if direction == "down" else ())
    return replace(upstream, nodes=tuple(nodes.values()), edges=tuple(edges.values()),
                   jobs=tuple(jobs), datasets=tuple(datasets))  # fmt: skip
