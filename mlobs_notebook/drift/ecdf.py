"""Exact empirical CDF comparisons of sorted samples.

One pair (:class:`SortedPair`): the two sorted samples are merged in one pass. Many windows
against one large fixed baseline (:class:`WindowedPairs`): each window's values are located in
the sorted baseline by searches that resume where the last one stopped, and the Wasserstein
integral is read off the baseline's cumulative integral. Each window against the one before it
(:class:`ConsecutivePairs`): one merge per pair. The loops are compiled (``ecdf_kernels.py``,
imported on first use). All equal scipy's results; the tests hold them to 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

__all__ = [
    "ComputedPairs",
    "ConsecutivePairs",
    "SortedPair",
    "SortedReference",
    "WindowedPairs",
    "sorted_quantiles",
]


def sorted_quantiles(values: np.ndarray, quantiles: np.ndarray | Sequence[float]) -> np.ndarray:
    """np.quantile's default (linear) method on already sorted values, without re-partitioning."""
    q = np.asarray(quantiles, dtype=np.float64)
    if len(values) == 0:
        return np.full(q.shape, np.nan)
    position = q * (len(values) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(values) - 1)
    fraction = position - low
    return np.asarray(values[low] + (values[high] - values[low]) * fraction)


class SortedReference:
    """A sorted sample plus what every comparison against it reuses (fit once per baseline)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.n = len(self.values)

    @cached_property
    def cumulative_integral(self) -> np.ndarray:
        """G[i] = integral of the reference CDF from -inf up to values[i]."""
        r = self.values
        if self.n == 0:
            return np.zeros(0)
        steps = np.arange(1, self.n) / self.n * np.diff(r)
        return np.concatenate([[0.0], np.cumsum(steps)])

    @cached_property
    def coarse(self) -> np.ndarray:
        """Every ``GROUP``-th value (the last of each group), the first level of the searches."""
        from mlobs_notebook.drift.ecdf_kernels import GROUP

        return np.ascontiguousarray(self.values[GROUP - 1 :: GROUP])

    @cached_property
    def std(self) -> float:
        return float(np.std(self.values)) if self.n else float("nan")


class _Comparison:
    """What the KS and Wasserstein statistics read (``ks.py``, ``wasserstein.py``): ``n`` and
    ``m`` (the sample sizes), ``reference_std``, and both statistics from one compiled pass,
    ``_statistics``, computed on first use."""

    n: Any
    m: Any

    @cached_property
    def _statistics(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def ks_statistic(self) -> Any:
        """sup |F_ref - F_cur| (NaN where a side is empty)."""
        return self._statistics[0]

    def wasserstein(self) -> Any:
        """Integral of |F_ref - F_cur| over the real line, the 1-Wasserstein distance."""
        return self._statistics[1]


class SortedPair(_Comparison):
    """A reference and a current sample, both sorted, finite and non-null."""

    def __init__(self, reference: SortedReference | np.ndarray, current: np.ndarray) -> None:
        if not isinstance(reference, SortedReference):
            reference = SortedReference(reference)
        self.reference = reference
        self.current = np.ascontiguousarray(current, dtype=np.float64)
        self.n = reference.n
        self.m = len(self.current)

    @property
    def reference_std(self) -> float:
        return self.reference.std

    @cached_property
    def _statistics(self) -> tuple[Any, ...]:
        from mlobs_notebook.drift.ecdf_kernels import pair_statistics

        ks, distance = pair_statistics(self.reference.values, self.current)
        return float(ks), float(distance)


class WindowedPairs(SortedPair):
    """Every window of one column against the same sorted reference, in one compiled pass.

    ``values`` holds the windows' sorted finite values one after the other (window i in
    ``values[bounds[i]:bounds[i + 1]]``). The results equal :class:`SortedPair` window by
    window (the tests check it); an empty window gives NaN.
    """

    def __init__(self, reference: SortedReference, values: np.ndarray, bounds: np.ndarray) -> None:
        super().__init__(reference, values)
        self.bounds = np.ascontiguousarray(bounds, dtype=np.int64)
        self.m = np.diff(self.bounds)  # per window
        self.windows = len(self.m)

    @cached_property
    def _statistics(self) -> tuple[Any, ...]:
        from mlobs_notebook.drift.ecdf_kernels import windowed_statistics

        ref = self.reference
        found: tuple[Any, ...] = windowed_statistics(ref.values, ref.coarse, ref.cumulative_integral, self.current, self.bounds)
        return found


class ConsecutivePairs(_Comparison):
    """Each window against the window before it (W - 1 pairs), laid out as in WindowedPairs."""

    def __init__(self, values: np.ndarray, bounds: np.ndarray) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.bounds = np.ascontiguousarray(bounds, dtype=np.int64)
        sizes = np.diff(self.bounds)
        self.n, self.m = sizes[:-1], sizes[1:]  # earlier and later window of each pair

    @cached_property
    def _statistics(self) -> tuple[Any, ...]:
        from mlobs_notebook.drift.ecdf_kernels import consecutive_statistics

        found: tuple[Any, ...] = consecutive_statistics(self.values, self.bounds)
        return found

    @property
    def reference_std(self) -> np.ndarray:
        """The earlier window's standard deviation (ddof 0), per pair."""
        return np.asarray(self._statistics[2])


class ComputedPairs(_Comparison):
    """Comparisons whose KS statistic and Wasserstein distance were computed elsewhere (the Spark
    engine's distributed sort or its quantile sketches), per window, with the sample sizes (``n``
    the reference's, ``m`` the window's) and the reference's standard deviation (ddof 0)."""

    def __init__(self, ks: np.ndarray, distance: np.ndarray, n: np.ndarray, m: np.ndarray, reference_std: np.ndarray) -> None:
        self._statistics = (np.asarray(ks, dtype=np.float64), np.asarray(distance, dtype=np.float64))
        self.n = np.asarray(n, dtype=np.float64)
        self.m = np.asarray(m, dtype=np.float64)
        self.reference_std = np.asarray(reference_std, dtype=np.float64)
