"""Align drift with the model metric over time: onsets, the metric's drop, lead time, lagged
correlation. Pure: polars frames and plain records in, records out.

Modules: ``onsets`` (a feature's drift onset by the persistence rule), ``drop`` (the metric per
window, and its sustained fall), ``lags`` (lead time and lagged correlation, counted in windows).
Every time here is an aware datetime: a window's start in the data's zone.
"""

from mlobs_notebook.correlate.drop import (
    METRIC_SCHEMA,
    REFERENCE_POINTS,
    MetricDrop,
    align_metric,
    metric_drop,
)
from mlobs_notebook.correlate.lags import LAG_SCHEMA, lagged_correlation, lead_time, lead_windows
from mlobs_notebook.correlate.onsets import (
    DEFAULT_PERSISTENCE,
    FeatureOnset,
    drift_onsets,
    drift_series,
    persistent_onset,
)

__all__ = [
    "DEFAULT_PERSISTENCE",
    "LAG_SCHEMA",
    "METRIC_SCHEMA",
    "REFERENCE_POINTS",
    "FeatureOnset",
    "MetricDrop",
    "align_metric",
    "drift_onsets",
    "drift_series",
    "lagged_correlation",
    "lead_time",
    "lead_windows",
    "metric_drop",
    "persistent_onset",
]
