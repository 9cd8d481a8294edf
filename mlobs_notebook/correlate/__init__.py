"""Align drift with the model metric over time: onsets, the metric's drop, lead time, lagged
correlation. Pure: polars frames and plain records in, records out.

Modules: ``onsets`` (a feature's drift onset by the persistence rule), ``drop`` (the metric per
window, and its sustained fall), ``lags`` (lead time and lagged correlation, counted in windows),
``estimate`` (the metric estimated from the scores before labels arrive: confidence-based, as
NannyML's CBPE).
Every time here is an aware datetime: a window's start in the data's zone.
"""

from mlobs_notebook.correlate.drop import (
    METRIC_SCHEMA,
    REFERENCE_POINTS,
    MetricDrop,
    align_metric,
    metric_drop,
    metric_granularity,
)
from mlobs_notebook.correlate.estimate import (
    ESTIMATE_SCHEMA,
    Calibration,
    estimate_metric,
    estimated_performance,
    fit_calibration,
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
    "ESTIMATE_SCHEMA",
    "LAG_SCHEMA",
    "METRIC_SCHEMA",
    "Calibration",
    "REFERENCE_POINTS",
    "FeatureOnset",
    "MetricDrop",
    "align_metric",
    "drift_onsets",
    "drift_series",
    "estimate_metric",
    "estimated_performance",
    "fit_calibration",
    "lagged_correlation",
    "lead_time",
    "lead_windows",
    "metric_drop",
    "metric_granularity",
    "persistent_onset",
]
