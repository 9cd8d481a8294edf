"""Total variation distance between category proportions."""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair, proportions
from mlobs_notebook.drift.statistics.registry import Statistic, register


def tv_distance(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Half the L1 distance between proportions, in [0, 1]; one value per window."""
    ref, cur = as_count_pair(reference, current)
    return np.asarray(0.5 * np.abs(proportions(cur) - proportions(ref)).sum(axis=1))


register(
    Statistic(
        name="tv_distance",
        kinds=frozenset({"categorical"}),
        input="counts",
        compute=tv_distance,
        drift_threshold=0.1,
        warn_threshold=0.05,
        description="total variation distance between category proportions (nulls included)",
    )
)
