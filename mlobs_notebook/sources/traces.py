"""An LLM app's MLflow traces as one row per trace: the features a GenAI investigation compares.

:func:`read_traces` reads the traces of an experiment, a run or a LoggedModel (optionally within a
time range) through one of two paths that give the same frame: MLflow's public API
(``MlflowClient.search_traces``, paged; any store) or, for a local sqlite store whose schema it
recognises, read-only SQL over the store's tables (seconds instead of minutes for 100,000
traces). ``method="auto"`` takes SQL when it can and says in ``notes`` why it could not.

The features (``features`` frame; the role says which part of the app a feature describes, and
so which change can explain its drift):

======================== ============================================================ =========
column                   definition                                                   role
======================== ============================================================ =========
``request_time``         when the trace started (aware UTC)                           time
``request_length``       characters of text in the root span's inputs                 input
``documents_retrieved``  documents in the outputs of the RETRIEVER spans (MLflow's    retrieval
                         ``Document`` convention), summed over them
``retrieval_top_score``  the largest ``metadata.score`` of those documents            retrieval
``retrieval_mean_score`` their mean ``metadata.score``                                retrieval
``context_length``       characters of their ``page_content``                         retrieval
``prompt_tokens``        the trace's input tokens (MLflow's sum of the spans'         app
                         ``mlflow.chat.tokenUsage``)
``completion_tokens``    its output tokens                                            app
``latency_ms``           the trace's duration, milliseconds                           app
``latency_ms.<span>``    the summed duration of the spans of that name                app
``tool_calls``           TOOL spans                                                   app
``spans``                spans in the trace                                           app
``model_name``           ``mlflow.llm.model`` of the first LLM or CHAT_MODEL span     app
``response_length``      characters of text in the root span's outputs                app
``error``                the trace ended in ERROR                                     app
``<key>``                a span attribute the user names (``SPAN:KEY``)               input
======================== ============================================================ =========

Beside them: ``trace_id``, ``state``, ``model_id`` (the LoggedModel, trace metadata
``mlflow.modelId``), ``source_run`` (``mlflow.sourceRun``) and ``data_source`` (the first RETRIEVER
span's ``gen_ai.data_source.id``, OpenTelemetry's GenAI name for the index it searched).
``assessments`` holds every valid feedback (``mlflow.log_feedback``, ``mlflow.genai.evaluate``
scorers), one row each, its value made numeric (see :func:`~mlobs_notebook.sources.trace_rows.numeric_value`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from mlobs_notebook.errors import InputError, NoTraces
from mlobs_notebook.sources.mlflow_access import connect, mlflow_errors
from mlobs_notebook.sources.trace_rows import assessment_frame, choose_span_names, feature_frame
from mlobs_notebook.sources.trace_scope import SpanAttribute, TraceScope, resolve_scope

__all__ = ["FEATURE_ROLES", "NOT_FEATURES", "TraceData", "read_traces"]

FEATURE_ROLES = {
    "request_length": "input",
    "documents_retrieved": "retrieval", "retrieval_top_score": "retrieval",
    "retrieval_mean_score": "retrieval", "context_length": "retrieval",
    "prompt_tokens": "app", "completion_tokens": "app", "latency_ms": "app", "tool_calls": "app",
    "spans": "app", "model_name": "app", "response_length": "app", "error": "app",
}
NOT_FEATURES = ("trace_id", "request_time", "state", "model_id", "source_run", "data_source")
METHODS = ("auto", "sql", "api")


@dataclass(frozen=True)
class TraceData:
    """Traces read for ``scope``: ``features`` (one row per trace, oldest first), ``assessments``
    (one row per valid feedback), the ``method`` that read them (``sql`` or ``api``), the named
    ``attributes`` and ``span_names`` with a latency column, and ``notes``."""

    scope: TraceScope
    features: pl.DataFrame
    assessments: pl.DataFrame
    method: str
    attributes: tuple[SpanAttribute, ...] = ()
    span_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.features.height

    @property
    def roles(self) -> dict[str, str]:
        """Feature column -> role (input, retrieval, app), for the columns this frame holds."""
        roles = {c: r for c, r in FEATURE_ROLES.items() if c in self.features.columns}
        roles |= {c: "app" for c in self.features.columns if c.startswith("latency_ms.")}
        roles |= {a.column: "input" for a in self.attributes if a.column in self.features.columns}
        return roles

    def where(self, mask: pl.Expr) -> TraceData:
        """The traces matching ``mask`` (an expression over ``features``), with their assessments."""
        features = self.features.filter(mask)
        assessments = self.assessments.filter(pl.col("trace_id").is_in(features["trace_id"].implode()))
        return replace(self, features=features, assessments=assessments)


def read_traces(
    source: str | TraceScope,
    *,
    tracking_uri: str | None = None,
    start: Any = None,
    end: Any = None,
    span_attributes: Sequence[str | SpanAttribute] = (),
    span_names: Sequence[str] | None = None,
    method: str = "auto",
    page_size: int = 1000,
) -> TraceData:
    """The traces of ``source`` (an experiment name or id, a run id, ``models:/m-...``, or a
    :class:`TraceScope`) started in ``[start, end]``, as :class:`TraceData`.

    ``span_attributes`` names further features (``SPAN:KEY`` or ``KEY``); one that no span holds
    is left out with a note. ``span_names`` fixes which spans get a latency column (default: the
    names in at least 5% of the traces, at most 12). ``method``: ``auto``, ``sql`` or ``api``.
    Raises :class:`~mlobs_notebook.errors.NoTraces` naming the scope when it holds no trace.
    """
    from mlobs_notebook.sources.traces_api import read_api
    from mlobs_notebook.sources.traces_sql import read_sql, sqlite_file, unreadable

    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    attributes = tuple(SpanAttribute.parse(a) for a in span_attributes)
    columns = [a.column for a in attributes]
    taken = [c for c in columns if columns.count(c) > 1 or c in (*FEATURE_ROLES, *NOT_FEATURES) or c.startswith("latency_ms.")]
    if taken:
        raise InputError(f"span attribute(s) {', '.join(sorted(set(taken)))} would name a column twice or take a "
                         "feature's name: name one attribute per key, other than the built-in features")
    client, uri = connect(tracking_uri if not isinstance(source, TraceScope) else source.tracking_uri)
    notes: list[str] = []
    with mlflow_errors(uri):
        scope = source if isinstance(source, TraceScope) else resolve_scope(client, uri, source, start, end)
        path = sqlite_file(uri)
        reason = "the store is not a local sqlite file" if path is None else unreadable(path, scope)
        if method == "sql" and reason is not None:
            raise InputError(f"cannot read the traces of {scope.describe()} with SQL: {reason}; use method='api'")
        if method != "api" and reason is None:
            assert path is not None
            traces, spans, named, feedback = read_sql(path, scope, attributes)
            used = "sql"
        else:
            if method == "auto" and path is not None:
                notes.append(f"traces read through MLflow's API: {reason}")
            traces, spans, named, feedback = read_api(client, scope, attributes, page_size)
            used = "api"
    if not traces:
        raise NoTraces(
            f"no traces in {scope.describe()}. Log them with @mlflow.trace or mlflow.start_span "
            "(https://mlflow.org/docs/latest/genai/tracing/), or check the experiment, run, model and time range."
        )
    if span_names is None:
        chosen, left_out = choose_span_names(spans, len(traces))
        if left_out:
            notes.append(f"no latency column for the spans {', '.join(left_out)} (rarer than 5% of traces, "
                         "or beyond 12 names): name them with span_names=")
    else:
        chosen = list(span_names)
    features = feature_frame(traces, spans, named, chosen)
    for a in attributes:
        if features[a.column].null_count() == features.height:
            notes.append(f"span attribute {a.spec} is on none of the {features.height} traces: left out")
            features = features.drop(a.column)
    return TraceData(scope, features, assessment_frame(feedback), used, attributes, tuple(chosen), tuple(notes))
