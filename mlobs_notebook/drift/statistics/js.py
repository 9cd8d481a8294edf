"""Jensen-Shannon distance (base 2, so within [0, 1]) on unsmoothed bin proportions."""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair, proportions
from mlobs_notebook.drift.statistics.registry import Statistic, register


def js_distance(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """sqrt of the JS divergence in bits, one value per window; equals scipy's ``jensenshannon``."""
    ref, cur = as_count_pair(reference, current)
    p = proportions(ref)
    q = proportions(cur)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 * log(0) is 0: a bin empty on one side contributes only through the other side.
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0)
    divergence = 0.5 * kl_p.sum(axis=1) + 0.5 * kl_q.sum(axis=1)
    undefined = np.isnan(p).any(axis=1) | np.isnan(q).any(axis=1)
    return np.where(undefined, np.nan, np.sqrt(np.clip(divergence, 0.0, 1.0)))


register(
    Statistic(
        name="js_distance",
        kinds=frozenset({"numeric", "categorical"}),
        input="counts",
        compute=js_distance,
        drift_threshold=0.1,
        warn_threshold=0.05,
        pools_rare_categories=True,
        description="base-2 Jensen-Shannon distance on bin proportions, in [0, 1]",
    )
)
