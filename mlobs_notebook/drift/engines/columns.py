"""The numeric columns of a windowed frame, in memory and in window order, for the local engine:
the compiled counting pass (``counts_kernels.py``) and each window's sorted values."""

from __future__ import annotations

import numpy as np
import polars as pl

from mlobs_notebook.drift.windows import WINDOW

__all__ = ["NumericColumns"]


class NumericColumns:
    """The numeric columns of the windowed frame, in memory and in window order.

    The frame is ordered by window once (shared by every column), so window i is the slice
    ``bounds[i]:bounds[i + 1]`` of every column.
    """

    def __init__(self, framed: pl.LazyFrame, numeric: list[str], windows: int, streaming: bool) -> None:
        self.data = framed.select(WINDOW, *numeric).collect(engine="streaming" if streaming else "auto")
        self.windows = windows
        window = self.data[WINDOW].to_numpy()
        # in-memory windowed frames arrive sorted by window (see compute_drift): no reordering
        unsorted = windows > 1 and bool(np.any(window[1:] < window[:-1]))
        self.order = np.argsort(window, kind="stable") if unsorted else None
        self.window = window[self.order] if self.order is not None else window
        self.bounds = np.searchsorted(self.window, np.arange(windows + 1)).astype(np.int64)

    def values(self, column: str) -> np.ndarray:
        """The column as float64 in window order (null as NaN), a copy the caller may sort."""
        values = self.data[column].cast(pl.Float64).to_numpy()
        # a copy either way: polars may lend its own (read-only) memory
        return values[self.order] if self.order is not None else np.array(values)

    def counts(self, column: str, values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(bin counts (W, bins + 1), moments) of the column, as ``counts.count_frame`` gives."""
        from mlobs_notebook.drift.counts_kernels import window_counts

        bins, missing, non_finite, mean, std, low, high = window_counts(values, self.bounds, edges)
        series = self.data[column]
        if series.null_count():  # nulls read as NaN: missing, but not non-finite
            null = series.is_null().to_numpy()
            if self.order is not None:
                null = null[self.order]
            non_finite = non_finite - np.bincount(self.window[null], minlength=self.windows)
        moments = {"missing": missing, "non_finite": non_finite, "mean": mean, "std": std, "min": low, "max": high}
        return bins, {k: v.astype(np.float64) for k, v in moments.items()}

    def segments(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, bounds): every window's finite values, sorted within the window and laid end
        to end (window i in ``values[bounds[i]:bounds[i + 1]]``).

        Each window's slice of ``values`` is sorted in place (numpy's vectorised sort, ~10 ms
        for 1M values in all); -inf, +inf and NaN (null) are dropped.
        """
        for start, end in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            values[start:end].sort()
        keep = np.isfinite(values)
        if keep.all():
            return values, self.bounds
        bounds = np.zeros(self.windows + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.window[keep], minlength=self.windows), out=bounds[1:])
        return values[keep], bounds
