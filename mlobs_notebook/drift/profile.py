"""The baseline profile: fitted once on the training data, applied to every window.

Like a scikit-learn estimator, ``__init__`` stores parameters and ``fit`` sets the fitted state
(names ending in ``_``): kinds, bin edges at the baseline's quantiles, bin and category counts,
the sorted finite values the exact tests compare against, and per-column moments.

The baseline is held in memory (its sorted values are what KS and Wasserstein need). A baseline
LazyFrame is collected with the streaming engine, selecting only the profiled columns; for a
baseline too large for that, fit on a sample.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.counts import count_frame
from mlobs_notebook.drift.ecdf import SortedReference, sorted_quantiles
from mlobs_notebook.drift.kinds import as_polars, check_kinds, infer_kind, is_whole
from mlobs_notebook.drift.windows import WINDOW
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["BaselineProfile", "fit_baseline", "interior_edges"]


def interior_edges(sorted_values: np.ndarray, bins: int) -> np.ndarray:
    """Edges between the ``bins`` quantile bins of sorted finite values.

    Where quantiles collapse onto one value (a constant column, heavy ties at the bottom or the
    top), the edges would merge that value with its neighbours and a move either way could stay
    inside one bin. So every value holding at least 1/``bins`` of the values gets a bin of its
    own, ``[v, v+)`` with ``v+`` the next float above ``v``: a constant column has three bins
    (below, equal, above). The outer bins are open to -inf and +inf, so every current value
    falls in some bin.
    """
    n = len(sorted_values)
    if n == 0:
        return np.zeros(0)
    edges = np.unique(sorted_quantiles(sorted_values, np.arange(1, bins) / bins))
    ties = np.searchsorted(sorted_values, edges, side="right") - np.searchsorted(sorted_values, edges, side="left")
    heavy = edges[ties * bins >= n]
    return np.unique(np.concatenate([edges, np.nextafter(heavy, np.inf)]))


class BaselineProfile:
    """What drift compares every window against. Build it with :func:`fit_baseline`."""

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        bins: int = 10,
    ) -> None:
        self.columns = columns
        self.kinds = kinds
        self.bins = bins

    def fit(self, frame: Any, *, exclude: Sequence[str] = ()) -> BaselineProfile:
        if not isinstance(self.bins, int) or self.bins < 1:
            raise InputError(f"bins must be a positive integer, not {self.bins!r}")
        data = as_polars(frame, "baseline")
        schema = data.collect_schema()
        columns = list(self.columns) if self.columns is not None else [
            c for c in schema.names() if c not in exclude
        ]
        missing = [c for c in columns if c not in schema]
        if missing:
            raise UnknownColumn(
                f"column(s) {', '.join(map(repr, missing))} not in the baseline. "
                f"Columns: {', '.join(schema.names())}"
            )
        overrides = check_kinds(self.kinds, schema)
        if isinstance(data, pl.LazyFrame):
            data = data.select(columns).collect(engine="streaming")
        else:
            data = data.select(columns)
        whole = _whole_floats(data, [c for c in columns if schema[c].is_float() and c not in overrides])
        integer = [c for c in columns if (schema[c].is_integer() or c in whole) and c not in overrides]
        distinct = _distinct_counts(data, integer, whole)
        self.kinds_: dict[str, str] = {}
        self.skipped_: dict[str, str] = {}
        for c in columns:
            kind = overrides.get(c) or infer_kind(schema[c], distinct.get(c), c in whole)
            if kind is None:
                self.skipped_[c] = f"type {schema[c]} is neither numeric nor categorical"
            else:
                self.kinds_[c] = kind
        self.columns_ = list(self.kinds_)
        self.dtypes_ = {c: schema[c] for c in self.columns_}
        self.n_rows_ = data.height
        numeric = [c for c in self.columns_ if self.kinds_[c] == "numeric"]
        categorical = [c for c in self.columns_ if self.kinds_[c] == "categorical"]
        self.references_: dict[str, SortedReference] = {}
        self.edges_: dict[str, np.ndarray] = {}

        def sorted_finite(column: str) -> tuple[np.ndarray, int, int]:
            return finite_slice(np.sort(data[column].cast(pl.Float64).to_numpy()))

        # numpy sorts release the GIL: one column per core
        infinities = {}
        with ThreadPoolExecutor(max_workers=max(1, min(len(numeric), os.cpu_count() or 1))) as pool:
            for c, (values, low, high) in zip(numeric, pool.map(sorted_finite, numeric), strict=True):
                self.references_[c] = SortedReference(values)
                self.edges_[c] = interior_edges(values, self.bins)
                infinities[c] = (low, high)
        counts = count_frame(
            data.lazy().with_columns(pl.lit(0, dtype=pl.Int32).alias(WINDOW)), 1, {}, categorical, streaming=False
        )
        for c in numeric:
            # The sorted values give the bins (count below each edge, the same rule as the
            # current side's: a value on an edge goes to the upper bin) and the moments.
            values = self.references_[c].values
            below = np.searchsorted(values, self.edges_[c], side="left")
            reaching = np.diff(np.concatenate([[0], below, [len(values)]]))
            reaching[0] += infinities[c][0]
            reaching[-1] += infinities[c][1]
            missing = data.height - len(values) - sum(infinities[c])  # null and NaN
            nan = missing - data[c].null_count()
            counts.numeric[c] = np.append(reaching, missing).astype(np.int64)[None, :]
            counts.moments[c] = {
                "missing": np.array([missing], dtype=np.float64),
                "non_finite": np.array([nan + sum(infinities[c])], dtype=np.float64),
                "mean": np.array([values.mean() if len(values) else np.nan]),
                "std": np.array([values.std(ddof=1) if len(values) > 1 else np.nan]),
                "min": np.array([values[0] if len(values) else np.nan]),
                "max": np.array([values[-1] if len(values) else np.nan]),
            }
        self.counts_ = counts
        # Categories ordered by baseline frequency, most frequent first (then by value).
        self.categories_: dict[str, list[str]] = {}
        for c in categorical:
            found = counts.categorical[c]
            order = sorted(range(len(found.values)), key=lambda i: (-found.matrix[0, i], found.values[i]))
            self.categories_[c] = [found.values[i] for i in order]
        return self

    @property
    def profile_(self) -> pl.DataFrame:
        """One row per column: count, nulls, non-finite, mean, std, min, max, quantiles."""
        rows = []
        for c in self.columns_:
            moments = self.counts_.moments[c]
            row: dict[str, Any] = {
                "column_name": c,
                "kind": self.kinds_[c],
                "data_type": str(self.dtypes_[c]),
                "count": self.n_rows_,
                "null_count": int(moments["missing"][0]),
                "non_finite_count": int(moments["non_finite"][0]),
            }
            for stat in ("mean", "std", "min", "max"):
                row[stat] = float(moments[stat][0]) if stat in moments else None
            values = self.references_[c].values if c in self.references_ else np.zeros(0)
            for q in QUANTILES:
                row[f"p{round(q * 100):02d}"] = float(sorted_quantiles(values, [q])[0]) if len(values) else None
            rows.append(row)
        return pl.DataFrame(rows, schema=PROFILE_SCHEMA)

    def bin_edges(self, column: str) -> np.ndarray:
        """All edges of a numeric column's bins, -inf and +inf included."""
        return np.concatenate([[-np.inf], self.edges_[column], [np.inf]])

    def __repr__(self) -> str:
        if not hasattr(self, "columns_"):
            return f"BaselineProfile(bins={self.bins}) (not fitted)"
        kinds = {k: sum(v == k for v in self.kinds_.values()) for k in ("numeric", "categorical")}
        return (
            f"BaselineProfile({self.n_rows_} rows, {kinds['numeric']} numeric and "
            f"{kinds['categorical']} categorical columns, bins={self.bins})"
        )


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
PROFILE_SCHEMA = {
    "column_name": pl.String,
    "kind": pl.String,
    "data_type": pl.String,
    "count": pl.Int64,
    "null_count": pl.Int64,
    "non_finite_count": pl.Int64,
    "mean": pl.Float64,
    "std": pl.Float64,
    "min": pl.Float64,
    "max": pl.Float64,
    **{f"p{round(q * 100):02d}": pl.Float64 for q in QUANTILES},
}


def finite_slice(values: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(finite values, count of -inf, count of +inf) of a sorted array: numpy sorts -inf first,
    +inf then NaN (nulls read as NaN) last, so the finite values are one slice, no mask or copy."""
    low = int(np.searchsorted(values, -np.inf, side="right"))
    start = int(np.searchsorted(values, np.inf, side="left"))
    end = int(np.searchsorted(values, np.inf, side="right"))
    return values[low:start], low, end - start


def _whole_floats(data: pl.DataFrame, floats: list[str]) -> set[str]:
    """The float columns whose values are all whole numbers (integer codes stored as floats)."""
    if not floats:
        return set()
    found = data.select(is_whole(c).alias(c) for c in floats).row(0, named=True)
    return {c for c, whole in found.items() if whole}


def _distinct_counts(data: pl.DataFrame, columns: list[str], floats: set[str]) -> dict[str, int]:
    """Distinct non-missing values per column (NaN is missing in a float column)."""
    if not columns:
        return {}
    exprs = [
        (pl.col(c).filter(pl.col(c).is_not_nan()) if c in floats else pl.col(c).drop_nulls()).n_unique().alias(c)
        for c in columns
    ]
    return data.select(exprs).row(0, named=True)


def fit_baseline(
    frame: Any,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 10,
) -> BaselineProfile:
    """Fit the baseline profile once; pass it to :func:`compute_drift` for every window."""
    return BaselineProfile(columns=columns, kinds=kinds, bins=bins).fit(frame)
