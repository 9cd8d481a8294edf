"""Share of a window's rows whose category the reference never had.

NannyML's ``UnseenValuesCalculator`` reports the same rate, unseen values over all rows of a
chunk, and alerts on any unseen value by default (nannyml 0.13,
``nannyml/data_quality/unseen/calculator.py``: ``_calculate_unseen_value_stats`` and
``ConstantThreshold(upper=0)``). Null is not a category here (its change is
``percent_null_delta``). For baseline drift the reference is the baseline; for consecutive
drift it is the previous window.
"""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift.binned import as_count_pair
from mlobs_notebook.drift.statistics.registry import Statistic, register


def unseen_category_share(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rows of the current window in categories with no reference rows, over all its rows (the
    last bin, null, never counts as unseen); in [0, 1], NaN where a side has no rows."""
    ref, cur = as_count_pair(reference, current)
    unseen = np.where(ref[:, :-1] == 0, cur[:, :-1], 0.0).sum(axis=1)
    rows_ref, rows_cur = ref.sum(axis=1), cur.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = unseen / np.where(rows_cur > 0, rows_cur, 1)
    return np.where((rows_cur > 0) & (rows_ref > 0), share, np.nan)


register(
    Statistic(
        name="unseen_category_share",
        kinds=frozenset({"categorical"}),
        input="counts",
        compute=unseen_category_share,
        drift_threshold=0.05,
        warn_threshold=0.01,
        symmetric=False,
        description="share of rows in categories the reference never had; >= 0.05 drift, >= 0.01 warn",
    )
)
