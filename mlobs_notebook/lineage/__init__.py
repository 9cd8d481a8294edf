"""OpenLineage events into a navigable graph that answers "which run changed this feature?".

``load_lineage(source)`` reads events (JSON Lines, a folder, a saved or live Marquez lineage
response, or dicts), keeps what it cannot use as ``problems``, and returns a
:class:`LineageGraph` with ``upstream`` and ``changes`` queries.

Modules, in the order data flows: ``readers/`` (``files``: JSON Lines, JSON, folders and URLs, the
only I/O; ``openlineage``: one event parsed tolerantly; ``marquez``: API responses as events),
``merge`` (events merged into runs, jobs and datasets), ``index`` (the graph over them), ``queries``
(upstream, downstream, changes), ``naming`` (matching URIs to datasets), ``graph`` (the
LineageGraph facade); ``model`` holds the records.
"""

from __future__ import annotations

from typing import Any

from mlobs_notebook.lineage.changes import Change, changes_to_polars
from mlobs_notebook.lineage.graph import LineageGraph, build_lineage
from mlobs_notebook.lineage.model import (
    ColumnEdge,
    ColumnRef,
    Dataset,
    DatasetRef,
    DatasetVersion,
    Edge,
    Job,
    JobDefinition,
    JobRef,
    Node,
    Problem,
    Run,
    RunLink,
    SchemaField,
    Upstream,
    node_id,
)

__all__ = [
    "Change",
    "ColumnEdge",
    "ColumnRef",
    "Dataset",
    "DatasetRef",
    "DatasetVersion",
    "Edge",
    "Job",
    "JobDefinition",
    "JobRef",
    "LineageGraph",
    "Node",
    "Problem",
    "Run",
    "RunLink",
    "SchemaField",
    "Upstream",
    "build_lineage",
    "changes_to_polars",
    "load_lineage",
    "match_mlflow_source",
    "node_id",
]


def match_mlflow_source(graph: LineageGraph, source: Any) -> DatasetRef | None:
    """The dataset an MLflow dataset source (object, dict or stored JSON) names in ``graph``, or None."""
    return graph.match_mlflow_source(source)


def load_lineage(source: Any, *, strict: bool = False, timeout: float = 10) -> LineageGraph:
    """Read OpenLineage events into a LineageGraph.

    ``source``: a JSON Lines file, a JSON file (one event, an array, or a saved Marquez lineage
    response), a folder of such files, a live ``http(s)://.../api/v1/lineage?nodeId=...`` URL
    (answered within ``timeout`` seconds or SourceUnreadable), or an iterable of event dicts.
    Unusable input is skipped and listed in ``.problems`` as (source, line, reason);
    ``strict=True`` raises LineageParseError on the first one instead.
    """
    from mlobs_notebook.lineage.readers.files import iter_source

    return build_lineage(iter_source(source, timeout=timeout), strict=strict)
