"""L-infinity distance: the largest change in any one category's proportion."""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair, proportions
from mlobs_notebook.drift.statistics.registry import Statistic, register


def l_infinity_distance(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """max over categories of |c - b|, in [0, 1]; one value per window."""
    ref, cur = as_count_pair(reference, current)
    return np.asarray(np.abs(proportions(cur) - proportions(ref)).max(axis=1))


register(
    Statistic(
        name="l_infinity_distance",
        kinds=frozenset({"categorical"}),
        input="counts",
        compute=l_infinity_distance,
        drift_threshold=0.1,
        warn_threshold=0.05,
        description="largest absolute change of one category's proportion (nulls included)",
    )
)
