"""The rag_assistant, instrumented with MLflow tracing: one trace per question.

Span tree (what a hand-instrumented RAG app logs):

- ``rag_assistant`` (CHAIN, the root): the question in, the answer out; the router's product in
  the ``query.product`` attribute.
- ``retrieve`` (RETRIEVER): its outputs are ``mlflow.entities.Document`` objects (MLflow's
  retriever convention) with ``doc_uri``, ``chunk_id`` and ``score`` in their metadata; the index
  it searched in ``gen_ai.data_source.id`` (OpenTelemetry GenAI semantic conventions).
- ``check_status_page`` (TOOL): only for questions about incidents.
- ``generate`` (LLM): the rendered prompt in, the answer out, token usage in
  ``mlflow.chat.tokenUsage`` and the model in ``mlflow.llm.model`` (``SpanAttributeKey``).

The demo replays days of traffic, so each span is opened with
``mlflow.start_span_no_context(start_time_ns=...)`` and closed with ``end(end_time_ns=...)``, the
public way to give spans their own times (MLflow's own demo generator does the same); timings
come from the deterministic :func:`~mlobs_notebook.demo.rag.corpus.unit`. About one request in a
hundred times out in the LLM call: that span and the trace end in ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlobs_notebook.demo.rag import corpus

__all__ = ["LLM_MODEL", "Answer", "RagAssistant", "scorers"]

LLM_MODEL = "acme-llm-small"
TIMEOUT_RATE = 0.01
MS = 1_000_000  # nanoseconds


@dataclass(frozen=True)
class Answer:
    trace_id: str
    question: str
    answer: str | None
    context: list[str]
    end_ns: int


class RagAssistant:
    """Answer questions from ``chunks`` (the index at ``index_uri``) with ``template``."""

    def __init__(self, chunks: list[corpus.Chunk], template: str, index_uri: str, llm: str = LLM_MODEL) -> None:
        self.chunks = chunks
        self.template = template
        self.index_uri = index_uri
        self.llm = llm

    def answer_at(self, question: str, start_ns: int, key: Any) -> Answer:
        """Answer ``question`` as if asked at ``start_ns``; ``key`` seeds its timings."""
        import mlflow
        from mlflow.entities import Document, SpanType
        from mlflow.tracing.constant import SpanAttributeKey

        t = start_ns
        root = mlflow.start_span_no_context(
            "rag_assistant", span_type=SpanType.CHAIN, inputs={"question": question}, start_time_ns=t,
            attributes={"query.product": corpus.route(question)},
        )
        t += int((0.2 + corpus.unit(key, "pre")) * MS)
        retriever = mlflow.start_span_no_context(
            "retrieve", span_type=SpanType.RETRIEVER, parent_span=root, inputs={"query": question},
            start_time_ns=t, attributes={"gen_ai.data_source.id": self.index_uri},
        )
        hits = corpus.retrieve(question, self.chunks)
        docs = [
            Document(page_content=c.text, metadata={"doc_uri": c.doc_uri, "chunk_id": c.chunk_id, "score": s}, id=c.chunk_id)
            for c, s in hits
        ]
        t += int((6 + 0.12 * len(self.chunks) + 10 * corpus.unit(key, "retrieve")) * MS)
        retriever.end(outputs=docs, end_time_ns=t)
        if corpus.terms(question) & {"outage", "status", "incident"}:
            tool = mlflow.start_span_no_context(
                "check_status_page", span_type=SpanType.TOOL, parent_span=root,
                inputs={"service": "acme-cloud"}, start_time_ns=t,
            )
            t += int((40 + 80 * corpus.unit(key, "tool")) * MS)
            tool.end(outputs={"open_incidents": 0}, end_time_ns=t)
        context = [c.text for c, _ in hits]
        prompt = corpus.render_prompt(self.template, question, context)
        llm = mlflow.start_span_no_context(
            "generate", span_type=SpanType.LLM, parent_span=root, start_time_ns=t,
            inputs={"messages": [{"role": "user", "content": prompt}], "model": self.llm},
            attributes={SpanAttributeKey.MODEL: self.llm},
        )
        if corpus.unit(key, "timeout") < TIMEOUT_RATE:
            t += 30_000 * MS
            llm.end(status="ERROR", end_time_ns=t)
            root.end(status="ERROR", end_time_ns=t + MS)
            return Answer(root.trace_id, question, None, context, t + MS)
        answer = corpus.generate(prompt, question, context)
        prompt_tokens, completion_tokens = len(corpus.words(prompt)), len(corpus.words(answer))
        t += int((250 + 9 * completion_tokens + 200 * corpus.unit(key, "generate")) * MS)
        llm.end(
            outputs={"choices": [{"message": {"role": "assistant", "content": answer}}]},
            attributes={SpanAttributeKey.CHAT_USAGE: {
                "input_tokens": prompt_tokens, "output_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }},
            end_time_ns=t,
        )
        root.end(outputs=answer, end_time_ns=t + MS)
        return Answer(root.trace_id, question, answer, context, t + MS)


def scorers() -> list[Any]:
    """The two quality checks as MLflow GenAI scorers (code scorers: no LLM judge, no network),
    for ``mlflow.genai.evaluate``. They read the retrieved context from the trace's RETRIEVER span."""
    from mlflow.entities import SpanType
    from mlflow.genai.scorers import scorer

    @scorer(name="faithfulness")
    def faithfulness(outputs: Any, trace: Any) -> float:
        context = [d["page_content"] for s in trace.search_spans(span_type=SpanType.RETRIEVER) for d in (s.outputs or [])]
        return corpus.faithfulness(str(outputs), context)

    @scorer(name="relevance")
    def relevance(inputs: Any, outputs: Any) -> float:
        return corpus.relevance(str(inputs["question"]), str(outputs))

    return [faithfulness, relevance]
