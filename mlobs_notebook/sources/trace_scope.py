"""Which traces to read: an experiment, a run or a LoggedModel, within a time range; and the
further span attributes a user names as features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlobs_notebook.errors import ExperimentNotFound, InputError
from mlobs_notebook.sources.mlflow_access import first_line, is_missing
from mlobs_notebook.times import human, range_bound

__all__ = ["SpanAttribute", "TraceScope", "resolve_scope"]

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class TraceScope:
    """The traces of ``experiment_id`` (named ``experiment``), optionally only those of a run
    (``mlflow.sourceRun`` or linked with ``link_traces_to_run``) or of a LoggedModel
    (``mlflow.modelId``), started in ``[start, end]`` (aware UTC, both ends included, either
    may be None)."""

    tracking_uri: str
    experiment_id: str
    experiment: str
    run_id: str | None = None
    model_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def start_ms(self) -> int | None:
        return None if self.start is None else int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int | None:
        return None if self.end is None else int(self.end.timestamp() * 1000)

    def describe(self) -> str:
        """How messages name the scope: ``experiment 'rag' (id 3)``, ``run 1a2b.. of ...``."""
        where = f"experiment {self.experiment!r} (id {self.experiment_id}) in {self.tracking_uri}"
        if self.run_id:
            where = f"run {self.run_id} of {where}"
        if self.model_id:
            where = f"LoggedModel {self.model_id} in {where}"
        if self.start or self.end:
            where += f", from {human(self.start) if self.start else 'the start'} to {human(self.end) if self.end else 'now'}"
        return where

    def within(self, start: datetime | None, end: datetime | None) -> TraceScope:
        from dataclasses import replace

        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class SpanAttribute:
    """A span attribute named as a feature: ``SPAN:KEY`` (a span name or type, then the key) or
    ``KEY`` alone (any span). ``column`` is the feature's name: the key."""

    span: str | None
    key: str

    @property
    def column(self) -> str:
        return self.key

    @property
    def spec(self) -> str:
        return f"{self.span}:{self.key}" if self.span else self.key

    @classmethod
    def parse(cls, text: str | SpanAttribute) -> SpanAttribute:
        if isinstance(text, SpanAttribute):
            return text
        span, _, key = str(text).strip().rpartition(":")
        if not key or '"' in key or '"' in span:
            raise InputError(
                f"span attribute {text!r}: write SPAN:KEY (a span name or type, e.g. "
                "rag_assistant:query.product or RETRIEVER:top_k) or KEY alone, without double quotes"
            )
        return cls(span or None, key)

    def matches(self, name: str, span_type: str | None) -> bool:
        return self.span is None or self.span == name or self.span == span_type


def resolve_scope(client: Any, uri: str, source: str, start: Any = None, end: Any = None) -> TraceScope:
    """``source`` is an experiment name or id, a run id, or a LoggedModel (``models:/m-...`` or
    ``m-...``); ``start``/``end`` bound the traces' start times (see
    :func:`mlobs_notebook.times.range_bound`). Raises ExperimentNotFound / InputError naming it."""
    text = str(source).strip()
    lo, hi = range_bound(start, "start"), range_bound(end, "end", end=True)
    model_id = text.removeprefix("models:/")
    if _MODEL_ID.match(model_id):
        model = _get(lambda: client.get_logged_model(model_id), f"no LoggedModel {model_id!r} in {uri}")
        experiment = client.get_experiment(model.experiment_id)
        return TraceScope(uri, str(model.experiment_id), experiment.name, model_id=model_id, start=lo, end=hi)
    found = client.get_experiment_by_name(text)
    if found is None and text.isdigit():
        found = _get(lambda: client.get_experiment(text), None)
    if found is not None:
        return TraceScope(uri, str(found.experiment_id), found.name, start=lo, end=hi)
    if _RUN_ID.match(text):
        run = _get(lambda: client.get_run(text), None)
        if run is not None:
            experiment = client.get_experiment(run.info.experiment_id)
            return TraceScope(uri, str(run.info.experiment_id), experiment.name, run_id=text, start=lo, end=hi)
    known = sorted(e.name for e in client.search_experiments(max_results=100))
    raise ExperimentNotFound(
        f"{text!r} is neither an experiment, a run nor a LoggedModel in {uri}. "
        f"Experiments: {', '.join(known) or 'none'}"
    )


def _get(call: Any, missing: str | None) -> Any:
    try:
        return call()
    except Exception as exc:
        if not is_missing(exc):
            raise
        if missing is None:
            return None
        raise InputError(f"{missing}: {first_line(exc)}") from exc
