"""Exact empirical CDF comparisons of two sorted samples without merging them.

The baseline is large and fixed, a window is small: the KS statistic and the Wasserstein
distance are computed from the positions of the window's distinct values in the sorted baseline
(one ``np.searchsorted``), so each window costs O(m log n) instead of the O((n + m) log(n + m))
merge that scipy does per call. Both equal scipy's results; the tests hold them to 1e-9.
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

    def __init__(
        self,
        reference: SortedReference | np.ndarray,
        current: np.ndarray,
        ranks: np.ndarray | None = None,
    ) -> None:
        """``ranks``, if known, is the count of reference values <= each current value."""
        if not isinstance(reference, SortedReference):
            reference = SortedReference(reference)
        self.reference = reference
        self.current = np.asarray(current, dtype=np.float64)
        self.n = reference.n
        self.m = len(self.current)
        self._ranks = ranks

    @property
    def empty(self) -> bool:
        return self.n == 0 or self.m == 0

    @property
    def reference_std(self) -> float:
        return self.reference.std

    @cached_property
    def _distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct current values u, and the counts of current and reference values <= u."""
        cur = self.current
        new = cur[1:] != cur[:-1]
        if new.all():  # the common case for continuous data: no ties to collapse
            u, le_cur, last = cur, np.arange(1, self.m + 1), None
        else:
            last = np.flatnonzero(np.append(new, True))
            u, le_cur = cur[last], last + 1
        if self._ranks is None:
            le_ref = np.searchsorted(self.reference.values, u, side="right")
        else:
            le_ref = self._ranks if last is None else self._ranks[last]
        return u, le_cur, np.append(0, le_cur[:-1]), le_ref

    def ks_statistic(self) -> float:
        """sup |F_ref - F_cur|, attained at a distinct current value or just before it."""
        if self.empty:
            return float("nan")
        u, le_cur, lt_cur, le_ref = self._distinct
        ref = self.reference.values
        lt_ref = le_ref.copy()
        # Ties between the samples: the left limit needs the count strictly below u.
        tied = (le_ref > 0) & (ref[np.maximum(le_ref - 1, 0)] == u)
        if tied.any():
            lt_ref[tied] = np.searchsorted(ref, u[tied], side="left")
        # |a/m - b/n| = |a*n - b*m| / (n*m): integers, so no rounding until the last step
        right = np.abs(le_cur * self.n - le_ref * self.m).max()
        left = np.abs(lt_cur * self.n - lt_ref * self.m).max()
        return float(max(right, left) / (self.n * self.m))

    def wasserstein(self) -> float:
        """Integral of |F_ref - F_cur| over the real line (the 1-Wasserstein distance)."""
        if self.empty:
            return float("nan")
        u, le_cur, _, le_ref = self._distinct
        ref = self.reference
        r, n, m = ref.values, self.n, self.m
        g_u = ref.integral_at(u, le_ref)
        # Before the first current value F_cur = 0; after the last F_cur = 1.
        head = g_u[0]
        tail = (r[-1] - u[-1]) - (ref.cumulative_integral[-1] - g_u[-1])
        if len(u) == 1:
            return float(head + tail)
        # On [u_j, u_j+1) F_cur is c = le_cur_j / m; F_ref crosses c at most once, at the
        # reference value of rank ceil(c * n), found in integers to avoid rounding.
        a, b = u[:-1], u[1:]
        ga, gb = g_u[:-1], g_u[1:]
        counts = le_cur[:-1]
        c = counts / m
        rank = (counts * n + m - 1) // m
        t = r[rank - 1]
        g_t = np.where(t <= a, ga, np.where(t >= b, gb, ref.cumulative_integral[rank - 1]))
        t = np.clip(t, a, b)
        below = c * (t - a) - (g_t - ga)
        above = (gb - g_t) - c * (b - t)
        return float(head + np.sum(below + above) + tail)


def _segment_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sum of each segment values[bounds[i]:bounds[i + 1]] (0 for an empty one)."""
    totals = np.concatenate([[0.0], np.cumsum(values)])
    return totals[bounds[1:]] - totals[bounds[:-1]]


class WindowedPairs:
    """Every window of one column against its reference, in whole-array operations.

    ``values`` holds the windows' sorted finite values one after the other (window i in
    ``values[bounds[i]:bounds[i + 1]]``) and ``ranks`` the count of values of window i's
    reference that are <= each. References are laid out the same way (``reference_bounds``):
    the baseline for every window (:meth:`against`), or the window before (:meth:`consecutive`).
    The results equal :class:`SortedPair` window by window (the tests check it against scipy),
    without a Python loop over windows.
    """

    def __init__(
        self,
        values: np.ndarray,
        ranks: np.ndarray,
        bounds: np.ndarray,
        reference: np.ndarray,
        reference_start: np.ndarray,
        reference_size: np.ndarray,
        cumulative: np.ndarray,
        reference_std: np.ndarray,
    ) -> None:
        self.values, self.ranks, self.bounds = values, ranks, bounds
        self.m = np.diff(bounds)
        self.windows = len(self.m)
        self.reference, self.start, self.n = reference, reference_start, reference_size
        self.cumulative = cumulative  # integral of each reference's CDF up to each of its values
        self.reference_std = reference_std

    @classmethod
    def against(
        cls, reference: SortedReference, values: np.ndarray, ranks: np.ndarray, bounds: np.ndarray
    ) -> WindowedPairs:
        """Every window against the same sorted baseline."""
        windows = len(bounds) - 1
        return cls(
            values, ranks, bounds, reference.values, np.zeros(windows, dtype=np.int64),
            np.full(windows, reference.n), reference.cumulative_integral, np.full(windows, reference.std),
        )

    @classmethod
    def consecutive(cls, values: np.ndarray, order: np.ndarray, bounds: np.ndarray) -> WindowedPairs:
        """Window i against window i - 1, for i >= 1. ``order`` ranks the values across all
        windows (equal values, equal order; sorted within each window like the values)."""
        windows = len(bounds) - 1
        # (pair, order) keys are sorted over the whole array, so one search finds, for every
        # value, how many values of the window before are <= it.
        window = np.repeat(np.arange(windows), np.diff(bounds))
        span = int(order.max()) + 2 if len(order) else 1
        as_reference = (window + 1) * span + order
        as_current = window * span + order
        later = slice(bounds[1], bounds[-1])
        ranks = np.searchsorted(as_reference, as_current[later], side="right") - bounds[:-2][window[later] - 1]
        sizes = np.diff(bounds)
        size = sizes[:-1]
        # Each window's CDF integral restarts at its first value (SortedReference, per segment).
        steps = np.zeros(len(values))
        position = np.arange(len(values)) - bounds[:-1][window]
        inner = np.flatnonzero(position > 0)
        steps[inner] = position[inner] / sizes[window[inner]] * (values[inner] - values[inner - 1])
        cumulative = np.cumsum(steps)
        cumulative -= cumulative[bounds[:-1][window]]
        sums = _segment_sums(values, bounds)[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / size
            deviations = (values[: bounds[-2]] - np.repeat(means, size)) ** 2
            std = np.sqrt(_segment_sums(deviations, bounds[:-1]) / size)
        return cls(
            values[later], ranks, bounds[1:] - bounds[1], values, bounds[:-2].copy(), size, cumulative, std
        )

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
        idx = np.flatnonzero(last)
        u, w = v[idx], window[idx]
        le_cur = idx - self.bounds[w] + 1
        lt_cur = np.zeros_like(le_cur)
        same = w[1:] == w[:-1]
        lt_cur[1:] = np.where(same, le_cur[:-1], 0)
        return u, w, le_cur, lt_cur, self.ranks[idx]

    def _per_window(self, values: np.ndarray, window: np.ndarray, reduce: np.ufunc) -> np.ndarray:
        out = np.full(self.windows, np.nan)
        if len(values) == 0:
            return out
        starts = np.flatnonzero(np.append(True, window[1:] != window[:-1]))
        out[window[starts]] = reduce.reduceat(values, starts)
        return out

    def _at(self, index: np.ndarray) -> np.ndarray:
        # An empty reference has no values to point at; its results are masked to NaN later.
        return np.minimum(index, len(self.reference) - 1)

    def _integral_at(self, x: np.ndarray, le: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Integral of window w's reference CDF from -inf to x, given le = its values <= x."""
        k = self._at(self.start[w] + np.maximum(le - 1, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            g = self.cumulative[k] + le / self.n[w] * (x - self.reference[k])
        return np.where(le > 0, g, 0.0)

    def ks_statistic(self) -> np.ndarray:
        u, w, le_cur, lt_cur, le_ref = self._distinct
        if len(u) == 0 or len(self.reference) == 0:
            return np.full(self.windows, np.nan)
        n, start, ref = self.n[w], self.start[w], self.reference
        lt_ref = le_ref.copy()
        tied = (le_ref > 0) & (ref[self._at(start + np.maximum(le_ref - 1, 0))] == u)
        for i in np.flatnonzero(tied):  # ties across the samples are rare: count them one by one
            lt_ref[i] = np.searchsorted(ref[start[i] : start[i] + n[i]], u[i], side="left")
        m = self.m[w]
        gap = np.maximum(np.abs(le_cur * n - le_ref * m), np.abs(lt_cur * n - lt_ref * m))
        with np.errstate(invalid="ignore", divide="ignore"):
            result = self._per_window(gap / (n * m), w, np.maximum)
        return np.where(self.n > 0, result, np.nan)

    def wasserstein(self) -> np.ndarray:
        u, w, le_cur, _, le_ref = self._distinct
        if len(u) == 0 or len(self.reference) == 0:
            return np.full(self.windows, np.nan)
        r, g_all = self.reference, self.cumulative
        g_u = self._integral_at(u, le_ref, w)
        first = np.append(True, w[1:] != w[:-1])
        final = np.append(w[1:] != w[:-1], True)
        last_ref = self._at(self.start + np.maximum(self.n - 1, 0))
        result = np.full(self.windows, np.nan)
        result[w[first]] = g_u[first]  # F_cur = 0 before a window's first value
        wf = w[final]
        result[wf] += (r[last_ref[wf]] - u[final]) - (g_all[last_ref[wf]] - g_u[final])  # F_cur = 1 after
        # Every pair of neighbouring values, window ends included (their piece is zeroed):
        # views instead of masked copies keep this to a few passes over the arrays.
        a, b, ga, gb = u[:-1], u[1:], g_u[:-1], g_u[1:]
        wa = w[:-1]
        counts, m, n = le_cur[:-1], self.m[wa], self.n[wa]
        rank = (counts * n + m - 1) // m
        k = self._at(self.start[wa] + np.maximum(rank - 1, 0))
        t = r[k]
        g_t = np.where(t <= a, ga, np.where(t >= b, gb, g_all[k]))
        t = np.minimum(np.maximum(t, a), b)
        # c (t - a) - (g_t - ga) + (gb - g_t) - c (b - t), with c = counts / m
        pieces = counts / m * (2 * t - a - b) + (ga + gb - 2 * g_t)
        pieces[final[:-1]] = 0.0
        result += np.bincount(wa, weights=pieces, minlength=self.windows)
        return np.where(self.n > 0, result, np.nan)
