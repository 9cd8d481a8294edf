"""Feature drift: a baseline profile fitted once, applied to every window in one pass.

``fit_baseline`` learns bins, categories and sorted values from the training data;
``compute_drift`` compares current data (optionally per time window) against it and returns a
:class:`DriftReport`. Statistics live one per module and register by name (``registry.py``):
PSI and JS distance (numeric and categorical), exact KS and Wasserstein (numeric),
chi-squared, total variation and L-infinity (categorical). Pure: polars and numpy in, polars out.
"""

from mlobs_notebook.drift.engine import compute_drift
from mlobs_notebook.drift.profile import BaselineProfile, fit_baseline
from mlobs_notebook.drift.registry import Statistic, get_statistic, statistic_names
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.schema import SchemaFinding

__all__ = [
    "BaselineProfile",
    "DriftReport",
    "SchemaFinding",
    "Statistic",
    "compute_drift",
    "fit_baseline",
    "get_statistic",
    "statistic_names",
]
