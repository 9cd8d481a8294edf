"""Population stability index over bins (numeric: baseline deciles plus null; categorical)."""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair, proportions
from mlobs_notebook.drift.statistics.registry import Statistic, register

# Empty bins would make ln(c/b) infinite; the usual convention replaces their share by 1e-4.
EMPTY_BIN_PROPORTION = 1e-4


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """sum over bins of (c - b) * ln(c / b), one value per window; NaN for an empty side."""
    ref, cur = as_count_pair(reference, current)
    b = proportions(ref)
    c = proportions(cur)
    b = np.where(b == 0, EMPTY_BIN_PROPORTION, b)
    c = np.where(c == 0, EMPTY_BIN_PROPORTION, c)
    return np.asarray(np.sum((c - b) * np.log(c / b), axis=1))


register(
    Statistic(
        name="population_stability_index",
        kinds=frozenset({"numeric", "categorical"}),
        input="counts",
        compute=population_stability_index,
        drift_threshold=0.2,
        warn_threshold=0.1,
        pools_rare_categories=True,
        description="PSI on the baseline bins plus a null bin; >= 0.2 drift, 0.1 to 0.2 warn",
    )
)
