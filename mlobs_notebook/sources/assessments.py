"""An LLM app's quality metric per window, from its traces' assessments or from the traces.

- **Assessments:** feedback logged with ``mlflow.log_feedback`` / ``mlflow.log_assessment`` and the
  scores ``mlflow.genai.evaluate`` scorers attach to traces. Each trace counts once per name: its
  latest valid feedback of that name (``valid``: not overridden; latest by update time, then id).
  The window's value is the mean over the traces that started in it.
- **Trace-level figures:** ``error_rate`` (share of traces that ended in ERROR) and
  ``latency_p95`` (95th percentile of the trace duration, milliseconds); lower is better.

Windows with fewer than ``min_traces`` assessed traces are left out, with a note.
"""

from __future__ import annotations

import polars as pl

from mlobs_notebook.correlate import METRIC_SCHEMA, align_metric
from mlobs_notebook.errors import UnknownMetric
from mlobs_notebook.sources.traces import TraceData
from mlobs_notebook.times import Granularity

__all__ = ["LOWER_IS_BETTER", "TRACE_METRICS", "latest_feedback", "metric_names", "metric_series"]

TRACE_METRICS = ("error_rate", "latency_p95")
LOWER_IS_BETTER = frozenset(TRACE_METRICS)
MIN_TRACES = 5


def latest_feedback(data: TraceData) -> pl.DataFrame:
    """``trace_id, name, value``: each trace's latest valid feedback of each name with a number."""
    return (
        data.assessments.drop_nulls("value")
        .sort("updated_ms", "assessment_id")
        .group_by("trace_id", "name")
        .agg(pl.col("value").last())
    )


def metric_names(data: TraceData) -> list[str]:
    """The metrics this data can give: numeric feedback names, then the trace-level figures."""
    names = sorted(set(data.assessments.drop_nulls("value")["name"].to_list()))
    return [*names, *TRACE_METRICS]


def metric_series(
    data: TraceData, metric: str, granularity: Granularity | str, zone: str = "UTC", min_traces: int = MIN_TRACES
) -> tuple[pl.DataFrame, list[str]]:
    """(series, notes): ``metric`` per window of ``granularity`` in ``zone``, as
    :data:`~mlobs_notebook.correlate.METRIC_SCHEMA` (``points`` = traces the window's value is
    computed from). Raises :class:`~mlobs_notebook.errors.UnknownMetric` listing the names the
    traces hold when ``metric`` is none of them."""
    step = Granularity.parse(granularity)
    frame = data.features.select("trace_id", "request_time", "error", "latency_ms")
    if metric == "error_rate":
        values = frame.select("request_time", pl.col("error").cast(pl.Float64).alias("value"))
        aggregate = pl.col("value").mean()
    elif metric == "latency_p95":
        values = frame.select("request_time", pl.col("latency_ms").alias("value"))
        aggregate = pl.col("value").quantile(0.95, interpolation="linear")
    else:
        scores = latest_feedback(data).filter(pl.col("name") == metric)
        if scores.height == 0:
            raise UnknownMetric(
                f"no feedback named {metric!r} on the traces of {data.scope.describe()}. "
                f"Metrics there: {', '.join(metric_names(data))}"
            )
        values = frame.join(scores, on="trace_id").select("request_time", "value")
        aggregate = pl.col("value").mean()
    local = pl.col("request_time").dt.convert_time_zone(zone).dt.truncate(step.every).alias("window_start")
    per_window = values.drop_nulls("value").group_by(local).agg(
        aggregate.alias("value"), pl.len().cast(pl.UInt32).alias("traces"))
    thin = per_window.filter(pl.col("traces") < min_traces)
    notes = []
    if thin.height:
        notes.append(f"{thin.height} window(s) with fewer than {min_traces} traces carrying {metric} left out of its series")
    kept = per_window.filter(pl.col("traces") >= min_traces)
    # the one windowing rule of correlate; then points = the traces behind each window's value
    series = align_metric(kept.select("window_start", "value"), step, zone).drop("points").join(
        kept.select("window_start", pl.col("traces").alias("points")), on="window_start")
    return series.select(list(METRIC_SCHEMA)), notes
