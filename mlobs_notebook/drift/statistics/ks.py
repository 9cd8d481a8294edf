"""Exact two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, WindowedPairs
from mlobs_notebook.drift.statistics.registry import Statistic, register


def ks_test(pair: SortedPair | WindowedPairs | ConsecutivePairs) -> tuple[Any, Any]:
    """(statistic, p-value), floats for a pair or arrays over windows; the statistic equals
    ``scipy.stats.ks_2samp(...).statistic``.

    The p-value is the limiting Kolmogorov distribution at sqrt(n m / (n + m)) D, i.e.
    ``scipy.stats.kstwobign.sf(D * sqrt(n * m / (n + m)))`` (a C ufunc, microseconds per window).
    scipy's own asymptotic mode evaluates the finite-n distribution ``kstwo``, which costs
    milliseconds per call and 1,800 calls for 90 windows x 20 columns. The limit is slightly
    conservative: about 0.02 higher at 300 values per side, 0.004 at 10,000 (the tests bound it),
    and both are ~0 when drift is real.
    """
    d = np.asarray(pair.ks_statistic(), dtype=np.float64)
    n, m = np.asarray(pair.n, dtype=np.float64), np.asarray(pair.m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.clip(special.kolmogorov(d * np.sqrt(n * m / (n + m))), 0.0, 1.0)
    p = np.where(np.isnan(d), np.nan, p)
    return (float(d), float(p)) if d.ndim == 0 else (d, p)


register(
    Statistic(
        name="ks_statistic",
        kinds=frozenset({"numeric"}),
        input="sorted",
        compute=ks_test,
        output=0,
        drift_threshold=0.1,
        warn_threshold=0.05,
        description="exact two-sample KS statistic on non-null finite values",
    )
)
register(
    Statistic(
        name="ks_pvalue",
        kinds=frozenset({"numeric"}),
        input="sorted",
        compute=ks_test,
        output=1,
        drift_threshold=0.05,
        warn_threshold=0.1,
        higher_is_drift=False,
        identical_value=1.0,
        description="asymptotic KS p-value; < 0.05 drift (tiny at large n: use with care)",
    )
)
