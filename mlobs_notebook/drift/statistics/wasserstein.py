"""1-Wasserstein (earth mover's) distance, raw and in units of the reference's std."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, WindowedPairs
from mlobs_notebook.drift.statistics.registry import Statistic, register


def wasserstein(pair: SortedPair | WindowedPairs | ConsecutivePairs) -> tuple[Any, Any]:
    """(distance, distance / std of the reference); equals ``scipy.stats.wasserstein_distance``.

    The normalised value is scale-free, so one threshold serves every feature. Its reference is
    the baseline for baseline drift and the previous window for consecutive drift; a constant
    reference (std 0) leaves it undefined (NaN).
    """
    distance = pair.wasserstein()
    std = pair.reference_std
    if np.ndim(distance) == 0:
        return distance, (distance / std if std > 0 else float("nan"))
    with np.errstate(invalid="ignore", divide="ignore"):
        return distance, np.where(std > 0, distance / std, np.nan)


register(
    Statistic(
        name="wasserstein_distance",
        kinds=frozenset({"numeric"}),
        input="sorted",
        compute=wasserstein,
        output=0,
        drift_threshold=float("inf"),
        description="1-Wasserstein distance on non-null finite values, in the feature's units",
    )
)
register(
    Statistic(
        name="wasserstein_normalized",
        kinds=frozenset({"numeric"}),
        input="sorted",
        compute=wasserstein,
        output=1,
        drift_threshold=0.1,
        warn_threshold=0.05,
        symmetric=False,
        description="Wasserstein distance divided by the reference's standard deviation (ddof 0)",
    )
)
