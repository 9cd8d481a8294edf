"""Drift statistics, one module each, and the registry that lists them.

Importing this package registers the built-in statistics in the order of Databricks' drift
metrics table (``percent_null_delta``, ``population_stability_index``, ``js_distance``,
``ks_test``, ``wasserstein_distance``, ``chi_squared_test``, ``tv_distance``,
``l_infinity_distance``), then ours (``unseen_category_share``); that order is
:func:`statistic_names` and the report's column order. A new statistic is a module here that
calls :func:`register`, imported below in the place its column should take.
"""

# isort: off
# Imported for their registrations, in the report's column order.
from mlobs_notebook.drift.statistics import nulls  # noqa: F401
from mlobs_notebook.drift.statistics import psi  # noqa: F401
from mlobs_notebook.drift.statistics import js  # noqa: F401
from mlobs_notebook.drift.statistics import ks  # noqa: F401
from mlobs_notebook.drift.statistics import wasserstein  # noqa: F401
from mlobs_notebook.drift.statistics import chi2  # noqa: F401
from mlobs_notebook.drift.statistics import tv  # noqa: F401
from mlobs_notebook.drift.statistics import linf  # noqa: F401
from mlobs_notebook.drift.statistics import unseen  # noqa: F401

# isort: on
from mlobs_notebook.drift.statistics.registry import (
    KINDS,
    Statistic,
    get_statistic,
    register,
    resolve,
    statistic_names,
)

__all__ = ["KINDS", "Statistic", "get_statistic", "register", "resolve", "statistic_names"]
