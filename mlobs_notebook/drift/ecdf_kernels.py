"""Compiled loops behind ``ecdf.py``: KS and Wasserstein from merges of sorted samples.

CDF differences are kept in integers, ``n m |F_ref - F_cur| = |i m - j n|`` with ``i`` and ``j``
the counts of each side up to a value, so the KS statistic has no rounding before its final
division; the Wasserstein distance sums those integers times the gaps between merged values.
Inputs are float64, finite and sorted (per window where there are windows); the callers in
``ecdf.py`` make sure of it.
"""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift._jit import compiled

__all__ = ["GROUP", "consecutive_statistics", "pair_statistics", "windowed_statistics"]


@compiled
def pair_statistics(reference, current):  # pragma: no cover - compiled
    """(KS statistic, Wasserstein distance) of two sorted samples; NaN if either is empty.

    One merge of the two samples. The CDFs are steps, so the KS sup is reached at the end of a
    run of tied values (inside a run the counts are partial) and |F_ref - F_cur| is constant
    between neighbouring distinct merged values; inside a run the width is 0, so one merged
    value per step will do. The step is written without data-dependent branches (selects
    instead), which a merge of random data would mispredict half the time.
    """
    n, m = len(reference), len(current)
    if n == 0 or m == 0:
        return np.nan, np.nan
    i = j = 0
    largest = 0
    total = 0.0
    previous = min(reference[0], current[0])
    previous_gap = 0
    for _ in range(n + m):
        r = reference[i] if i < n else np.inf
        c = current[j] if j < m else np.inf
        take = r <= c
        x = r if take else c
        # the previous value ended a run of ties iff this one differs
        largest = max(largest, previous_gap if x != previous else 0)
        total += (x - previous) * previous_gap
        i += take
        j += 1 - take
        previous, previous_gap = x, abs(i * m - j * n)
    scale = float(n) * float(m)
    return largest / scale, total / scale


@compiled
def consecutive_statistics(values, bounds):  # pragma: no cover - compiled
    """KS, Wasserstein and the earlier window's std (ddof 0) for each window against the one
    before it; window w is ``values[bounds[w]:bounds[w + 1]]``, sorted."""
    pairs = max(len(bounds) - 2, 0)
    ks = np.full(pairs, np.nan)
    distance = np.full(pairs, np.nan)
    std = np.full(pairs, np.nan)
    for w in range(pairs):
        earlier = values[bounds[w] : bounds[w + 1]]
        later = values[bounds[w + 1] : bounds[w + 2]]
        if len(earlier) > 0:
            mean = earlier.sum() / len(earlier)
            spread = 0.0
            for v in earlier:
                spread += (v - mean) * (v - mean)
            std[w] = np.sqrt(spread / len(earlier))
        statistic, moved = pair_statistics(earlier, later)
        ks[w], distance[w] = statistic, moved
    return ks, distance, std


# The reference is searched on two levels: ``coarse`` holds the last value of every GROUP
# values, small enough to stay in the core's cache; then one group of the reference itself is
# compared with the value, about one cache line. Each level's comparisons are a few vector
# instructions, cheaper than the dependent probes of a binary search.
GROUP = 8
_STRIDE = 16  # coarse values compared per step
# Reference values per block of the block-major sweep (see windowed_statistics).
_BLOCK = 4096


@compiled
def _count_at_most(reference, coarse, x, low):  # pragma: no cover - compiled
    """(count of reference values <= x, count of coarse values <= x), knowing the latter is
    at least ``low``: searches for increasing x resume where the last one stopped."""
    size = len(coarse)
    while low + _STRIDE <= size and coarse[low + _STRIDE - 1] <= x:
        low += _STRIDE
    count = 0
    for t in range(low, min(low + _STRIDE, size)):
        count += coarse[t] <= x
    low += count
    base = low * GROUP  # every value of the groups before is <= x
    count = 0
    for t in range(base, min(base + GROUP, len(reference))):
        count += reference[t] <= x
    return base + count, low


@compiled
def _integral_at(reference, integral, x, at_most):  # pragma: no cover - compiled
    """Integral of the reference CDF from -inf to x, given the count of reference values <= x."""
    if at_most == 0:
        return 0.0
    k = at_most - 1
    return integral[k] + at_most / len(reference) * (x - reference[k])


@compiled
def _crossing(count, n, m):  # pragma: no cover - compiled
    """ceil(count n / m) - 1, the reference index where F_ref first reaches count / m: a float
    estimate corrected in integers (a 64-bit integer division per value costs more)."""
    target = count * n
    at = int(count * (n / m)) - 1
    while (at + 1) * m < target:
        at += 1
    while at > 0 and at * m >= target:
        at -= 1
    return at


@compiled
def windowed_statistics(reference, coarse, integral, values, bounds):  # pragma: no cover - compiled
    """KS and Wasserstein of every window against one large sorted reference.

    ``coarse`` is ``reference[GROUP - 1::GROUP]`` and ``integral[k]`` the integral of the
    reference CDF up to ``reference[k]``. Each window's distinct values are located in the
    reference by searches that resume where the last one stopped (no merge with the whole
    reference); between two of them F_cur is a constant c, and the integral of |F_ref - c|
    comes from ``integral`` split where F_ref crosses c.

    The sweep is block-major: for each block of the reference, every window's values that fall
    in it, each window resuming where it stopped, so the block stays in the core's cache.
    Window by window, every window would stream the whole reference from memory.
    """
    n = len(reference)
    windows = len(bounds) - 1
    ks = np.full(windows, np.nan)
    distance = np.full(windows, np.nan)
    if n == 0:
        return ks, distance
    # per window: next value, coarse count <= the last distinct value, that value, the
    # reference integral there, current count <= it, the KS maximum and the running integral
    position = bounds[:-1].copy()
    low = np.zeros(windows, dtype=np.int64)
    last = np.zeros(windows)
    last_integral = np.zeros(windows)
    last_count = np.zeros(windows, dtype=np.int64)
    largest = np.zeros(windows, dtype=np.int64)
    result = np.zeros(windows)
    for block_end in range(_BLOCK, n + _BLOCK, _BLOCK):
        # a value below reference[block_end] has its count <= in this block
        limit = reference[block_end] if block_end < n else np.inf
        for w in range(windows):
            k, end = position[w], bounds[w + 1]
            if k >= end or values[k] >= limit:
                continue
            start, m = bounds[w], end - bounds[w]
            coarse_low, a, g_a, c_count = low[w], last[w], last_integral[w], last_count[w]
            top, total = largest[w], result[w]
            while k < end and values[k] < limit:
                x = values[k]
                below_cur = k - start
                while k < end and values[k] == x:
                    k += 1
                at_most_cur = k - start
                below_coarse = coarse_low  # coarse values <= the previous value: all < x
                at_most_ref, coarse_low = _count_at_most(reference, coarse, x, coarse_low)
                below_ref = at_most_ref
                if at_most_ref > 0 and reference[at_most_ref - 1] == x:
                    # values < x are the values <= the float just below x
                    below_ref, _ = _count_at_most(reference, coarse, np.nextafter(x, -np.inf), below_coarse)
                top = max(top, abs(at_most_cur * n - at_most_ref * m), abs(below_cur * n - below_ref * m))
                g_x = _integral_at(reference, integral, x, at_most_ref)
                if below_cur == 0:
                    total = g_x  # F_cur = 0 before the window's first value
                else:
                    # F_cur = c on [a, x): |F_ref - c| integrates to c (t - a) - (G(t) - G(a))
                    # + (G(x) - G(t)) - c (x - t), with t where F_ref first reaches c
                    at = _crossing(c_count, n, m)
                    t = reference[at]
                    g_t = integral[at]
                    if t >= x:
                        t, g_t = x, g_x
                    elif t <= a:
                        t, g_t = a, g_a
                    total += c_count / m * (2 * t - a - x) + (g_a + g_x - 2 * g_t)
                a, g_a, c_count = x, g_x, at_most_cur
            position[w], low[w], last[w], last_integral[w], last_count[w] = k, coarse_low, a, g_a, c_count
            largest[w], result[w] = top, total
    for w in range(windows):
        m = bounds[w + 1] - bounds[w]
        if m > 0:
            # F_cur = 1 after the window's last value
            distance[w] = result[w] + (reference[n - 1] - last[w]) - (integral[n - 1] - last_integral[w])
            ks[w] = largest[w] / (float(n) * float(m))
    return ks, distance
