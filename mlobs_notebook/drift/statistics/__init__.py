"""Drift statistics, one module each, and the registry that lists them.

Importing this package registers the built-in statistics in the order of Databricks' drift
metrics table (``population_stability_index``, ``js_distance``, ``ks_test``,
``wasserstein_distance``, ``chi_squared_test``, ``tv_distance``, ``l_infinity_distance``), then
ours; that order is :func:`statistic_names` and the report's column order. A new statistic is a
module here that calls :func:`register`, imported below.
"""

# Imported for their registrations, in the report's column order.
from mlobs_notebook.drift.statistics import (
    chi2,  # noqa: E402, F401
    js,  # noqa: E402, F401
    ks,  # noqa: E402, F401
    linf,  # noqa: E402, F401
    psi,  # noqa: E402, F401, I001
    tv,  # noqa: E402, F401
    wasserstein,  # noqa: E402, F401
)
from mlobs_notebook.drift.statistics.registry import (
    KINDS,
    Statistic,
    get_statistic,
    register,
    resolve,
    statistic_names,
)

__all__ = ["KINDS", "Statistic", "get_statistic", "register", "resolve", "statistic_names"]
