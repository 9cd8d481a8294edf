"""Tolerant parsing of one OpenLineage event (a decoded JSON object) into the model.

Facets are found by their key, never by ``_schemaURL`` (producers disagree on those URLs).
A fatal defect (no job, no run id, a bad timestamp, an unknown event type) raises
:class:`EventError`; a defect confined to one part (a dataset without a name, a malformed facet)
drops that part and is reported through ``problems``.

Run ids: a UUID is used as is. A test-matcher placeholder (``{{ any(result) }}``,
``${json-unit.any-string}``, as in the dbt and Spark expected-event fixtures) is kept and marked,
so the merger can tell such runs apart by job and time. Any other non-UUID id is an error.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mlobs_notebook.errors import InputError
from mlobs_notebook.lineage.model import (
    ColumnEdge,
    ColumnRef,
    DatasetEvent,
    DatasetIO,
    DatasetRef,
    Event,
    JobEvent,
    JobRef,
    Problem,
    RunEvent,
    SchemaField,
    make,
)
from mlobs_notebook.times import to_utc

EVENT_TYPES = frozenset({"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TRANSFORMS: dict[str, str] = {}  # interned: a few distinct strings repeated on every edge
_MAX_FIELD_DEPTH = 32  # nested schemas deeper than this are cut, never recursed without bound


class EventError(ValueError):
    """A defect that makes the whole event unusable."""


def is_placeholder(value: str) -> bool:
    return "{{" in value or "${" in value


def parse_time(value: Any, what: str = "eventTime") -> datetime:
    """The instant as an aware UTC datetime; a timestamp without offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{what} is missing or not a string")
    try:
        return to_utc(value, what)
    except InputError as exc:
        raise EventError(f"{what} {value!r} is not an ISO 8601 timestamp") from exc


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_schema(facet: Any, depth: int = 0) -> tuple[SchemaField, ...] | None:
    """The ``fields`` of a schema facet, nested ones included; None when there is none."""
    fields = _dict(facet).get("fields") if depth == 0 else facet
    if not isinstance(fields, list):
        return None
    out = []
    for item in fields:
        item = _dict(item)
        name = _str(item.get("name"))
        if name is None:
            continue
        nested = item.get("fields")
        children: tuple[SchemaField, ...] = ()
        if isinstance(nested, list) and nested and depth < _MAX_FIELD_DEPTH:
            children = parse_schema(nested, depth + 1) or ()
        out.append(SchemaField(name, _str(item.get("type")), _str(item.get("description")), children))
    return tuple(out)


def _transformations(entry: dict[str, Any], legacy_type: str | None) -> tuple[str, ...]:
    found = []
    for t in entry.get("transformations") or ():
        if not isinstance(t, dict):
            continue
        typ, sub = t.get("type"), t.get("subtype")
        kind = "/".join(x for x in (typ, sub) if isinstance(x, str) and x)
        if kind and t.get("masking") is True:
            kind += " (masking)"
        if kind:
            found.append(_TRANSFORMS.setdefault(kind, kind))
    if not found and legacy_type:
        found.append(legacy_type)
    return tuple(found)


def _input_field(entry: Any) -> ColumnRef | None:
    entry = _dict(entry)
    ns = _str(entry.get("namespace"))
    name = _str(entry.get("name")) or _str(entry.get("dataset"))  # Marquez spells it "dataset"
    fld = _str(entry.get("field"))
    if ns is None or name is None or fld is None:
        return None
    return ColumnRef(DatasetRef(ns, name), fld)


def parse_column_lineage(facet: Any, target: DatasetRef) -> tuple[ColumnEdge, ...]:
    """Both forms: current (``inputFields`` with ``transformations``, plus the ``dataset``
    array of fields that affect every output column) and deprecated (``transformationType``
    and ``transformationDescription`` per output field)."""
    facet = _dict(facet)
    edges: list[ColumnEdge] = []
    for out_field, spec in _dict(facet.get("fields")).items():
        spec = _dict(spec)
        legacy = _str(spec.get("transformationType"))
        for entry in spec.get("inputFields") or ():
            src = _input_field(entry)
            if src is not None:
                edges.append(ColumnEdge(src, target, out_field, _transformations(_dict(entry), legacy)))
    for entry in facet.get("dataset") or ():
        src = _input_field(entry)
        if src is not None:
            edges.append(ColumnEdge(src, target, None, _transformations(_dict(entry), None)))
    return tuple(edges)


def parse_dataset(
    obj: Any, problems: list[Problem], source: str, line: int | None, *, full: bool = True
) -> DatasetIO | None:
    """A dataset of an event. ``full=False`` reads only what identity needs (facets, symlinks,
    lifecycle); the merger derives the rest once per run with :func:`dataset_from_facets`."""
    obj = obj if isinstance(obj, dict) else {}
    ns, name = obj.get("namespace"), obj.get("name")
    if not (isinstance(ns, str) and ns and isinstance(name, str) and name):
        problems.append(Problem(source, line, "dataset without namespace or name skipped"))
        return None
    facets: dict[str, Any] = {}
    # inputFacets/outputFacets hold statistics; merged with facets by key, later keys win.
    for key in ("facets", "inputFacets", "outputFacets"):
        part = obj.get(key)
        if part and isinstance(part, dict):
            facets.update(part)
    return dataset_from_facets(DatasetRef(ns, name), facets, full=full)


def dataset_from_facets(
    ref: DatasetRef, facets: dict[str, Any], *, full: bool = True, canon: Any = None, memo: dict | None = None
) -> DatasetIO:
    """``memo`` (one per load) reuses the parsed schema and column lineage when a dataset's facet
    equals the one seen last for it: runs of a job repeat them, and dict equality is cheap."""
    if not facets:
        return make(DatasetIO, ref=canon(ref) if canon is not None else ref, facets=facets)
    symlinks = []
    if "symlinks" in facets:
        for ident in _dict(facets["symlinks"]).get("identifiers") or ():
            ident = _dict(ident)
            s_ns, s_name = _str(ident.get("namespace")), _str(ident.get("name"))
            if s_ns and s_name:
                symlinks.append(DatasetRef(s_ns, s_name))
    lifecycle = None
    if "lifecycleStateChange" in facets:
        lifecycle = _str(_dict(facets["lifecycleStateChange"]).get("lifecycleStateChange"))
    if not full:
        return make(DatasetIO, ref=ref, facets=facets, symlinks=tuple(symlinks),
                    lifecycle=lifecycle.upper() if lifecycle else None)  # fmt: skip
    stats = _dict(facets.get("outputStatistics")) or _dict(facets.get("stats"))
    edges: tuple[ColumnEdge, ...] = ()
    if "columnLineage" in facets:
        raw = facets["columnLineage"]
        hit = memo.get((ref, "columnLineage")) if memo is not None else None
        if hit is not None and hit[0] == raw:
            edges = hit[1]
        else:
            edges = parse_column_lineage(raw, ref)
            if canon is not None:
                edges = tuple(
                    ColumnEdge(ColumnRef(canon(e.source.dataset), e.source.field), canon(ref), e.target_field, e.transformations)
                    for e in edges
                )
            if memo is not None:
                memo[(ref, "columnLineage")] = (raw, edges)
    schema = None
    if "schema" in facets:
        raw = facets["schema"]
        hit = memo.get((ref, "schema")) if memo is not None else None
        if hit is not None and hit[0] == raw:
            schema = hit[1]
        else:
            schema = parse_schema(raw)
            if memo is not None:
                memo[(ref, "schema")] = (raw, schema)
    return make(
        DatasetIO,
        ref=canon(ref) if canon is not None else ref,
        facets=facets,
        schema=schema,
        symlinks=tuple(symlinks),
        lifecycle=lifecycle.upper() if lifecycle else None,
        row_count=_int(stats.get("rowCount")),
        size_bytes=_int(stats.get("size")),
        version=_str(_dict(facets.get("version")).get("datasetVersion")) if "version" in facets else None,
        column_edges=edges,
    )


def _datasets(
    value: Any, problems: list[Problem], source: str, line: int | None, full: bool = False
) -> tuple[DatasetIO, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(Problem(source, line, "inputs/outputs is not a list; ignored"))
        return ()
    parsed = (parse_dataset(d, problems, source, line, full=full) for d in value)
    return tuple(d for d in parsed if d is not None)


def _job(obj: dict[str, Any]) -> JobRef:
    job = obj.get("job")
    if not isinstance(job, dict):
        raise EventError("event has no job object")
    ns, name = _str(job.get("namespace")), _str(job.get("name"))
    if ns is None or name is None:
        raise EventError("job has no namespace or name")
    return JobRef(ns, name)


def parse_event(obj: Any, *, source: str, line: int | None, problems: list[Problem]) -> Event:
    """One decoded JSON object -> RunEvent, DatasetEvent or JobEvent, or EventError."""
    if not isinstance(obj, dict):
        raise EventError(f"expected a JSON object, got {type(obj).__name__}")
    if not {"eventTime", "job", "run", "dataset"} & obj.keys():
        keys = ", ".join(sorted(obj)[:5]) or "none"
        raise EventError(f"not an OpenLineage event (no eventTime, job, run or dataset; keys: {keys})")
    event_time = parse_time(obj.get("eventTime"))
    has_run = "run" in obj
    if not has_run and "job" not in obj and isinstance(obj.get("dataset"), dict):
        dataset = parse_dataset(obj["dataset"], problems, source, line, full=True)
        if dataset is None:
            raise EventError("DatasetEvent without a dataset namespace or name")
        return DatasetEvent(event_time, dataset, source, line)
    schema_url = _str(obj.get("schemaURL")) or ""
    if not has_run and ("eventType" not in obj or schema_url.endswith("JobEvent")):
        return JobEvent(
            event_time,
            _job(obj),
            _dict(_dict(obj.get("job")).get("facets")),
            _datasets(obj.get("inputs"), problems, source, line, full=True),
            _datasets(obj.get("outputs"), problems, source, line, full=True),
            source,
            line,
        )
    job = _job(obj)
    run = obj.get("run")
    if not isinstance(run, dict):
        raise EventError("RunEvent has no run object (run.runId is required)")
    run_id = run.get("runId")
    if not isinstance(run_id, str) or not run_id.strip():
        raise EventError("RunEvent has no run.runId")
    placeholder = False
    if not _UUID.match(run_id):
        if not is_placeholder(run_id):
            raise EventError(f"run.runId {run_id!r} is not a UUID")
        placeholder = True
    event_type = obj.get("eventType", "OTHER")
    if not isinstance(event_type, str) or event_type.upper() not in EVENT_TYPES:
        raise EventError(f"unknown eventType {event_type!r}")
    return make(
        RunEvent,
        event_type=event_type.upper(),
        event_time=event_time,
        run_id=run_id.lower() if not placeholder else run_id,
        job=job,
        run_facets=_dict(run.get("facets")),
        job_facets=_dict(_dict(obj.get("job")).get("facets")),
        inputs=_datasets(obj.get("inputs"), problems, source, line),
        outputs=_datasets(obj.get("outputs"), problems, source, line),
        producer=_str(obj.get("producer")),
        source=source,
        line=line,
        run_id_is_placeholder=placeholder,
    )
