"""Chi-squared test of homogeneity on the 2 x k table (reference, current) x categories."""

from __future__ import annotations

import numpy as np
from scipy import stats

from mlobs_notebook.drift.binned import as_count_pair
from mlobs_notebook.drift.statistics.registry import Statistic, register


def chi_squared(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(statistic, p-value) per window, equal to ``scipy.stats.chi2_contingency``.

    Categories empty on both sides are dropped first (scipy refuses zero expected counts), and
    Yates' correction applies when one degree of freedom remains, as scipy's default does. A
    table with a single category left has no evidence of change: statistic 0, p-value 1.
    """
    ref, cur = as_count_pair(reference, current)
    observed = np.stack([ref, cur], axis=1)  # (windows, 2, k)
    present = observed.sum(axis=1) > 0  # (windows, k)
    row_totals = observed.sum(axis=2, keepdims=True)
    col_totals = observed.sum(axis=1, keepdims=True)
    grand = row_totals.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = row_totals * col_totals / grand
        dof = present.sum(axis=1) - 1
        diff = expected - observed
        yates = (dof == 1)[:, None, None]
        corrected = observed + np.where(yates, np.sign(diff) * np.minimum(0.5, np.abs(diff)), 0)
        terms = np.where(present[:, None, :], (corrected - expected) ** 2 / expected, 0.0)
    statistic = terms.sum(axis=(1, 2))
    empty_side = (row_totals[:, :, 0] == 0).any(axis=1)
    statistic = np.where(empty_side, np.nan, np.where(dof < 1, 0.0, statistic))
    pvalue = np.where(dof < 1, 1.0, stats.chi2.sf(statistic, np.maximum(dof, 1)))
    return statistic, np.where(np.isnan(statistic), np.nan, pvalue)


register(
    Statistic(
        name="chi_squared_statistic",
        kinds=frozenset({"categorical"}),
        input="counts",
        compute=chi_squared,
        output=0,
        drift_threshold=float("inf"),
        description="Pearson chi-squared statistic of the 2 x k table; unbounded, judge by p-value",
    )
)
register(
    Statistic(
        name="chi_squared_pvalue",
        kinds=frozenset({"categorical"}),
        input="counts",
        compute=chi_squared,
        output=1,
        drift_threshold=0.05,
        warn_threshold=0.1,
        higher_is_drift=False,
        identical_value=1.0,
        description="p-value of the chi-squared test; < 0.05 drift (tiny at large n: use with care)",
    )
)
