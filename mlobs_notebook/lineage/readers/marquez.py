"""Translate a Marquez lineage API response (``GET /api/v1/lineage?nodeId=...``) into
OpenLineage-shaped event dicts, so one parser and one merger serve both.

A response is ``{"graph": [node, ...]}``; a node is ``{"id", "type", "data", "inEdges",
"outEdges"}`` with type ``DATASET``, ``JOB`` or ``DATASET_FIELD`` (the column-lineage endpoint).
A job with a ``latestRun`` becomes a run event of that run; a job without one a JobEvent (static
lineage); a dataset a DatasetEvent carrying its schema; a dataset field a DatasetEvent carrying a
``columnLineage`` facet. Node ids (``dataset:<namespace>:<name>``) are only split when the node's
``data`` does not name it, and then on the last colon, since namespaces hold ``host:port``.
"""

from __future__ import annotations

from typing import Any

from mlobs_notebook.times import from_epoch_ms

_STATES = {"COMPLETED": "COMPLETE", "FAILED": "FAIL", "ABORTED": "ABORT", "RUNNING": "RUNNING", "NEW": "START"}
_EPOCH = "1970-01-01T00:00:00+00:00"


def is_marquez_response(obj: Any) -> bool:
    if isinstance(obj, dict) and isinstance(obj.get("graph"), list):
        return True
    return isinstance(obj, dict) and {"id", "type", "data"} <= obj.keys() and "eventTime" not in obj


def _time(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        moment = from_epoch_ms(float(value) * 1000)
        return moment.isoformat() if moment is not None else _EPOCH
    return value if isinstance(value, str) and value else _EPOCH


def _split_id(node_id: str, kind: str) -> dict[str, str] | None:
    prefix = f"{kind}:"
    if not node_id.startswith(prefix) or ":" not in node_id[len(prefix) :]:
        return None
    ns, name = node_id[len(prefix) :].rsplit(":", 1)
    return {"namespace": ns, "name": name}


def _ident(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("namespace"), str) and isinstance(value.get("name"), str):
        return {"namespace": value["namespace"], "name": value["name"]}
    return None


def marquez_to_events(obj: Any) -> list[dict[str, Any]]:
    nodes = obj["graph"] if isinstance(obj, dict) and "graph" in obj else obj
    if isinstance(nodes, dict):
        nodes = [nodes]
    events: list[dict[str, Any]] = []
    for node in nodes if isinstance(nodes, list) else ():
        if not isinstance(node, dict):
            events.append({"_invalid": "Marquez node is not an object"})
            continue
        kind = node.get("type")
        raw_data, raw_id = node.get("data"), node.get("id")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        node_id: str = raw_id if isinstance(raw_id, str) else ""
        if kind == "DATASET":
            events.append(_dataset_event(node_id, data))
        elif kind == "JOB":
            events.append(_job_event(node, node_id, data))
        elif kind == "DATASET_FIELD":
            events.append(_field_event(node_id, data))
        else:
            events.append({"_invalid": f"Marquez node {node_id!r} has unknown type {kind!r}"})
    return events


def _dataset_event(node_id: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _ident(data.get("id")) or _ident(data) or _split_id(node_id, "dataset") or {}
    fields = [
        {"name": f["name"], "type": f.get("type"), "description": f.get("description")}
        for f in data.get("fields") or ()
        if isinstance(f, dict) and isinstance(f.get("name"), str)
    ]
    facets = {"schema": {"fields": fields}} if fields else {}
    return {"eventTime": _time(data.get("updatedAt") or data.get("createdAt")), "dataset": {**ident, "facets": facets}}


def _edge_datasets(edges: Any, end: str) -> list[dict[str, str]]:
    out = []
    for e in edges or ():
        if isinstance(e, dict) and isinstance(e.get(end), str):
            ident = _split_id(e[end], "dataset")
            if ident:
                out.append(ident)
    return out


def _job_event(node: dict[str, Any], node_id: str, data: dict[str, Any]) -> dict[str, Any]:
    job = _ident(data.get("id")) or _ident(data) or _split_id(node_id, "job") or {}
    inputs = [i for i in map(_ident, data.get("inputs") or ()) if i] or _edge_datasets(node.get("inEdges"), "origin")
    outputs = [o for o in map(_ident, data.get("outputs") or ()) if o] or _edge_datasets(
        node.get("outEdges"), "destination"
    )
    run = data.get("latestRun") if isinstance(data.get("latestRun"), dict) else None
    if run and isinstance(run.get("id"), str):
        when = run.get("endedAt") or run.get("updatedAt") or run.get("startedAt") or data.get("updatedAt")
        return {
            "eventType": _STATES.get(str(run.get("state", "")).upper(), "OTHER"),
            "eventTime": _time(when),
            "run": {"runId": run["id"], "facets": {}},
            "job": {**job, "facets": {}},
            "inputs": inputs,
            "outputs": outputs,
        }
    return {"eventTime": _time(data.get("updatedAt") or data.get("createdAt")), "job": job, "inputs": inputs, "outputs": outputs}


def _field_event(node_id: str, data: dict[str, Any]) -> dict[str, Any]:
    ns, ds, fld = data.get("namespace"), data.get("dataset"), data.get("field")
    if not (isinstance(ns, str) and isinstance(ds, str) and isinstance(fld, str)) and node_id.startswith("datasetField:"):
        parts = node_id[len("datasetField:") :].rsplit(":", 2)
        if len(parts) == 3:
            ns, ds, fld = parts
    lineage = {
        "fields": {
            fld: {
                "inputFields": [f for f in data.get("inputFields") or () if isinstance(f, dict)],
                "transformationType": data.get("transformationType"),
                "transformationDescription": data.get("transformationDescription"),
            }
        }
    }
    return {"eventTime": _EPOCH, "dataset": {"namespace": ns, "name": ds, "facets": {"columnLineage": lineage}}}
