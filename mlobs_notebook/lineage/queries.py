"""Questions asked of a LineageGraph: what a dataset or column depends on, and what changed there.

Distances count jobs: a job that writes the target is at distance 1, a job writing one of that
job's inputs at 2, and so on. In the drawing layers, the target is layer 0, its writers layer 1,
their inputs layer 2.

Column level: from the target column, column-lineage edges are followed back (``inputFields``,
plus the ``dataset`` array of fields that affect every column). Where a dataset on the path has no
column lineage from its producer, that branch falls back to dataset level, and the result says so.
"""

from __future__ import annotations

import difflib
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.lineage.changes import Change, ChangeKind
from mlobs_notebook.lineage.index import LineageIndex
from mlobs_notebook.lineage.model import (
    ColumnRef,
    DatasetRef,
    DatasetVersion,
    Edge,
    JobDefinition,
    JobRef,
    Node,
    Upstream,
    flatten_fields,
    node_id,
)
from mlobs_notebook.lineage.sql import compare_sql
from mlobs_notebook.times import range_bound

VOLUME_HISTORY = 14  # prior writes that define a dataset's usual row count
VOLUME_MIN_HISTORY = 5
VOLUME_MAD_FACTOR = 3.5  # robust z-score bound (MAD scaled to a standard deviation)
VOLUME_MIN_RELATIVE = 0.2  # and never flag a move smaller than 20% of the median


@dataclass
class _Walk:
    jobs: dict[JobRef, int] = field(default_factory=dict)
    datasets: dict[DatasetRef, int] = field(default_factory=dict)
    columns: dict[ColumnRef, int] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)
    cl_jobs: set[JobRef] = field(default_factory=set)
    fallback: dict[DatasetRef, None] = field(default_factory=dict)
    job_outputs: dict[JobRef, set[DatasetRef]] = field(default_factory=dict)


_did = _jid = _fid = node_id


def _walk(lg: LineageIndex, target: DatasetRef, column: str | None, depth: int | None) -> _Walk:
    g = lg.lineage_graph
    w = _Walk()
    w.datasets[target] = 0
    ds_queue: deque[tuple[DatasetRef, int]] = deque()
    field_queue: deque[tuple[ColumnRef, int]] = deque()
    if column is None:
        ds_queue.append((target, 0))
    else:
        start = ColumnRef(target, column)
        w.columns[start] = 0
        field_queue.append((start, 0))

    def link_job(job: JobRef, out: DatasetRef, d: int, via_cl: bool) -> None:
        if job not in w.jobs or w.jobs[job] > d + 1:
            w.jobs[job] = d + 1
        w.edges[(_jid(job), _did(out))] = "writes"
        w.job_outputs.setdefault(job, set()).add(out)
        if via_cl:
            w.cl_jobs.add(job)

    while field_queue:
        cref, d = field_queue.popleft()
        ds = cref.dataset
        if depth is not None and d >= depth:
            continue
        if not lg.datasets.get(ds) or not lg.datasets[ds].has_column_lineage:
            if lg.datasets.get(ds) and lg.datasets[ds].writers:
                w.fallback[ds] = None
                ds_queue.append((ds, d))
            continue
        preds: list[tuple[Any, dict[str, Any]]] = []
        node = ("field", cref)
        if node in g:
            preds.extend((s, data) for s, data in g.pred[node].items() if data.get("kind") == "column")
        dnode = ("dataset", ds)
        preds.extend((s, data) for s, data in g.pred[dnode].items() if data.get("kind") == "column_all")
        for src_node, data in preds:
            src: ColumnRef = src_node[1]
            w.edges[(_fid(src), _fid(cref))] = "column"
            for job in data["jobs"]:
                if job is not None:
                    link_job(job, ds, d, True)
                    w.edges[(_did(src.dataset), _jid(job))] = "reads"
            if src.dataset not in w.datasets or w.datasets[src.dataset] > d + 1:
                w.datasets[src.dataset] = d + 1
            if src not in w.columns:
                w.columns[src] = d + 1
                field_queue.append((src, d + 1))

    seen: set[DatasetRef] = set()
    while ds_queue:
        ds, d = ds_queue.popleft()
        if ds in seen or (depth is not None and d >= depth):
            continue
        seen.add(ds)
        for job in lg.datasets[ds].writers if ds in lg.datasets else ():
            link_job(job, ds, d, False)
            for inp in lg.jobs[job].inputs:
                w.edges[(_did(inp), _jid(job))] = "reads"
                if inp not in w.datasets or w.datasets[inp] > d + 1:
                    w.datasets[inp] = d + 1
                ds_queue.append((inp, d + 1))
    return w


def upstream(lg: LineageIndex, target: DatasetRef, column: str | None, depth: int | None) -> Upstream:
    if depth is not None and depth < 0:
        raise InputError(f"depth must be None or >= 0, got {depth}")
    if column is not None:
        _check_column(lg, target, column)
    w = _walk(lg, target, column, depth)
    note = None
    if column is not None and w.fallback:
        listed = ", ".join(str(d) for d in w.fallback)
        note = f"no column lineage from the producer of {listed}; dataset-level lineage used there"
    nodes = [Node(_did(d), "dataset", str(d), 2 * layer) for d, layer in w.datasets.items()]
    nodes += [Node(_jid(j), "job", j.name, 2 * dist - 1) for j, dist in w.jobs.items()]
    nodes += [Node(_fid(c), "field", c.field, 2 * layer) for c, layer in w.columns.items()]
    return Upstream(
        target=target,
        column=column,
        jobs=tuple(sorted(w.jobs, key=lambda j: (w.jobs[j], j))),
        datasets=tuple(sorted((d for d in w.datasets if d != target), key=lambda d: (w.datasets[d], d))),
        columns=tuple(sorted((c for c in w.columns if c != ColumnRef(target, column or "")), key=lambda c: (w.columns[c], c))),
        nodes=tuple(nodes),
        edges=tuple(Edge(s, t, k) for (s, t), k in w.edges.items()),  # type: ignore[arg-type]
        column_level=column is not None and not w.fallback,
        note=note,
        job_distance=dict(w.jobs),
        fallback_datasets=tuple(w.fallback),
    )


def downstream(lg: LineageIndex, target: DatasetRef, depth: int | None) -> Upstream:
    """Dataset level: the jobs that read ``target`` and what they write, hop after hop."""
    if depth is not None and depth < 0:
        raise InputError(f"depth must be None or >= 0, got {depth}")
    datasets: dict[DatasetRef, int] = {target: 0}
    jobs: dict[JobRef, int] = {}
    edges: dict[tuple[str, str], str] = {}
    queue: deque[tuple[DatasetRef, int]] = deque([(target, 0)])
    while queue:
        ds, d = queue.popleft()
        if depth is not None and d >= depth:
            continue
        for job in lg.datasets[ds].readers if ds in lg.datasets else ():
            edges[(_did(ds), _jid(job))] = "reads"
            if job in jobs:
                continue
            jobs[job] = d + 1
            for out in lg.jobs[job].outputs:
                edges[(_jid(job), _did(out))] = "writes"
                if out not in datasets:
                    datasets[out] = d + 1
                    queue.append((out, d + 1))
    nodes = [Node(_did(d), "dataset", str(d), -2 * layer) for d, layer in datasets.items()]
    nodes += [Node(_jid(j), "job", j.name, 1 - 2 * dist) for j, dist in jobs.items()]
    return Upstream(
        target=target, column=None,
        jobs=tuple(sorted(jobs, key=lambda j: (jobs[j], j))),
        datasets=tuple(sorted((d for d in datasets if d != target), key=lambda d: (datasets[d], d))),
        columns=(), nodes=tuple(nodes),
        edges=tuple(Edge(s, t, k) for (s, t), k in edges.items()),  # type: ignore[arg-type]
        column_level=False, note=None, job_distance=jobs, direction="downstream",
    )  # fmt: skip


def _check_column(lg: LineageIndex, target: DatasetRef, column: str) -> None:
    ds = lg.datasets[target]
    known = set(flatten_fields(ds.schema)) if ds.schema else set()
    in_lineage = ("field", ColumnRef(target, column)) in lg.lineage_graph
    if known and column not in known and not in_lineage:
        raise UnknownColumn(
            f"dataset {target} has no column {column!r}. Its columns: {', '.join(sorted(known))}."
        )


def changes(
    lg: LineageIndex,
    target: DatasetRef,
    column: str | None,
    since: Any,
    until: Any,
    depth: int | None,
) -> list[Change]:
    lo, hi = range_bound(since, "since"), range_bound(until, "until", end=True)
    if lo and hi and lo > hi:
        raise InputError(f"since ({lo.isoformat()}) is after until ({hi.isoformat()})")
    if column is not None:
        _check_column(lg, target, column)
    w = _walk(lg, target, column, depth)

    def in_range(t: datetime) -> bool:
        return (lo is None or t >= lo) and (hi is None or t <= hi)

    path_cols: dict[DatasetRef, set[str]] = {}
    for c in w.columns:
        path_cols.setdefault(c.dataset, set()).add(c.field)
    found: list[Change] = []
    for job, dist in w.jobs.items():
        via = job in w.cl_jobs
        outs = w.job_outputs.get(job, set())
        cols = tuple(sorted({f for d in outs for f in path_cols.get(d, ())})) if column else ()
        found += _job_changes(lg, job, in_range, touched_of=outs, cols=cols, dist=dist, via=via, column=column)
    for ds in w.datasets:
        versions = lg.datasets[ds].versions if ds in lg.datasets else ()
        for kind_changes in (_schema_changes, _volume_changes):
            for v, detail, fields in kind_changes(versions, in_range):
                if v.job is None or v.job not in w.jobs or v.run_id is None:
                    continue
                on_path = path_cols.get(ds)
                if column and ds not in w.fallback and on_path is not None and fields and not set(fields) & on_path:
                    continue  # a schema change away from the columns on the path
                kind: ChangeKind = "schema" if kind_changes is _schema_changes else "volume"
                found.append(Change(v.job, v.run_id, v.event_time, kind, detail, (ds,), tuple(fields),
                                    w.jobs[v.job], v.job in w.cl_jobs))  # fmt: skip
    found.sort(key=lambda c: (c.event_time, c.distance, c.kind, c.run_id))
    return found


def _job_changes(
    lg: LineageIndex, job: JobRef, in_range: Any, *, touched_of: set[DatasetRef], cols: tuple[str, ...],
    dist: int, via: bool, column: str | None,
) -> list[Change]:
    """A job's failures and definition changes in range. A failure names the first run of its
    streak of failures (runs that failed one after another, with no run completing between); a
    definition change is compared as SQL (``lineage.sql``), and a change of projections only is
    dropped when none of them is a column on the path of ``column``."""
    found: list[Change] = []
    previous = None
    streak: tuple[str, datetime] | None = None
    streak_runs = 0
    for run_id in lg.jobs[job].run_ids:
        run = lg.runs[run_id]
        definition = run.definition
        if run.failed:
            streak = streak or (run_id, run.event_time)
            streak_runs += 1
        elif run.state == "COMPLETE":
            streak, streak_runs = None, 0
        if not in_range(run.event_time):
            if not definition.is_empty():
                previous = definition
            continue
        touched = tuple(sorted(d.ref for d in run.outputs if d.ref in touched_of)) or tuple(sorted(touched_of))
        if run.failed and streak is not None:
            what = "failed" if run.state == "FAIL" else "was aborted"
            msg = f": {run.error_message}" if run.error_message else ""
            since = "" if streak_runs < 2 else (
                f"; the job has failed on every run since run {streak[0]} at {streak[1]:%Y-%m-%d %H:%M} UTC "
                f"({streak_runs} runs in a row)")
            found.append(Change(job, run_id, run.event_time, "failure", f"run {what}{msg}{since}", touched, cols,
                                dist, via, streak_start=streak[0], streak_since=streak[1], streak_runs=streak_runs))
        if not definition.is_empty():
            if previous is not None and previous != definition:
                change = _definition_change(job, run_id, run.event_time, previous, definition, touched, cols, dist, via)
                away = column and cols and change is not None and change.changed_columns and not set(change.changed_columns) & set(cols)
                if change is not None and not away:
                    found.append(change)
            previous = definition
    return found


def _definition_change(
    job: JobRef, run_id: str, when: datetime, previous: JobDefinition, definition: JobDefinition,
    touched: tuple[DatasetRef, ...], cols: tuple[str, ...], dist: int, via: bool,
) -> Change | None:
    parts = [p for p in ("sql", "source_code", "source_code_location", "settings", "version")
             if getattr(previous, p) != getattr(definition, p)]  # fmt: skip
    if not parts:
        return None  # the same definition, only the dialect's name recorded differently
    semantic: bool | None = None
    aspects: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    how = f"({', '.join(parts)})"
    if parts == ["sql"] and previous.sql and definition.sql:
        compared = compare_sql(previous.sql, definition.sql, definition.sql_dialect or previous.sql_dialect)
        semantic, aspects, columns = compared.semantic, compared.aspects, compared.columns
        how = compared.describe()
    elif "sql" not in parts:
        semantic = True  # code, its location or its version: not judged as SQL, taken as real
    diff = "".join(difflib.unified_diff(
        (previous.text() + "\n").splitlines(keepends=True), (definition.text() + "\n").splitlines(keepends=True),
        fromfile=f"{job.name} (previous run)", tofile=f"{job.name} (run {run_id})",
    ))  # fmt: skip
    return Change(job, run_id, when, "job_definition", f"job definition changed {how} against the previous run",
                  touched, cols, dist, via, diff, semantic=semantic, aspects=aspects, changed_columns=columns)


def _good(v: DatasetVersion) -> bool:
    return v.state not in ("FAIL", "ABORT")


def _schema_changes(versions: tuple[DatasetVersion, ...], in_range: Any) -> list[tuple[DatasetVersion, str, tuple[str, ...]]]:
    """Columns added, removed or retyped between consecutive good writes. A field without a type
    (the spec allows it) has an unknown type, not a new one: types are compared only where both
    writes give one, against the last type known for the field. A write without a schema
    (``fields`` null or empty) tells nothing and is skipped."""
    out = []
    prev: set[str] | None = None
    known: dict[str, str] = {}
    for v in versions:
        if not v.schema or not _good(v):
            continue
        cur = flatten_fields(v.schema)
        if prev is not None and in_range(v.event_time):
            added = sorted(set(cur) - prev)
            removed = sorted(prev - set(cur))
            retyped = sorted(k for k in set(cur) & prev if cur[k] is not None and k in known and cur[k] != known[k])
            parts = []
            if added:
                parts.append("added " + ", ".join(added))
            if removed:
                parts.append("removed " + ", ".join(removed))
            if retyped:
                parts.append("type changed " + ", ".join(f"{k} {known[k]} -> {cur[k]}" for k in retyped))
            if parts:
                out.append((v, f"schema of {v.dataset} changed: " + "; ".join(parts), tuple(added + removed + retyped)))
        prev = set(cur)
        known.update({k: t for k, t in cur.items() if t is not None})
    return out


def _volume_changes(versions: tuple[DatasetVersion, ...], in_range: Any) -> list[tuple[DatasetVersion, str, tuple[str, ...]]]:
    out = []
    history: deque[int] = deque(maxlen=VOLUME_HISTORY)
    for v in versions:
        if v.row_count is None or not _good(v):
            continue
        if len(history) >= VOLUME_MIN_HISTORY and in_range(v.event_time):
            med = statistics.median(history)
            mad = statistics.median(abs(x - med) for x in history) * 1.4826
            bound = max(VOLUME_MAD_FACTOR * mad, VOLUME_MIN_RELATIVE * abs(med))
            if abs(v.row_count - med) > bound:
                lo, hi = med - bound, med + bound
                no_fields: tuple[str, ...] = ()
                out.append((v, f"{v.dataset} got {v.row_count} rows, outside its usual range "
                               f"{max(lo, 0):.0f}-{hi:.0f} (median {med:.0f} of the last {len(history)} writes)", no_fields))  # fmt: skip
        history.append(v.row_count)
    return out
