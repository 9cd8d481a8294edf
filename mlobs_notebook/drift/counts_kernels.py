"""Compiled per-window counts of a numeric column held in memory: bins and moments in one pass.

The same rules as the polars expressions of ``counts.py`` (the streaming path), which the tests
hold this to: a value on an edge goes to the upper bin, -inf to the first bin, +inf to the last
value bin, NaN and null (read as NaN) to the missing bin after it; moments over finite values
only, ``std`` with ddof 1 (NaN below two values), NaN statistics for a window with no finite
value.
"""

from __future__ import annotations

import numpy as np

from mlobs_notebook.drift._jit import compiled

__all__ = ["window_counts"]


@compiled
def window_counts(values, bounds, edges):  # pragma: no cover - compiled
    """Window w is ``values[bounds[w]:bounds[w + 1]]`` (any order within it).

    Returns (bin counts ``(W, len(edges) + 2)``, missing, non-finite, mean, std, min, max),
    each per window.
    """
    windows = len(bounds) - 1
    missing_bin = len(edges) + 1
    bins = np.zeros((windows, len(edges) + 2), dtype=np.int64)
    missing = np.zeros(windows, dtype=np.int64)
    non_finite = np.zeros(windows, dtype=np.int64)
    mean = np.full(windows, np.nan)
    std = np.full(windows, np.nan)
    low = np.full(windows, np.nan)
    high = np.full(windows, np.nan)
    for w in range(windows):
        total = 0.0
        finite = 0
        smallest, largest = np.inf, -np.inf
        for k in range(bounds[w], bounds[w + 1]):
            x = values[k]
            if np.isnan(x):
                bins[w, missing_bin] += 1
                missing[w] += 1
                non_finite[w] += 1
                continue
            index = 0
            for edge in edges:
                index += x >= edge
            bins[w, index] += 1
            if np.isinf(x):
                non_finite[w] += 1
                continue
            total += x
            finite += 1
            smallest = min(smallest, x)
            largest = max(largest, x)
        if finite == 0:
            continue
        mean[w] = total / finite
        low[w], high[w] = smallest, largest
        if finite > 1:
            spread = 0.0
            for k in range(bounds[w], bounds[w + 1]):
                x = values[k]
                if np.isfinite(x):
                    spread += (x - mean[w]) * (x - mean[w])
            std[w] = np.sqrt(spread / (finite - 1))
    return bins, missing, non_finite, mean, std, low, high
