"""From trace, span and assessment rows to one row per trace: what both readers share.

The two readers (``traces_sql`` over the sqlite tables, ``traces_api`` through
``MlflowClient.search_traces``) each give the same rows: one :class:`RawTrace` per trace, one
row of :data:`SPAN_SCHEMA` per span (the span's own figures: its text lengths, documents,
scores, model), the user's attributes decoded, and the valid feedback. The SQL reader computes a
span's figures inside SQLite; the API reader with :func:`span_row`, by the same definitions.
Everything per trace is then computed here, once, so the two give identical frames. The feature
definitions are in :mod:`mlobs_notebook.sources.traces`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = [
    "ASSESSMENT_SCHEMA",
    "MAX_SPAN_NAMES",
    "SPAN_SCHEMA",
    "RawTrace",
    "assessment_frame",
    "attribute_series",
    "choose_span_names",
    "feature_frame",
    "numeric_value",
    "span_latency_column",
    "span_row",
    "text_length",
]

MAX_SPAN_NAMES = 12  # at most this many per-span latency columns
MIN_SPAN_SHARE = 0.05  # ... of span names found in at least this share of the traces
RETRIEVER = "RETRIEVER"
LLM_TYPES = ("LLM", "CHAT_MODEL")

# one row per span: what the span itself says (None where it does not apply)
SPAN_SCHEMA = {
    "trace_id": pl.String(), "name": pl.String(), "span_type": pl.String(), "start_ns": pl.Int64(),
    "end_ns": pl.Int64(), "is_root": pl.Boolean(),
    "request_length": pl.Int64(),  # root: characters of text in its inputs
    "response_length": pl.Int64(),  # root: ... in its outputs
    "documents": pl.Int64(),  # RETRIEVER: documents in its outputs
    "score_max": pl.Float64(), "score_sum": pl.Float64(), "scores": pl.Int64(),  # their numeric metadata.score
    "context_length": pl.Int64(),  # RETRIEVER: characters of text in their page_content
    "llm_model": pl.String(),  # LLM, CHAT_MODEL: mlflow.llm.model, when text
    "data_source": pl.String(),  # RETRIEVER: gen_ai.data_source.id, when text
}

ASSESSMENT_SCHEMA = {
    "trace_id": pl.String(), "assessment_id": pl.String(), "name": pl.String(), "value": pl.Float64(),
    "source_type": pl.String(), "source_id": pl.String(), "updated_ms": pl.Int64(),
}


@dataclass(frozen=True)
class RawTrace:
    trace_id: str
    request_time_ms: int
    execution_ms: int | None
    state: str
    model_id: str | None
    source_run: str | None
    input_tokens: int | None
    output_tokens: int | None


def text_length(value: Any) -> int:
    """Characters of the text in a decoded JSON value: its strings, dict keys left out."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_length(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(text_length(v) for v in value)
    return 0


def numeric_value(value: Any) -> float | None:
    """An assessment's value as a number: numbers as they are, booleans and yes/no ratings
    (MLflow's judges' CategoricalRating) as 1 and 0, anything else None."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "no", "false"):
        return 1.0 if value.strip().lower() in ("yes", "true") else 0.0
    return None


def span_latency_column(name: str) -> str:
    return f"latency_ms.{name}"


def _score(doc: dict[str, Any]) -> float | None:
    meta = doc.get("metadata")
    score = meta.get("score") if isinstance(meta, dict) else None
    return float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None


def span_row(
    trace_id: str, name: str, span_type: str | None, start_ns: int, end_ns: int | None, is_root: bool,
    inputs: Any, outputs: Any, model: Any, source: Any,
) -> tuple[Any, ...]:
    """A span's :data:`SPAN_SCHEMA` row from its decoded attributes (``mlflow.spanInputs``,
    ``mlflow.spanOutputs``, ``mlflow.llm.model``, ``gen_ai.data_source.id``)."""
    documents = score_max = score_sum = scores = context = None
    if span_type == RETRIEVER:
        docs = [d for d in outputs if isinstance(d, dict)] if isinstance(outputs, list) else []
        found = [s for s in map(_score, docs) if s is not None]
        documents, scores = len(docs), len(found)
        score_max, score_sum = (max(found), sum(found)) if found else (None, None)
        context = sum(text_length(d.get("page_content")) for d in docs)
    return (
        trace_id, name, span_type, start_ns, end_ns, is_root,
        text_length(inputs) if is_root and inputs is not None else None,
        text_length(outputs) if is_root and outputs is not None else None,
        documents, score_max, score_sum, scores, context,
        model if span_type in LLM_TYPES and isinstance(model, str) else None,
        source if span_type == RETRIEVER and isinstance(source, str) else None,
    )


def choose_span_names(spans: pl.DataFrame, traces: int) -> tuple[list[str], list[str]]:
    """(chosen, left out): names of the non-root spans that get a latency column, those found in
    at least ``MIN_SPAN_SHARE`` of the traces, most frequent first, at most ``MAX_SPAN_NAMES``."""
    seen = (
        spans.filter(~pl.col("is_root")).select("trace_id", "name").unique()
        .group_by("name").len().sort(["len", "name"], descending=[True, False])
    )
    ranked = seen["name"].to_list()
    frequent = seen.filter(pl.col("len") >= MIN_SPAN_SHARE * max(1, traces))["name"].to_list()
    chosen = frequent[:MAX_SPAN_NAMES]
    return chosen, [n for n in ranked if n not in chosen]


def attribute_series(name: str, values: list[Any]) -> pl.Series:
    """A user-named attribute's decoded values: booleans, integers, numbers, else text (JSON for
    lists and objects)."""
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return pl.Series(name, values, dtype=pl.Boolean())
    if kinds and kinds <= {int}:
        return pl.Series(name, values, dtype=pl.Int64())
    if kinds and kinds <= {int, float}:
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64())
    text = [None if v is None else (v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for v in values]
    return pl.Series(name, text, dtype=pl.String())


def feature_frame(
    traces: Iterable[RawTrace], spans: pl.DataFrame, attributes: dict[str, pl.Series], span_names: Sequence[str],
) -> pl.DataFrame:
    """One row per trace, sorted by time then id; ``spans`` as :data:`SPAN_SCHEMA`,
    ``attributes`` each named attribute's values aligned with ``spans``."""
    base = pl.DataFrame(
        [(t.trace_id, t.request_time_ms, t.execution_ms, t.state, t.model_id, t.source_run,
          t.input_tokens, t.output_tokens) for t in traces],
        schema={"trace_id": pl.String(), "request_ms": pl.Int64(), "latency_ms": pl.Int64(), "state": pl.String(),
                "model_id": pl.String(), "source_run": pl.String(), "prompt_tokens": pl.Int64(),
                "completion_tokens": pl.Int64()},
        orient="row",
    )
    named = [f"__attr{i}" for i in range(len(attributes))]
    frame = spans.with_columns(
        *[s.alias(n) for n, s in zip(named, attributes.values(), strict=True)],
        ((pl.col("end_ns") - pl.col("start_ns")) / 1e6).alias("duration_ms"),
        (pl.col("span_type") == "TOOL").alias("is_tool"),
    ).sort("trace_id", "start_ns", "name")
    non_root = ~pl.col("is_root")
    per_trace = frame.group_by("trace_id", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("spans"),
        pl.col("is_tool").sum().cast(pl.Int64).alias("tool_calls"),
        pl.col("request_length").drop_nulls().first().alias("request_length"),
        pl.col("response_length").drop_nulls().first().alias("response_length"),
        pl.col("documents").sum().alias("documents_retrieved"),
        pl.col("documents").is_not_null().any().alias("__retrieved"),
        pl.col("score_max").max().alias("retrieval_top_score"),
        pl.when(pl.col("scores").sum() > 0).then(pl.col("score_sum").sum() / pl.col("scores").sum())
        .otherwise(None).alias("retrieval_mean_score"),
        pl.col("context_length").sum().alias("context_length"),
        pl.col("llm_model").drop_nulls().first().alias("model_name"),
        pl.col("data_source").drop_nulls().first().alias("data_source"),
        *[pl.col("duration_ms").filter((pl.col("name") == n) & non_root).sum().alias(span_latency_column(n))
          for n in span_names],
        *[pl.col("name").filter((pl.col("name") == n) & non_root).count().alias(f"__has{i}")
          for i, n in enumerate(span_names)],
        *[pl.col(n).drop_nulls().first().alias(c) for n, c in zip(named, attributes, strict=True)],
    )
    retrieval = ("documents_retrieved", "retrieval_top_score", "retrieval_mean_score", "context_length")
    per_trace = per_trace.with_columns(
        *[pl.when(pl.col("__retrieved")).then(pl.col(c)).otherwise(None).alias(c) for c in retrieval],
        *[pl.when(pl.col(f"__has{i}") > 0).then(pl.col(span_latency_column(n))).otherwise(None).alias(span_latency_column(n))
          for i, n in enumerate(span_names)],
    ).drop("__retrieved", *[f"__has{i}" for i in range(len(span_names))])
    out = base.join(per_trace, on="trace_id", how="left").with_columns(
        pl.from_epoch("request_ms", time_unit="ms").dt.cast_time_unit("us").dt.replace_time_zone("UTC").alias("request_time"),
        pl.col("latency_ms").cast(pl.Float64),
        (pl.col("state") == "ERROR").alias("error"),
        pl.col("spans").fill_null(0), pl.col("tool_calls").fill_null(0),
    )
    first = ["trace_id", "request_time", "state", "error", "model_id", "source_run", "data_source"]
    return out.sort("request_ms", "trace_id").select(*first, pl.exclude(*first, "request_ms"))


def assessment_frame(rows: Iterable[tuple[str, str, str, Any, str | None, str | None, int | None]]) -> pl.DataFrame:
    """Valid feedback rows ``(trace_id, assessment_id, name, decoded value, source_type,
    source_id, last update in ms)`` -> :data:`ASSESSMENT_SCHEMA`, values made numeric."""
    return pl.DataFrame(
        [(t, a, n, numeric_value(v), st, si, u) for t, a, n, v, st, si, u in rows],
        schema=ASSESSMENT_SCHEMA, orient="row",
    )
