"""Merging parsed events into runs, jobs and datasets (:class:`LineageData`); ``index.py`` builds
the graph over the result.

- Events of one run are merged by ``runId``: START often has no inputs and some runs only send a
  terminal event, so inputs, outputs and facets are the union over the run's events, facets
  merged by key (an older event never overrides a newer one's facet).
- A run's job is the one its terminal event names, else its latest event, never Spark's
  placeholder ``unknown`` (``identity.py``). Events of one run that name two other jobs, or two
  parent runs, are reported in ``problems`` (the run, both values, the one kept), never merged
  silently.
- The final state of a run is its latest terminal event (COMPLETE, FAIL, ABORT), else its latest
  event.
- Runs whose id is a test-matcher placeholder (dbt fixtures: every ``runId`` is
  ``{{ any(result) }}``) are told apart by job and time: a START opens a new run of that job, a
  terminal event closes the open one. Their id is ``"<job namespace>/<job name>@<first eventTime>"``.
- A dataset's identity is ``(namespace, name)``; identities joined by a ``symlinks`` facet are one
  dataset, named by the identity that declared the symlinks (the physical location), else by the
  first identity seen as a primary one.
- Every non-DROP output of a run is a new dataset version tied to that run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mlobs_notebook.lineage.identity import RunIdentity, link
from mlobs_notebook.lineage.model import (
    JOB_SETTINGS_FACET,
    TERMINAL_STATES,
    ColumnEdge,
    ColumnRef,
    Dataset,
    DatasetEvent,
    DatasetIO,
    DatasetRef,
    DatasetVersion,
    Event,
    Job,
    JobDefinition,
    JobEvent,
    JobRef,
    Problem,
    Run,
    RunEvent,
    RunLink,
    make,
)
from mlobs_notebook.lineage.readers.openlineage import (
    _dict,
    _str,
    dataset_from_facets,
    parse_schema,
)


class _RunAcc:
    __slots__ = (
        "run_id", "identity", "count", "start", "end", "last", "latest_merge", "state", "terminal_time",
        "run_facets", "job_facets", "inputs", "outputs", "parent_override",
    )  # fmt: skip

    def __init__(self, run_id: str, job: JobRef) -> None:
        self.run_id = run_id
        self.identity = RunIdentity(run_id, job)
        self.count = 0
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.last: datetime | None = None
        self.latest_merge: datetime | None = None
        self.state = "OTHER"
        self.terminal_time: datetime | None = None
        self.run_facets: dict[str, Any] = {}
        self.job_facets: dict[str, Any] = {}
        self.inputs: dict[DatasetRef, dict[str, Any]] = {}
        self.outputs: dict[DatasetRef, dict[str, Any]] = {}
        self.parent_override: str | None = None


def _merge(into: dict[str, Any], new: dict[str, Any], newer: bool) -> None:
    if newer:
        into.update(new)
    else:
        for k, v in new.items():
            into.setdefault(k, v)


@dataclass(frozen=True)
class LineageData:
    """Everything the merge produced; the graph is built from it."""

    runs: dict[str, Run]
    jobs: dict[JobRef, Job]
    datasets: dict[DatasetRef, Dataset]
    canonical: dict[DatasetRef, DatasetRef]
    """Every known identity (symlinks included) -> its canonical dataset."""
    column_edges: tuple[tuple[ColumnEdge, JobRef | None, str | None], ...]
    """(edge, job, run id) with canonical dataset refs, one per (edge, job), with a run that
    declared it; job and run are None for lineage declared outside a run (a DatasetEvent, a
    Marquez field node)."""
    problems: tuple[Problem, ...]
    event_count: int


class Merger:
    def __init__(self) -> None:
        self._runs: dict[str, _RunAcc] = {}
        self._open_placeholder: dict[tuple[JobRef, str], str] = {}
        self._alias_parent: dict[DatasetRef, DatasetRef] = {}
        self._first_seen: dict[DatasetRef, int] = {}
        self._primary: set[DatasetRef] = set()
        self._declares: set[DatasetRef] = set()  # identities that name others as their symlinks
        self._declared_schema: dict[DatasetRef, tuple[datetime, Any]] = {}  # raw schema facets
        self._static_io: dict[JobRef, tuple[set[DatasetRef], set[DatasetRef]]] = {}
        self.problems: list[Problem] = []
        self.event_count = 0
        self._now = datetime.min.replace(tzinfo=UTC)
        self._static_edges: list[tuple[ColumnEdge, JobRef | None]] = []
        self._memo: dict = {}

    # --- identities --------------------------------------------------------------------------
    def _find(self, ref: DatasetRef) -> DatasetRef:
        parent = self._alias_parent.get(ref)
        if parent is None:
            self._alias_parent[ref] = ref
            self._first_seen[ref] = len(self._first_seen)
            return ref
        root = ref
        while parent != root:
            root = parent
            parent = self._alias_parent[root]
        while ref != root:  # path compression
            self._alias_parent[ref], ref = root, self._alias_parent[ref]
        return root

    def _see(self, ds: DatasetIO) -> None:
        if ds.ref in self._primary and not ds.symlinks and "schema" not in ds.facets:
            return  # the common repeat: nothing new about this identity
        self._primary.add(ds.ref)
        root = self._find(ds.ref)
        if ds.symlinks:
            self._declares.add(ds.ref)
        for alias in ds.symlinks:
            other = self._find(alias)
            if other != root:
                self._alias_parent[other] = root
        if "schema" in ds.facets:
            prev = self._declared_schema.get(ds.ref)
            if prev is None or prev[0] <= self._now:
                self._declared_schema[ds.ref] = (self._now, ds.facets["schema"])

    # --- events ------------------------------------------------------------------------------
    def add(self, event: Event) -> None:
        self.event_count += 1
        self._now = event.event_time
        if isinstance(event, RunEvent):
            self._add_run_event(event)
        elif isinstance(event, DatasetEvent):
            self._see(event.dataset)
            self._static_edges.extend((e, None) for e in event.dataset.column_edges)
        elif isinstance(event, JobEvent):
            ins, outs = self._static_io.setdefault(event.job, (set(), set()))
            for d in event.inputs:
                self._see(d)
                ins.add(d.ref)
            for d in event.outputs:
                self._see(d)
                outs.add(d.ref)
                self._static_edges.extend((e, event.job) for e in d.column_edges)

    def _run_key(self, ev: RunEvent) -> str:
        if not ev.run_id_is_placeholder:
            return ev.run_id
        slot = (ev.job, ev.run_id)
        open_id = self._open_placeholder.get(slot)
        if ev.event_type == "START" or open_id is None:
            open_id = f"{ev.job.namespace}/{ev.job.name}@{ev.event_time.isoformat()}"
            while open_id in self._runs and ev.event_type == "START":
                open_id += "'"  # two STARTs of one job at one instant: still two runs
            self._open_placeholder[slot] = open_id
        if ev.event_type in TERMINAL_STATES:
            del self._open_placeholder[slot]
        return open_id

    def _add_run_event(self, ev: RunEvent) -> None:
        key = self._run_key(ev)
        acc = self._runs.get(key)
        if acc is None:
            acc = self._runs[key] = _RunAcc(key, ev.job)
        acc.count += 1
        t = ev.event_time
        self.problems.extend(Problem(ev.source, ev.line, reason) for reason in acc.identity.observe(ev))
        newer = acc.latest_merge is None or t >= acc.latest_merge
        if newer:
            acc.latest_merge = t
        if ev.event_type == "START" and (acc.start is None or t < acc.start):
            acc.start = t
        if acc.last is None or t >= acc.last:
            acc.last = t
            if acc.terminal_time is None:
                acc.state = ev.event_type
        if ev.event_type in TERMINAL_STATES and (acc.terminal_time is None or t >= acc.terminal_time):
            acc.terminal_time = acc.end = t
            acc.state = ev.event_type
        _merge(acc.run_facets, ev.run_facets, newer)
        _merge(acc.job_facets, ev.job_facets, newer)
        if ev.run_id_is_placeholder and "parent" in ev.run_facets:
            parent_job = _dict(ev.run_facets["parent"]).get("job")
            pj = _dict(parent_job)
            if _str(pj.get("namespace")) and _str(pj.get("name")):
                ref = JobRef(pj["namespace"], pj["name"])
                run_id = _str(_dict(_dict(ev.run_facets["parent"]).get("run")).get("runId"))
                if run_id is not None:
                    acc.parent_override = self._open_placeholder.get((ref, run_id))
        for target, items in ((acc.inputs, ev.inputs), (acc.outputs, ev.outputs)):
            for d in items:
                self._see(d)
                _merge(target.setdefault(d.ref, {}), d.facets, newer)

    # --- result ------------------------------------------------------------------------------
    def finish(self) -> LineageData:
        canonical = self._canonical_map()

        def canon(ref: DatasetRef) -> DatasetRef:
            return canonical.get(ref, ref)

        runs: dict[str, Run] = {}
        for acc in self._runs.values():
            runs[acc.run_id] = self._build_run(acc, canon)
        self._fill_roots(runs)
        ordered = sorted(runs.values(), key=lambda r: (r.event_time, r.run_id))

        job_runs: dict[JobRef, list[str]] = {}
        job_in: dict[JobRef, dict[DatasetRef, None]] = {}
        job_out: dict[JobRef, dict[DatasetRef, None]] = {}
        versions: dict[DatasetRef, list[DatasetVersion]] = {}
        edges: dict[tuple[ColumnEdge, JobRef | None], str | None] = {}
        cl_targets: set[DatasetRef] = set()
        last_edges: dict[tuple[DatasetRef, JobRef], tuple[ColumnEdge, ...]] = {}
        for e, job in self._static_edges:
            e = ColumnEdge(ColumnRef(canon(e.source.dataset), e.source.field), canon(e.target),
                           e.target_field, e.transformations)  # fmt: skip
            edges[(e, job)] = None
            cl_targets.add(e.target)
        for run in ordered:
            job_runs.setdefault(run.job, []).append(run.run_id)
            ins = job_in.setdefault(run.job, {})
            outs = job_out.setdefault(run.job, {})
            for d in run.inputs:
                ins[d.ref] = None
            for d in run.outputs:
                outs[d.ref] = None
                versions.setdefault(d.ref, []).append(
                    make(DatasetVersion, dataset=d.ref, run_id=run.run_id, job=run.job, event_time=run.event_time,
                         state=run.state, schema=d.schema, row_count=d.row_count, size_bytes=d.size_bytes,
                         version=d.version)  # fmt: skip
                )
                if d.column_edges and last_edges.get((d.ref, run.job)) is not d.column_edges:
                    # the facet memo hands back the same tuple while a job repeats its lineage
                    last_edges[(d.ref, run.job)] = d.column_edges
                    cl_targets.add(d.ref)
                    for e in d.column_edges:
                        edges[(e, run.job)] = run.run_id
        for job, (s_in, s_out) in self._static_io.items():
            job_runs.setdefault(job, [])
            for ref in s_in:
                job_in.setdefault(job, {})[canon(ref)] = None
            for ref in s_out:
                job_out.setdefault(job, {})[canon(ref)] = None

        jobs = {
            j: Job(j, tuple(ids), tuple(job_in.get(j, {})), tuple(job_out.get(j, {})))
            for j, ids in job_runs.items()
        }
        writers: dict[DatasetRef, list[JobRef]] = {}
        readers: dict[DatasetRef, list[JobRef]] = {}
        for j in jobs.values():
            for ref in j.outputs:
                writers.setdefault(ref, []).append(j.ref)
            for ref in j.inputs:
                readers.setdefault(ref, []).append(j.ref)
        aliases: dict[DatasetRef, list[DatasetRef]] = {}
        for ref, c in canonical.items():
            if ref != c:
                aliases.setdefault(c, []).append(ref)
        declared: dict[DatasetRef, tuple[datetime, Any]] = {}
        for ref, (t, raw) in self._declared_schema.items():
            c = canon(ref)
            if c not in declared or declared[c][0] <= t:
                declared[c] = (t, raw)
        datasets = {}
        for ref in sorted(set(canonical.values())):
            vs = tuple(versions.get(ref, ()))
            schema = next((v.schema for v in reversed(vs) if v.schema is not None), None)
            if schema is None and ref in declared:
                schema = parse_schema(declared[ref][1])
            datasets[ref] = Dataset(
                ref, tuple(sorted(aliases.get(ref, ()))), vs, schema,
                tuple(writers.get(ref, ())), tuple(readers.get(ref, ())), ref in cl_targets,
            )  # fmt: skip
        return LineageData(
            runs={r.run_id: r for r in ordered},
            jobs=jobs,
            datasets=datasets,
            canonical=canonical,
            column_edges=tuple((e, j, rid) for (e, j), rid in edges.items()),
            problems=tuple(self.problems),
            event_count=self.event_count,
        )

    def _canonical_map(self) -> dict[DatasetRef, DatasetRef]:
        groups: dict[DatasetRef, list[DatasetRef]] = {}
        for ref in list(self._alias_parent):
            groups.setdefault(self._find(ref), []).append(ref)
        out: dict[DatasetRef, DatasetRef] = {}
        for members in groups.values():
            # the physical identity (the one declaring the symlinks) names the dataset, whatever
            # order the events came in; then any identity used as a primary one; then the first
            preferred = [m for m in members if m in self._declares] or [m for m in members if m in self._primary]
            chosen = min(preferred or members, key=self._first_seen.__getitem__)
            for m in members:
                out[m] = chosen
        return out

    def _build_run(self, acc: _RunAcc, canon: Any) -> Run:
        rf, jf = acc.run_facets, acc.job_facets

        def io(items: dict[DatasetRef, dict[str, Any]]) -> list[DatasetIO]:
            return [dataset_from_facets(ref, facets, canon=canon, memo=self._memo) for ref, facets in items.items()]

        outputs = io(acc.outputs)
        parent = link(rf.get("parent"))
        if parent is not None and acc.parent_override is not None:
            parent = RunLink(parent.job, acc.parent_override)
        root = link(_dict(rf.get("parent")).get("root"))
        location = _dict(jf.get("sourceCodeLocation"))
        loc_text = _str(location.get("url")) or "/".join(
            x for x in (_str(location.get("repoUrl")), _str(location.get("path"))) if x
        )
        error = _dict(rf.get("errorMessage"))
        nominal = _dict(rf.get("nominalTime"))
        settings = _dict(jf.get(JOB_SETTINGS_FACET))
        return make(
            Run,
            run_id=acc.run_id,
            job=acc.identity.job,
            state=acc.state,
            start_time=acc.start,
            end_time=acc.end,
            event_time=acc.end or acc.last,
            nominal_time=_str(nominal.get("nominalStartTime")),
            parent=parent,
            root=root,
            error_message=_str(error.get("message")),
            definition=make(
                JobDefinition,
                sql=_str(_dict(jf.get("sql")).get("query")),
                sql_dialect=_str(_dict(jf.get("sql")).get("dialect")),
                source_code=_str(_dict(jf.get("sourceCode")).get("sourceCode")),
                source_code_language=_str(_dict(jf.get("sourceCode")).get("language")),
                source_code_location=loc_text or None,
                version=_str(location.get("version")) or _str(location.get("tag")) or _str(settings.get("version")),
                settings=_settings_text(settings.get("settings")),
            ),
            inputs=tuple(io(acc.inputs)),
            outputs=tuple(d for d in outputs if d.lifecycle != "DROP"),
            dropped=tuple(d.ref for d in outputs if d.lifecycle == "DROP"),
            event_count=acc.count,
            run_facets=rf,
            job_facets=jf,
        )

    @staticmethod
    def _fill_roots(runs: dict[str, Run]) -> None:
        """A run without a root in its parent facet gets the top of its parent chain."""
        for run_id, run in list(runs.items()):
            if run.parent is None or run.root is not None:
                continue
            top, seen = run.parent, {run_id}
            while top.run_id in runs and top.run_id not in seen:
                seen.add(top.run_id)
                up = runs[top.run_id]
                if up.parent is None:
                    break
                top = up.root or up.parent
            runs[run_id] = replace(run, root=top)


def _settings_text(value: Any) -> str | None:
    """A settings mapping as sorted ``name: value`` lines (nulls left out: unknown, not changed)."""
    if not isinstance(value, dict):
        return None
    lines = [f"{k}: {v}" for k, v in sorted(value.items()) if v is not None and v != ""]
    return "\n".join(lines) or None
