"""Exact empirical CDF comparisons of sorted samples.

One pair (:class:`SortedPair`): the two sorted samples are merged in one pass (a stable
argsort of the two runs) and the KS statistic and the Wasserstein distance read off the
cumulative counts of each side. Many windows against one large fixed baseline
(:class:`WindowedPairs`): the positions of each window's distinct values in the sorted baseline
(one ``np.searchsorted`` for all windows), in whole-array operations. Both equal scipy's
results; the tests hold them to 1e-9.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

__all__ = ["SortedPair", "SortedReference", "WindowedPairs", "sorted_quantiles"]


def sorted_quantiles(values: np.ndarray, quantiles: np.ndarray | list[float]) -> np.ndarray:
    """np.quantile's default (linear) method on already sorted values, without re-partitioning."""
    q = np.asarray(quantiles, dtype=np.float64)
    if len(values) == 0:
        return np.full(q.shape, np.nan)
    position = q * (len(values) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(values) - 1)
    fraction = position - low
    return values[low] + (values[high] - values[low]) * fraction


class SortedReference:
    """A sorted sample plus what every comparison against it reuses (fit once per baseline)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.float64)
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
    def std(self) -> float:
        return float(np.std(self.values)) if self.n else float("nan")

    def integral_at(self, x: np.ndarray, le: np.ndarray) -> np.ndarray:
        """Integral of the reference CDF from -inf to x, given le = count of values <= x."""
        k = np.maximum(le - 1, 0)
        g = self.cumulative_integral[k] + le / self.n * (x - self.values[k])
        return np.where(le > 0, g, 0.0)


class SortedPair:
    """A reference and a current sample, both sorted, finite and non-null."""

    def __init__(self, reference: SortedReference | np.ndarray, current: np.ndarray) -> None:
        if not isinstance(reference, SortedReference):
            reference = SortedReference(reference)
        self.reference = reference
        self.current = np.asarray(current, dtype=np.float64)
        self.n = reference.n
        self.m = len(self.current)

    @property
    def empty(self) -> bool:
        return self.n == 0 or self.m == 0

    @cached_property
    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        """Both samples merged in order, and at each merged value n*m |F_ref - F_cur| there.

        A stable argsort of the two sorted runs laid end to end is timsort's single merge (one
        pass, cheaper than a binary search of every current value in the reference); the counts
        of each side up to a position are then a cumulative sum of "came from the current".
        Integers until the last step, so no rounding in the CDF differences.
        """
        both = np.concatenate([self.reference.values, self.current])
        order = np.argsort(both, kind="stable")
        merged = both[order]
        # with k values up to a position, le_ref = k - le_cur, so
        # n m |F_ref - F_cur| = |(k - le_cur) m - le_cur n| = |le_cur (n + m) - k m|
        gap = np.cumsum(order >= self.n)
        gap *= self.n + self.m
        gap -= np.arange(self.m, self.m * (len(order) + 1), self.m, dtype=np.int64)
        np.abs(gap, out=gap)
        return merged, gap

    def ks_statistic(self) -> float:
        """sup |F_ref - F_cur|: both CDFs are steps, so the sup is at the last of a run of tied
        merged values (inside a run the counts are partial)."""
        if self.empty:
            return float("nan")
        merged, gap = self._merged
        last = np.empty(len(merged), dtype=bool)
        np.not_equal(merged[1:], merged[:-1], out=last[:-1])
        last[-1] = True
        return float(np.max(gap, where=last, initial=0) / (self.n * self.m))

    def wasserstein(self) -> float:
        """Integral of |F_ref - F_cur| over the real line (the 1-Wasserstein distance): the
        difference is constant between neighbouring merged values (zero width inside ties)."""
        if self.empty:
            return float("nan")
        merged, gap = self._merged
        widths = np.diff(merged)
        widths *= gap[:-1]  # not np.dot: BLAS threads would spin on every small window
        return float(widths.sum() / (self.n * self.m))


class WindowedPairs:
    """Every window of one column against the same sorted reference, in whole-array operations.

    ``values`` holds the windows' sorted finite values one after the other (window i in
    ``values[bounds[i]:bounds[i + 1]]``) and ``ranks`` the count of reference values <= each.
    The results equal :class:`SortedPair` window by window (the tests check it), without a
    Python loop over windows.
    """

    def __init__(
        self, reference: SortedReference, values: np.ndarray, ranks: np.ndarray, bounds: np.ndarray
    ) -> None:
        self.reference = reference
        self.values = values
        self.ranks = ranks
        self.n = reference.n
        self.m = np.diff(bounds)  # per window
        self.windows = len(self.m)
        self.bounds = bounds

    @property
    def empty(self) -> np.ndarray:
        return (self.m == 0) | (self.n == 0)

    @cached_property
    def _distinct(self) -> tuple[np.ndarray, ...]:
        """Per distinct value of each window: value, window, counts of current and reference
        values <= it, and the current count strictly below it."""
        v = self.values
        window = np.repeat(np.arange(self.windows), self.m)
        last = np.ones(len(v), dtype=bool)
        last[:-1] = (v[1:] != v[:-1]) | (window[1:] != window[:-1])
        if last.all():  # the common case for continuous data: no ties, no gathers
            idx, u, w, ranks = np.arange(len(v)), v, window, self.ranks
        else:
            idx = np.flatnonzero(last)
            u, w, ranks = v[idx], window[idx], self.ranks[idx]
        le_cur = idx - self.bounds[w] + 1
        lt_cur = np.zeros_like(le_cur)
        same = w[1:] == w[:-1]
        lt_cur[1:] = np.where(same, le_cur[:-1], 0)
        return u, w, le_cur, lt_cur, ranks

    def _per_window(self, values: np.ndarray, window: np.ndarray, reduce: np.ufunc) -> np.ndarray:
        out = np.full(self.windows, np.nan)
        if len(values) == 0:
            return out
        starts = np.flatnonzero(np.append(True, window[1:] != window[:-1]))
        out[window[starts]] = reduce.reduceat(values, starts)
        return out

    def ks_statistic(self) -> np.ndarray:
        if self.n == 0:
            return np.full(self.windows, np.nan)
        u, w, le_cur, lt_cur, le_ref = self._distinct
        ref = self.reference.values
        lt_ref = le_ref
        tied = (le_ref > 0) & (ref[np.maximum(le_ref - 1, 0)] == u)
        if tied.any():
            lt_ref = le_ref.copy()
            lt_ref[tied] = np.searchsorted(ref, u[tied], side="left")
        m = self.m[w]
        # max(|le_cur n - le_ref m|, |lt_cur n - lt_ref m|), in place
        gap = le_cur * self.n
        gap -= le_ref * m
        np.abs(gap, out=gap)
        left = lt_cur * self.n
        left -= lt_ref * m
        np.abs(left, out=left)
        np.maximum(gap, left, out=gap)
        return self._per_window(gap / (self.n * m), w, np.maximum)

    def wasserstein(self) -> np.ndarray:
        if self.n == 0:
            return np.full(self.windows, np.nan)
        u, w, le_cur, _, le_ref = self._distinct
        if len(u) == 0:
            return np.full(self.windows, np.nan)
        ref = self.reference
        r, n, total = ref.values, self.n, ref.cumulative_integral[-1] if ref.n else 0.0
        g_u = ref.integral_at(u, le_ref)
        first = np.append(True, w[1:] != w[:-1])
        final = np.append(w[1:] != w[:-1], True)
        result = np.full(self.windows, np.nan)
        result[w[first]] = g_u[first]  # F_cur = 0 before a window's first value
        result[w[final]] += (r[-1] - u[final]) - (total - g_u[final])  # F_cur = 1 after its last
        # Every pair of neighbouring values, window ends included (their piece is zeroed):
        # views instead of masked copies keep this to a few passes over the arrays.
        a, b, ga, gb = u[:-1], u[1:], g_u[:-1], g_u[1:]
        counts, m = le_cur[:-1], self.m[w[:-1]]
        # In place: each temporary is a pass over ~all current values.
        at = counts * n  # index of the crossing, ceil(counts n / m) - 1
        at += m
        at -= 1
        at //= m
        at -= 1
        t = r[at]
        g_t = ref.cumulative_integral[at]
        np.copyto(g_t, gb, where=t >= b)
        np.copyto(g_t, ga, where=t <= a)
        np.maximum(t, a, out=t)
        np.minimum(t, b, out=t)
        # c (t - a) - (g_t - ga) + (gb - g_t) - c (b - t), with c = counts / m
        t *= 2
        t -= a
        t -= b
        t *= counts / m
        g_t *= -2
        g_t += ga
        g_t += gb
        pieces = t
        pieces += g_t
        pieces[final[:-1]] = 0.0
        result += np.bincount(w[:-1], weights=pieces, minlength=self.windows)
        return result
