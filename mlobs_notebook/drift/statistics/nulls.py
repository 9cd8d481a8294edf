"""Null-rate change in percentage points: Databricks' ``percent_null_delta``.

Databricks' drift metrics table reports ``percent_null_delta`` as the change of
``percent_null`` (on a 0 to 100 scale) from the reference to the current window
(https://docs.databricks.com/en/lakehouse-monitoring/monitor-output.html). It is signed: a null
rate that falls (a pipeline starts filling missing values with a default) is as much a change
as one that rises, so a given threshold judges its absolute value.
"""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair, proportions
from mlobs_notebook.drift.statistics.registry import Statistic, register


def percent_null_delta(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """100 x (current null rate - reference null rate), one value per window; the last bin of
    each count matrix is the null bin. NaN where a side has no rows."""
    ref, cur = as_count_pair(reference, current)
    delta: np.ndarray = 100.0 * (proportions(cur)[:, -1] - proportions(ref)[:, -1])
    return delta


register(
    Statistic(
        name="percent_null_delta",
        kinds=frozenset({"numeric", "categorical"}),
        input="counts",
        compute=percent_null_delta,
        drift_threshold=10.0,
        warn_threshold=5.0,
        signed=True,
        symmetric=False,
        description="change of the null rate in percentage points (Databricks); |change| >= 10 drift, >= 5 warn",
    )
)
