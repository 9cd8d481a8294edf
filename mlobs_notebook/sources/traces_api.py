"""Read traces through MLflow's public API, page by page: works on any store (a ``mlflow server``,
Databricks, a file or SQL store) and for traces whose spans live in the artifact store.

``MlflowClient.search_traces`` with ``include_spans=True`` returns each page's traces with their
spans and assessments; the time range and the LoggedModel become its ``filter_string``
(``trace.timestamp_ms``, ``request_metadata.`mlflow.modelId```), the run its ``run_id`` (which
also matches traces linked with ``link_traces_to_run``). See
https://mlflow.org/docs/latest/genai/tracing/search-traces/ .
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from mlobs_notebook.sources.trace_rows import SPAN_SCHEMA, RawTrace, attribute_series, span_row
from mlobs_notebook.sources.trace_scope import SpanAttribute, TraceScope

__all__ = ["PAGE_SIZE", "filter_string", "read_api"]

PAGE_SIZE = 1000


def filter_string(scope: TraceScope) -> str | None:
    """The ``search_traces`` filter for the scope's time range and LoggedModel."""
    parts = []
    if scope.model_id is not None:
        parts.append(f"request_metadata.`mlflow.modelId` = '{scope.model_id}'")
    if scope.start_ms is not None:
        parts.append(f"trace.timestamp_ms >= {scope.start_ms}")
    if scope.end_ms is not None:
        parts.append(f"trace.timestamp_ms <= {scope.end_ms}")
    return " AND ".join(parts) or None


def pages(client: Any, scope: TraceScope, page_size: int = PAGE_SIZE) -> Iterator[list[Any]]:
    """Each page of ``Trace`` objects, oldest first."""
    token = None
    while True:
        page = client.search_traces(
            locations=[scope.experiment_id], filter_string=filter_string(scope), max_results=page_size,
            order_by=["timestamp_ms ASC"], page_token=token, include_spans=True, run_id=scope.run_id,
        )
        yield list(page)
        token = page.token
        if not token:
            return


def read_api(
    client: Any, scope: TraceScope, attributes: Sequence[SpanAttribute], page_size: int = PAGE_SIZE
) -> tuple[list[RawTrace], pl.DataFrame, dict[str, pl.Series], list[tuple[Any, ...]]]:
    """(traces, spans, named attributes, valid feedback rows) of ``scope``, as :mod:`traces_sql` gives them."""
    traces: list[RawTrace] = []
    spans: list[tuple[Any, ...]] = []
    named: list[list[Any]] = [[] for _ in attributes]
    feedback: list[tuple[Any, ...]] = []
    for page in pages(client, scope, page_size):
        for trace in page:
            info = trace.info
            usage = info.token_usage or {}
            metadata = info.trace_metadata or {}
            traces.append(RawTrace(
                info.trace_id, int(info.request_time), info.execution_duration, _state(info.state),
                metadata.get("mlflow.modelId"), metadata.get("mlflow.sourceRun"),
                usage.get("input_tokens"), usage.get("output_tokens"),
            ))
            for span in trace.data.spans:
                spans.append(_span(info.trace_id, span))
                for values, a in zip(named, attributes, strict=True):
                    values.append(span.get_attribute(a.key) if a.matches(span.name, span.span_type) else None)
            for a in info.assessments or ():
                if a.feedback is not None and a.valid is not False:
                    feedback.append((info.trace_id, a.assessment_id, a.name, a.feedback.value,
                                     _source(a, "source_type"), _source(a, "source_id"), a.last_update_time_ms))
    frame = pl.DataFrame(spans, schema=SPAN_SCHEMA, orient="row")
    return traces, frame, {a.column: attribute_series(a.column, v) for a, v in zip(attributes, named, strict=True)}, feedback


def _state(state: Any) -> str:
    return str(getattr(state, "value", state))


def _source(assessment: Any, field: str) -> str | None:
    value = getattr(assessment.source, field, None) if assessment.source is not None else None
    return None if value is None else str(getattr(value, "value", value))


def _span(trace_id: str, span: Any) -> tuple[Any, ...]:
    root, kind = span.parent_id is None, span.span_type
    get = span.get_attribute
    return span_row(
        trace_id, span.name, kind, int(span.start_time_ns), None if span.end_time_ns is None else int(span.end_time_ns),
        root, get("mlflow.spanInputs") if root else None,
        get("mlflow.spanOutputs") if root or kind == "RETRIEVER" else None,
        get("mlflow.llm.model") if kind in ("LLM", "CHAT_MODEL") else None,
        get("gen_ai.data_source.id") if kind == "RETRIEVER" else None,
    )
