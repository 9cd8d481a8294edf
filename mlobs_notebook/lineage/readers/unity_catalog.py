"""Unity Catalog system tables as lineage events: ``system.access.table_lineage`` and
``column_lineage`` say what each job run read and wrote, ``system.lakeflow.job_run_timeline`` which
runs failed, ``system.lakeflow.jobs`` (with ``job_tasks``) when a job's definition changed. The
events go through the same merge and queries as OpenLineage, so ``upstream`` and ``changes``
answer alike. Found in a folder by :mod:`~mlobs_notebook.lineage.readers.system_tables`.

Docs: https://docs.databricks.com/aws/en/admin/system-tables/lineage and
https://docs.databricks.com/aws/en/admin/system-tables/jobs. How the rows become OpenLineage:

- **Datasets.** A table with a storage path (``source_path``/``target_path``) is named by the path as
  OpenLineage names storage (``s3://bucket`` + ``key``), with a symlink to namespace
  ``unity-catalog`` and its ``catalog.schema.table`` (the identity OpenLineage's Spark
  integration gives Unity Catalog tables); a table without a path by that symlink alone; a path
  read without a table (``source_type`` ``PATH``) by the path.
- **Jobs and runs.** A job is namespace ``databricks://<workspace_id>`` and its latest name in
  ``system.lakeflow.jobs`` (else the runs' ``run_name``, else ``job <job_id>``; a name two jobs
  share gets the job id appended). A run keeps its Databricks ``run_id``. Lineage rows are tied to
  a run by ``entity_metadata.job_info`` (``job_id``, ``job_run_id``; seen in production queries,
  the docs name the column) or else ``entity_type = 'JOB'`` with ``entity_id``/``entity_run_id``
  (documented); Lakeflow pipeline updates likewise (``dlt_pipeline_info``). Lineage of notebooks,
  queries and dashboards has no run: it is static lineage of that entity.
- **Failures.** A run's ``result_state`` (on its last timeline slice; runs over an hour have
  several) gives its end: ``SUCCEEDED`` a completion; ``FAILED``, ``ERROR``, ``TIMED_OUT`` a
  failure; ``CANCELLED``, ``SKIPPED``, ``BLOCKED`` an abort, with ``termination_code`` in the
  message. The docs section could not be read in full, so the Jobs API spellings (``SUCCESS``,
  ``CANCELED``, ``TIMEDOUT`` ...) are read too; a null state is a run still going.
- **Definition changes.** ``jobs`` is a slowly changing dimension: every change emits a row, its
  ``change_time`` when the version took effect. A run uses the latest version at its start (with
  the ``job_tasks`` rows then in force), carried in the ``mlobs_jobSettings`` job facet, so the
  first run under a new version is a ``job_definition`` change whose diff shows the tracked
  settings (name, description, tags, run_as, trigger_type, tasks) and the version. The tables do
  not hold SQL or code, schemas or row counts: no schema or volume changes come from them.
- ``tags`` is a map in the current docs and a string in older ones; ``job_id`` and ``run_id`` are
  strings in the docs and integers in some exports: both are read.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import polars as pl

from mlobs_notebook.lineage.model import (
    JOB_SETTINGS_FACET,
    DatasetIO,
    DatasetRef,
    JobEvent,
    JobRef,
    RunEvent,
)
from mlobs_notebook.lineage.naming import UNITY_CATALOG, candidates
from mlobs_notebook.lineage.readers.openlineage import dataset_from_facets
from mlobs_notebook.lineage.readers.system_tables import SystemTables

__all__ = ["RESULT_STATES", "iter_system_tables"]

PRODUCER = "https://github.com/mlobs/mlobs_notebook/tree/main/mlobs_notebook/lineage/readers/unity_catalog.py"
RESULT_STATES = {
    **dict.fromkeys(("SUCCEEDED", "SUCCESS"), "COMPLETE"),
    **dict.fromkeys(("FAILED", "ERROR", "TIMED_OUT", "TIMEDOUT", "INTERNAL_ERROR", "UPSTREAM_FAILED",
                     "SUCCESS_WITH_FAILURES"), "FAIL"),
    **dict.fromkeys(("CANCELLED", "CANCELED", "SKIPPED", "BLOCKED", "EXCLUDED", "UPSTREAM_CANCELED",
                     "UPSTREAM_CANCELLED", "MAXIMUM_CONCURRENT_RUNS_REACHED", "DISABLED"), "ABORT"),
}  # fmt: skip
_SETTINGS = ("name", "description", "tags", "run_as", "trigger_type")
RawItem = tuple[str, int | None, Any, str | None]
Key = tuple[str, str, str]  # (workspace, owner, run id)


def iter_system_tables(found: SystemTables) -> Iterator[RawItem]:
    """Events (and problems, as reasons) from the recognised tables of a folder."""
    for path, reason in found.skipped:
        yield str(path), None, None, reason
    lineage = _lineage(found)
    runs, run_source, problems = _runs(found)
    yield from problems
    versions = _versions(found)
    names = _names(found, lineage, runs)
    io = _io(lineage)
    label = next((str(p) for p, _ in found.frames("table_lineage") + found.frames("column_lineage")), "system tables")
    for key in sorted(set(runs) | {k for k in io if k[2]}):
        ws, owner, run_id = key
        job = JobRef(f"databricks://{ws}", names.get((ws, owner), owner))
        inputs, outputs, seen = io.get(key, ({}, {}, None))
        run = runs.get(key)
        start = run["start"] if run else seen
        facets = versions.at((ws, owner), start) if start is not None else {}
        source = run_source if run else label
        if run is None:
            if seen is not None:  # lineage rows without an event time say nothing of when
                yield source, None, _event("OTHER", seen, run_id, job, {}, facets, inputs, outputs, source), None
            continue
        yield source, None, _event("START", run["start"], run_id, job, {}, facets, {}, {}, source), None
        state = RESULT_STATES.get(run["result_state"] or "", "RUNNING" if run["result_state"] is None else "OTHER")
        run_facets: dict[str, Any] = {}
        if state in ("FAIL", "ABORT"):
            message = f"result_state {run['result_state']}" + (f", termination_code {run['termination_code']}" if run["termination_code"] else "")
            run_facets["errorMessage"] = {"message": message, "programmingLanguage": "unknown"}
        yield source, None, _event(state, run["end"], run_id, job, run_facets, facets, inputs, outputs, source), None
    for key, (inputs, outputs, seen) in sorted(io.items(), key=lambda kv: kv[0]):
        if not key[2] and seen is not None:  # lineage without a run: static lineage of the entity
            job = JobRef(f"databricks://{key[0]}", names.get((key[0], key[1]), key[1]))
            ins = tuple(_io_dataset(r, f) for r, f in inputs.items())
            outs = tuple(_io_dataset(r, f) for r, f in outputs.items())
            yield label, None, JobEvent(seen, job, {}, ins, outs, label, None), None


def _event(state: str, when: datetime, run_id: str, job: JobRef, run_facets: dict, job_facets: dict,
           inputs: dict, outputs: dict, source: str) -> RunEvent:  # fmt: skip
    return RunEvent(
        state,  # type: ignore[arg-type]
        when, run_id, job, run_facets, job_facets,
        tuple(_io_dataset(r, f) for r, f in inputs.items()),
        tuple(_io_dataset(r, f) for r, f in outputs.items()),
        PRODUCER, source, None,
    )


def _io_dataset(ref: DatasetRef, facets: dict[str, Any]) -> DatasetIO:
    return dataset_from_facets(ref, facets, full=False)


# --- normalising ----------------------------------------------------------------------------------
def _text(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, pl.String)


def _time(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name not in frame.columns:
        return pl.lit(None, pl.Datetime("us", "UTC"))
    dtype = frame.schema[name]
    value = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        value = value.dt.replace_time_zone("UTC") if dtype.time_zone is None else value.dt.convert_time_zone("UTC")
    elif dtype == pl.Date:
        value = value.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return value.cast(pl.Datetime("us", "UTC"))


def _field(frame: pl.DataFrame, *path: str) -> pl.Expr:
    """A nested struct field as text, or null when the export lacks it."""
    dtype: Any = frame.schema.get(path[0])
    expr = pl.col(path[0])
    for name in path[1:]:
        if not isinstance(dtype, pl.Struct) or name not in {f.name for f in dtype.fields}:
            return pl.lit(None, pl.String)
        dtype = dtype.to_schema()[name]
        expr = expr.struct.field(name)
    return expr.cast(pl.String)


def _entity(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    kind = pl.col("entity_type").cast(pl.String).str.to_uppercase() if "entity_type" in frame.columns else pl.lit(None, pl.String)
    job = pl.coalesce(_field(frame, "entity_metadata", "job_info", "job_id"), pl.when(kind == "JOB").then(_text(frame, "entity_id")))
    job_run = pl.coalesce(_field(frame, "entity_metadata", "job_info", "job_run_id"),
                          pl.when(kind == "JOB").then(_text(frame, "entity_run_id")))
    pipeline = pl.coalesce(_field(frame, "entity_metadata", "dlt_pipeline_info", "dlt_pipeline_id"),
                           pl.when(kind == "PIPELINE").then(_text(frame, "entity_id")))
    update = pl.coalesce(_field(frame, "entity_metadata", "dlt_pipeline_info", "dlt_update_id"),
                         pl.when(kind == "PIPELINE").then(_text(frame, "entity_run_id")))
    other = pl.when(kind.is_not_null()).then(kind.str.to_lowercase() + " " + _text(frame, "entity_id").fill_null("?"))
    return {
        "owner": pl.coalesce(job, pl.when(pipeline.is_not_null()).then("pipeline " + pipeline), other, pl.lit("unknown entity")),
        "run": pl.when(job.is_not_null()).then(job_run).otherwise(pl.when(pipeline.is_not_null()).then(update)).fill_null(""),
    }


def _lineage(found: SystemTables) -> pl.DataFrame:
    parts = []
    for kind in ("table_lineage", "column_lineage"):
        for _, frame in found.frames(kind):
            parts.append(frame.select(
                ws=_text(frame, "workspace_id").fill_null("default"), **_entity(frame), event_time=_time(frame, "event_time"),
                src=_text(frame, "source_table_full_name"), src_path=_text(frame, "source_path"),
                tgt=_text(frame, "target_table_full_name"), tgt_path=_text(frame, "target_path"),
                src_col=_text(frame, "source_column_name"), tgt_col=_text(frame, "target_column_name"),
            ))  # fmt: skip
    return pl.concat(parts) if parts else pl.DataFrame()


def _runs(found: SystemTables) -> tuple[dict[Key, dict[str, Any]], str, list[RawItem]]:
    frames = found.frames("job_run_timeline")
    if not frames:
        return {}, "", []
    rows = pl.concat([f.select(
        ws=_text(f, "workspace_id").fill_null("default"), job=_text(f, "job_id"), run=_text(f, "run_id"),
        start=_time(f, "period_start_time"), end=_time(f, "period_end_time"),
        result_state=_text(f, "result_state").str.strip_chars().str.to_uppercase(),
        termination_code=_text(f, "termination_code"), run_name=_text(f, "run_name"),
    ) for _, f in frames])  # fmt: skip
    runs = rows.sort("end").group_by("ws", "job", "run").agg(
        pl.col("start").min(), pl.col("end").max(), pl.col("result_state").drop_nulls().last(),
        pl.col("termination_code").drop_nulls().last(), pl.col("run_name").drop_nulls().last(),
    )
    source = str(frames[0][0])
    out: dict[Key, dict[str, Any]] = {}
    problems: list[RawItem] = []
    for row in runs.iter_rows(named=True):
        out[(row["ws"], row["job"], row["run"])] = row
        if row["result_state"] is not None and row["result_state"] not in RESULT_STATES:
            problems.append((source, None, None, f"run {row['run']}: result_state {row['result_state']!r} is not a "
                             "documented value; the run's outcome is read as unknown"))
    return out, source, problems


def _names(found: SystemTables, lineage: pl.DataFrame, runs: dict[Key, dict[str, Any]]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for row in sorted(runs.values(), key=lambda r: r["end"]):
        if row["run_name"]:
            names[(row["ws"], row["job"])] = row["run_name"]
    for _, frame in found.frames("jobs"):
        latest = frame.select(ws=_text(frame, "workspace_id").fill_null("default"), job=_text(frame, "job_id"),
                              name=_text(frame, "name"), at=_time(frame, "change_time")).drop_nulls("name").sort("at")
        names.update({(ws, job): name for ws, job, name, _ in latest.iter_rows()})
    owners = {(r["ws"], r["job"]) for r in runs.values()}
    if lineage.height:
        owners |= set(lineage.select("ws", "owner").unique().iter_rows())
    resolved = {key: names.get(key) or (f"job {key[1]}" if key[1].isdigit() else key[1]) for key in owners}
    taken: dict[tuple[str, str], int] = {}
    for (ws, _), name in resolved.items():
        taken[(ws, name)] = taken.get((ws, name), 0) + 1
    return {key: f"{name} [{key[1]}]" if taken[(key[0], name)] > 1 else name for key, name in resolved.items()}


def _io(lineage: pl.DataFrame) -> dict[Key, tuple[dict, dict, datetime | None]]:
    """Per (workspace, owner, run): inputs and outputs (ref -> facets) and the latest event time."""
    if not lineage.height:
        return {}
    paths = {
        name: path
        for side in (("src", "src_path"), ("tgt", "tgt_path"))
        for name, path in lineage.select(side).drop_nulls().unique().iter_rows()
    }
    out: dict[Key, tuple[dict, dict, datetime | None]] = {}
    latest = lineage.group_by("ws", "owner", "run").agg(pl.col("event_time").max())
    for ws, owner, run, at in latest.iter_rows():
        out[(ws, owner, run)] = ({}, {}, at)
    for row in lineage.drop("event_time").unique().iter_rows(named=True):
        inputs, outputs, _ = out[(row["ws"], row["owner"], row["run"])]
        source = _dataset(row["src"], row["src_path"] or paths.get(row["src"]))
        target = _dataset(row["tgt"], row["tgt_path"] or paths.get(row["tgt"]))
        if source is not None:
            inputs.setdefault(source[0], dict(source[1]))
        if target is not None:
            facets = outputs.setdefault(target[0], dict(target[1]))
            if source is not None and row["src_col"] and row["tgt_col"]:
                fields = facets.setdefault("columnLineage", {"fields": {}})["fields"]
                entry = {"namespace": source[0].namespace, "name": source[0].name, "field": row["src_col"]}
                listed = fields.setdefault(row["tgt_col"], {"inputFields": []})["inputFields"]
                if entry not in listed:
                    listed.append(entry)
    return out


def _dataset(full_name: str | None, path: str | None) -> tuple[DatasetRef, dict[str, Any]] | None:
    found = candidates(path) if path else []
    if found:
        facets = {"symlinks": {"identifiers": [{"namespace": UNITY_CATALOG, "name": full_name, "type": "TABLE"}]}}
        return found[0], facets if full_name else {}
    if full_name:
        return DatasetRef(UNITY_CATALOG, full_name), {}
    return (DatasetRef("file", path), {}) if path else None


# --- definitions ----------------------------------------------------------------------------------
class _Versions:
    """The jobs and job_tasks rows of each job, to answer "which version ran at this instant"."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], list[tuple[datetime, dict[str, Any]]]] = {}
        self.tasks: dict[tuple[str, str], list[tuple[datetime, datetime | None, str, str]]] = {}

    def at(self, key: tuple[str, str], moment: datetime) -> dict[str, Any]:
        rows = self.jobs.get(key, [])
        i = bisect_right([t for t, _ in rows], moment)
        if i == 0:
            return {}
        changed, settings = rows[i - 1]
        current: dict[str, tuple[datetime, datetime | None, str]] = {}
        for at, deleted, task, after in self.tasks.get(key, []):
            if at <= moment:
                current[task] = (at, deleted, after)
        live = {t: v for t, v in current.items() if v[1] is None or v[1] > moment}
        if live:
            settings = {**settings, "tasks": "; ".join(f"{t}{v[2]}" for t, v in sorted(live.items()))}
        version = max([changed, *(v[0] for v in live.values())])
        return {JOB_SETTINGS_FACET: {"settings": settings, "version": version.isoformat()}}


def _versions(found: SystemTables) -> _Versions:
    versions = _Versions()
    for _, frame in found.frames("jobs"):
        rows = frame.select(
            ws=_text(frame, "workspace_id").fill_null("default"), job=_text(frame, "job_id"), at=_time(frame, "change_time"),
            **{name: _setting(frame, name) for name in _SETTINGS},
        ).drop_nulls("at").sort("at")  # fmt: skip
        for row in rows.iter_rows(named=True):
            versions.jobs.setdefault((row["ws"], row["job"]), []).append((row["at"], {k: row[k] for k in _SETTINGS}))
    for _, frame in found.frames("job_tasks"):
        after = (
            pl.lit(" (after ") + pl.col("depends_on_keys").cast(pl.List(pl.String)).list.sort().list.join(", ") + pl.lit(")")
            if "depends_on_keys" in frame.columns else pl.lit("")
        )
        rows = frame.select(
            ws=_text(frame, "workspace_id").fill_null("default"), job=_text(frame, "job_id"), at=_time(frame, "change_time"),
            deleted=_time(frame, "delete_time"), task=_text(frame, "task_key"),
            after=pl.when(pl.col("depends_on_keys").list.len() > 0).then(after).otherwise(pl.lit(""))
            if "depends_on_keys" in frame.columns else after,
        ).drop_nulls("at").sort("at")  # fmt: skip
        for ws, job, at, deleted, task, deps in rows.iter_rows():
            versions.tasks.setdefault((ws, job), []).append((at, deleted, task, deps))
    return versions


def _setting(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A tracked column as text; ``tags`` (a map: key/value structs) as sorted ``key=value``."""
    if name not in frame.columns:
        return pl.lit(None, pl.String)
    dtype = frame.schema[name]
    column = pl.col(name)
    if type(dtype).__name__ == "Map":  # polars 2 reads a Delta map as Map; as key/value structs below
        dtype = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
        column = column.cast(dtype)
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        pairs = column.list.eval(
            pl.element().struct.field("key").cast(pl.String) + "=" + pl.element().struct.field("value").cast(pl.String)
        )
        return pairs.list.sort().list.join(", ")
    return pl.col(name).cast(pl.String)

