"""The baseline profile: fitted once on the training data, applied to every window.

Like a scikit-learn estimator, ``__init__`` stores parameters and ``fit`` sets the fitted state
(names ending in ``_``): kinds, bin edges at the baseline's quantiles, bin and category counts,
per-column moments and quantiles, and the sorted finite values the exact tests compare against.

Memory: a baseline DataFrame is in memory already and its sorted values are kept. A baseline
LazyFrame is streamed: categories are counted by polars' streaming engine, numeric columns are
read a few at a time (about ``READ_BATCH_BYTES`` per read) and sorted one per core; their sorted
values are kept only while all of them fit in ``HELD_REFERENCE_BYTES``, and otherwise read
again, one column at a time, when the exact statistics need them (:meth:`BaselineProfile.reference`).
Peak memory is then about three times one column (the read, its sorted copy, the statistics'
prefix sums): 1.2 GB for 50M rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.counts import Counts, count_frame
from mlobs_notebook.drift.ecdf import SortedReference, sorted_quantiles
from mlobs_notebook.drift.kinds import (
    MAX_INTEGER_CATEGORIES,
    as_polars,
    check_kinds,
    infer_kind,
    is_whole,
)
from mlobs_notebook.drift.windows import WINDOW
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = [
    "HELD_REFERENCE_BYTES",
    "READ_BATCH_BYTES",
    "BaselineProfile",
    "NumericSummary",
    "fit_baseline",
    "interior_edges",
    "small_distinct_counts",
    "summarise",
]

# A streamed baseline keeps its numeric columns' sorted values while they fit in this much.
HELD_REFERENCE_BYTES = 1 << 30
# A streamed baseline's numeric columns are read this many bytes at a time (at least a column).
READ_BATCH_BYTES = 1 << 30


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
    """What drift compares every window against. Build it with :func:`fit_baseline`.

    Fitted state: ``kinds_``, ``dtypes_``, ``n_rows_``, ``edges_`` (interior bin edges of
    numeric columns), ``counts_`` (the baseline's bin and category counts and moments),
    ``categories_``, ``quantiles_`` (``QUANTILES`` of each numeric column), ``distinct_``
    (distinct finite values of each numeric column) and ``references_``: the sorted finite
    values of numeric columns, when held in memory (see :meth:`reference`).
    """

    # the Spark DataFrame a Spark-fitted profile came from (the Spark engine compares against it)
    spark_source_: Any = None
    # the LazyFrame a streamed profile reads its numeric columns from again (see reference)
    _source: pl.LazyFrame | None = None

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
        """Fit on a polars or pandas frame. A DataFrame is held in memory (it is already); a
        LazyFrame is streamed: its numeric columns are read a few at a time (about 1 GiB per
        read), each sorted once, and their sorted values kept only when all of them fit in
        ``HELD_REFERENCE_BYTES``; otherwise :meth:`reference` reads a column again when the
        exact statistics need it. Raises :class:`UnknownColumn` for a column not in the frame."""
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
        streaming = isinstance(data, pl.LazyFrame)
        lazy = data.lazy().select(columns)
        whole = _whole_floats(lazy, [c for c in columns if schema[c].is_float() and c not in overrides], streaming)
        integer = [c for c in columns if (schema[c].is_integer() or c in whole) and c not in overrides]
        distinct = small_distinct_counts(lazy, integer, streaming, whole)
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
        numeric = [c for c in self.columns_ if self.kinds_[c] == "numeric"]
        categorical = [c for c in self.columns_ if self.kinds_[c] == "categorical"]
        self.n_rows_ = _height(data)
        counts = count_frame(
            lazy.with_columns(pl.lit(0, dtype=pl.Int32).alias(WINDOW)), 1, {}, categorical, streaming=streaming
        )
        self.references_: dict[str, SortedReference] = {}
        self.edges_: dict[str, np.ndarray] = {}
        self.quantiles_: dict[str, np.ndarray] = {}
        self.distinct_: dict[str, int] = {}
        hold = not streaming or 8 * self.n_rows_ * len(numeric) <= HELD_REFERENCE_BYTES
        self._source = lazy if not hold else None
        for batch in _batches(numeric, self.n_rows_ if streaming else 0):
            part = lazy.select(batch).collect(engine="streaming" if streaming else "auto")
            # numpy sorts release the GIL: one column per core
            with ThreadPoolExecutor(max_workers=max(1, min(len(batch), os.cpu_count() or 1))) as pool:
                summaries = list(pool.map(summarise, [part[c] for c in batch], [self.bins] * len(batch)))
            for c, summary in zip(batch, summaries, strict=True):
                self.edges_[c] = summary.edges
                self.quantiles_[c] = summary.quantiles
                self.distinct_[c] = summary.distinct
                counts.numeric[c] = summary.counts[None, :]
                counts.moments[c] = summary.moments
                if hold:
                    self.references_[c] = summary.reference
            del part, summaries
        return self.finish(counts)

    def finish(self, counts: Counts) -> BaselineProfile:
        """Keep the baseline's counts, and its categories by frequency (most frequent first,
        then by value). The last step of every fit (polars' here, Spark's in its engine)."""
        self.counts_ = counts
        self.categories_: dict[str, list[str]] = {}
        for c, found in counts.categorical.items():
            order = sorted(range(len(found.values)), key=lambda i: (-found.matrix[0, i], found.values[i]))
            self.categories_[c] = [found.values[i] for i in order]
        return self

    def reference(self, column: str) -> SortedReference:
        """The sorted finite baseline values of a numeric column: held in memory, or read again
        from the baseline LazyFrame and sorted (one column in memory; see :meth:`fit`)."""
        held = self.references_.get(column)
        if held is not None:
            return held
        source = self._source
        if source is None:
            if self.spark_source_ is not None:
                raise InputError(
                    f"the baseline profile was fitted on a Spark DataFrame and holds no values of {column!r}: "
                    "compute drift with engine='spark'"
                )
            raise InputError(f"the baseline profile holds no values of {column!r} and has no source to read them from")
        part = source.select(column).collect(engine="streaming")
        return summarise(part[column], self.bins).reference

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
            quantiles = self.quantiles_.get(c)
            for i, q in enumerate(QUANTILES):
                value = quantiles[i] if quantiles is not None else np.nan
                row[f"p{round(q * 100):02d}"] = float(value) if np.isfinite(value) else None
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
PROFILE_SCHEMA: dict[str, pl.DataType] = {
    "column_name": pl.String(),
    "kind": pl.String(),
    "data_type": pl.String(),
    "count": pl.Int64(),
    "null_count": pl.Int64(),
    "non_finite_count": pl.Int64(),
    "mean": pl.Float64(),
    "std": pl.Float64(),
    "min": pl.Float64(),
    "max": pl.Float64(),
    **{f"p{round(q * 100):02d}": pl.Float64() for q in QUANTILES},
}


@dataclass(frozen=True)
class NumericSummary:
    """What the profile keeps of one numeric column (see :func:`summarise`)."""

    reference: SortedReference
    edges: np.ndarray
    counts: np.ndarray  # (bins + 1,): the value bins, then the null bin
    moments: dict[str, np.ndarray]
    quantiles: np.ndarray  # at QUANTILES
    distinct: int  # distinct finite values


def summarise(series: pl.Series, bins: int) -> NumericSummary:
    """Edges at the quantiles, bin counts, moments and quantiles of one numeric column, from its
    values sorted once (null and NaN are missing, -inf and +inf non-finite, see ``counts.py``)."""
    values, low, high = finite_slice(np.sort(series.cast(pl.Float64).to_numpy()))
    edges = interior_edges(values, bins)
    # The count below each edge, by the current side's rule: a value on an edge goes up.
    below = np.searchsorted(values, edges, side="left")
    reaching = np.diff(np.concatenate([[0], below, [len(values)]]))
    reaching[0] += low
    reaching[-1] += high
    missing = len(series) - len(values) - low - high  # null and NaN
    nan = missing - series.null_count()
    moments = {
        "missing": np.array([missing], dtype=np.float64),
        "non_finite": np.array([nan + low + high], dtype=np.float64),
        "mean": np.array([values.mean() if len(values) else np.nan]),
        "std": np.array([values.std(ddof=1) if len(values) > 1 else np.nan]),
        "min": np.array([values[0] if len(values) else np.nan]),
        "max": np.array([values[-1] if len(values) else np.nan]),
    }
    distinct = int(np.count_nonzero(values[1:] != values[:-1])) + 1 if len(values) else 0
    return NumericSummary(
        SortedReference(values), edges, np.append(reaching, missing).astype(np.int64), moments,
        sorted_quantiles(values, list(QUANTILES)), distinct,
    )


def small_distinct_counts(
    frame: pl.LazyFrame, integer: Sequence[str], streaming: bool, floats: set[str] | frozenset[str] = frozenset()
) -> dict[str, int]:
    """Distinct non-missing values of integer columns (and of the ``floats`` holding whole
    numbers; NaN is missing there), exact where it decides the kind (few distinct values are
    category codes, see ``kinds.py``). Streaming, HyperLogLog estimates come first and only the
    columns with few values are counted exactly, so no large set is held."""
    if not integer:
        return {}

    def values(c: str) -> pl.Expr:
        return pl.col(c).filter(pl.col(c).is_not_nan()) if c in floats else pl.col(c).drop_nulls()

    if not streaming:
        return dict(frame.select(values(c).n_unique().alias(c) for c in integer).collect().row(0, named=True))
    rough = frame.select(values(c).approx_n_unique().alias(c) for c in integer).collect(engine="streaming").row(0, named=True)
    # HyperLogLog is near exact at small counts: 4x the limit leaves a wide margin
    few = [c for c in integer if rough[c] <= 4 * MAX_INTEGER_CATEGORIES]
    exact = frame.select(values(c).n_unique().alias(c) for c in few).collect(engine="streaming").row(0, named=True) if few else {}
    return {c: int(exact.get(c, rough[c])) for c in integer}


def _height(data: pl.DataFrame | pl.LazyFrame) -> int:
    if isinstance(data, pl.DataFrame):
        return data.height
    return int(data.select(pl.len()).collect(engine="streaming").item())


def _batches(columns: list[str], rows: int) -> Iterator[list[str]]:
    """Columns in groups of about READ_BATCH_BYTES (all at once when ``rows`` is 0: in memory)."""
    size = max(1, READ_BATCH_BYTES // (8 * rows)) if rows else max(1, len(columns))
    for i in range(0, len(columns), size):
        yield columns[i : i + size]


def finite_slice(values: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(finite values, count of -inf, count of +inf) of a sorted array: numpy sorts -inf first,
    +inf then NaN (nulls read as NaN) last, so the finite values are one slice, no mask or copy."""
    low = int(np.searchsorted(values, -np.inf, side="right"))
    start = int(np.searchsorted(values, np.inf, side="left"))
    end = int(np.searchsorted(values, np.inf, side="right"))
    return values[low:start], low, end - start


def _whole_floats(data: pl.LazyFrame, floats: list[str], streaming: bool) -> set[str]:
    """The float columns whose values are all whole numbers (integer codes stored as floats)."""
    if not floats:
        return set()
    found = data.select(is_whole(c).alias(c) for c in floats).collect(engine="streaming" if streaming else "auto")
    return {c for c, whole in found.row(0, named=True).items() if whole}


def fit_baseline(
    frame: Any,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 10,
) -> BaselineProfile:
    """Fit the baseline profile once; pass it to :func:`compute_drift` for every window."""
    return BaselineProfile(columns=columns, kinds=kinds, bins=bins).fit(frame)
