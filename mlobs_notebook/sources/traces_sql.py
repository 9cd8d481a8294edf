"""Read traces straight from a local sqlite MLflow store's tables: the fast path.

MLflow's API turns every trace into ``Trace`` and ``Span`` objects (about 1 ms a trace: 90 s
and more for 100,000 traces); three read-only queries over the same tables take seconds. The
tables are MLflow's internal schema (``mlflow/store/tracking/dbmodels/models.py``), so the
reader checks every table and column it reads before it trusts them, and says why it cannot
when it cannot (an older or newer schema, traces whose spans live in the artifact store): the
caller then reads through the API. The connection is opened read-only (``mode=ro``).

Span attributes are stored JSON-encoded inside each span's JSON ``content``; SQLite's
``json_extract`` takes the ones a feature needs, one parse per span, they are decoded here as
MLflow's ``Span.get_attribute`` decodes them, and each span's figures come from
:func:`~mlobs_notebook.sources.trace_rows.span_row`, as on the API path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import polars as pl

from mlobs_notebook.sources.trace_rows import SPAN_SCHEMA, RawTrace, attribute_series, span_row
from mlobs_notebook.sources.trace_scope import SpanAttribute, TraceScope

__all__ = ["REQUIRED_COLUMNS", "read_sql", "sqlite_file", "unreadable"]

REQUIRED_COLUMNS = {
    "trace_info": {"request_id", "experiment_id", "timestamp_ms", "execution_time_ms", "status",
                   "input_tokens", "output_tokens"},
    "trace_request_metadata": {"request_id", "key", "value"},
    "trace_tags": {"request_id", "key", "value"},
    "spans": {"trace_id", "parent_span_id", "name", "type", "start_time_unix_nano", "end_time_unix_nano", "content"},
    "assessments": {"assessment_id", "trace_id", "name", "assessment_type", "value", "valid", "source_type",
                    "source_id", "last_updated_timestamp"},
    "entity_associations": {"source_type", "source_id", "destination_type", "destination_id"},
}
SPANS_IN_STORE = "TRACKING_STORE"  # trace tag mlflow.trace.spansLocation: spans are rows of `spans`
_ABSENT = "$.__mlobs_absent__"  # a path no span has: keeps the extracted array's layout fixed


def sqlite_file(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` tracking URI, or None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    path = Path(unquote(uri[len("sqlite:///"):].split("?", 1)[0]))
    return path if str(path) != ":memory:" and path.is_file() else None


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)


def unreadable(path: Path, scope: TraceScope) -> str | None:
    """Why this store's tables cannot be read directly for ``scope``, or None when they can."""
    try:
        with _connect(path) as con:
            for table, needed in REQUIRED_COLUMNS.items():
                have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
                if not have:
                    return f"the store has no {table} table (an MLflow schema this reader does not know)"
                if needed - have:
                    return f"the store's {table} table lacks {', '.join(sorted(needed - have))}"
            where, params = _scope_sql(scope)
            outside = con.execute(
                f"SELECT COUNT(*) FROM trace_info ti WHERE {where} AND NOT EXISTS (SELECT 1 FROM trace_tags g "
                "WHERE g.request_id = ti.request_id AND g.key = 'mlflow.trace.spansLocation' AND g.value = ?)",
                [*params, SPANS_IN_STORE],
            ).fetchone()[0]
    except sqlite3.Error as exc:
        return f"the store could not be read directly ({exc})"
    if outside:
        return f"{outside} trace(s) keep their spans in the artifact store, not in the spans table"
    return None


def _scope_sql(scope: TraceScope) -> tuple[str, list[Any]]:
    where: list[str] = ["ti.experiment_id = ?"]
    params: list[Any] = [int(scope.experiment_id)]
    if scope.start_ms is not None:
        where.append("ti.timestamp_ms >= ?")
        params.append(scope.start_ms)
    if scope.end_ms is not None:
        where.append("ti.timestamp_ms <= ?")
        params.append(scope.end_ms)
    if scope.model_id is not None:
        where.append("EXISTS (SELECT 1 FROM trace_request_metadata m WHERE m.request_id = ti.request_id "
                     "AND m.key = 'mlflow.modelId' AND m.value = ?)")
        params.append(scope.model_id)
    if scope.run_id is not None:
        # what MLflow's own search does for run_id: the trace's source run, or a link to the run
        where.append("(EXISTS (SELECT 1 FROM trace_request_metadata m WHERE m.request_id = ti.request_id "
                     "AND m.key = 'mlflow.sourceRun' AND m.value = ?) OR EXISTS (SELECT 1 FROM entity_associations e "
                     "WHERE e.source_id = ti.request_id AND e.source_type = 'trace' AND e.destination_type = 'run' "
                     "AND e.destination_id = ?))")
        params += [scope.run_id, scope.run_id]
    return " AND ".join(where), params


def _path(key: str) -> str:
    return f'$.attributes."{key}"'


def _decode(text: Any) -> Any:
    """An attribute as MLflow stores it (a JSON document in a string) -> its value."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def read_sql(
    path: Path, scope: TraceScope, attributes: Sequence[SpanAttribute]
) -> tuple[list[RawTrace], pl.DataFrame, dict[str, pl.Series], list[tuple[Any, ...]]]:
    """(traces, spans as SPAN_SCHEMA, each named attribute's values aligned with the spans, valid
    feedback rows) of ``scope``; call :func:`unreadable` first."""
    where, params = _scope_sql(scope)
    inputs, outputs, model, source = (_path(k) for k in ("mlflow.spanInputs", "mlflow.spanOutputs",
                                                          "mlflow.llm.model", "gen_ai.data_source.id"))
    # one json_extract (one parse of the span's JSON) per span, with only what its kind needs
    attrs = (
        f"CASE WHEN s.parent_span_id IS NULL THEN json_extract(s.content, '{inputs}', '{outputs}', '{model}', '{source}') "
        f"WHEN s.type = 'RETRIEVER' THEN json_extract(s.content, '{_ABSENT}', '{outputs}', '{_ABSENT}', '{source}') "
        f"WHEN s.type IN ('LLM', 'CHAT_MODEL') THEN json_extract(s.content, '{_ABSENT}', '{_ABSENT}', '{model}', '{_ABSENT}') END"
    )
    named, named_params = [], []
    for a in attributes:
        if a.span is None:
            named.append(f"json_extract(s.content, '{_path(a.key)}')")
        else:
            named.append(f"CASE WHEN s.name = ? OR s.type = ? THEN json_extract(s.content, '{_path(a.key)}') END")
            named_params += [a.span, a.span]
    columns = ", ".join(["s.trace_id", "s.name", "s.type", "s.start_time_unix_nano", "s.end_time_unix_nano",
                         "s.parent_span_id IS NULL", attrs, *named])
    with _connect(path) as con:
        traces = [
            RawTrace(*row) for row in con.execute(
                "SELECT ti.request_id, ti.timestamp_ms, ti.execution_time_ms, ti.status, "
                "(SELECT m.value FROM trace_request_metadata m WHERE m.request_id = ti.request_id AND m.key = 'mlflow.modelId'), "
                "(SELECT m.value FROM trace_request_metadata m WHERE m.request_id = ti.request_id AND m.key = 'mlflow.sourceRun'), "
                f"ti.input_tokens, ti.output_tokens FROM trace_info ti WHERE {where}", params)
        ]
        rows = con.execute(
            f"SELECT {columns} FROM spans s WHERE s.trace_id IN (SELECT ti.request_id FROM trace_info ti WHERE {where})",
            [*named_params, *params],
        ).fetchall()
        feedback = [
            (t, a, n, _decode(v), st, si, u) for t, a, n, v, st, si, u in con.execute(
                "SELECT a.trace_id, a.assessment_id, a.name, a.value, a.source_type, a.source_id, a.last_updated_timestamp "
                f"FROM assessments a WHERE a.assessment_type = 'feedback' AND a.valid "
                f"AND a.trace_id IN (SELECT ti.request_id FROM trace_info ti WHERE {where})", params)
        ]
    spans = pl.DataFrame([_span(*r[:7]) for r in rows], schema=SPAN_SCHEMA, orient="row")
    values = {a.column: attribute_series(a.column, [_decode(r[7 + i]) for r in rows])
              for i, a in enumerate(attributes)}
    return traces, spans, values, feedback


def _span(trace_id: str, name: str, kind: str | None, start: int, end: int | None, root: int, attrs: str | None) -> tuple[Any, ...]:
    """A row's span figures; ``attrs`` is the JSON array of the four attributes, each still a JSON string."""
    inputs = outputs = model = source = None
    if attrs is not None:
        inputs, outputs, model, source = [None if v is None else _decode(v) for v in orjson.loads(attrs)]
    return span_row(trace_id, name, kind, int(start), None if end is None else int(end), bool(root),
                    inputs, outputs, model, source)
