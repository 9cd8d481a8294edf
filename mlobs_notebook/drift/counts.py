"""The counting pass: per-window bin counts, category counts and moments, as polars group-bys.

Everything here is an aggregation of a group-by on ``window`` or ``(window, category)``, so it
runs on polars' streaming engine with memory bounded by the number of groups, and the counts
are exact whatever the input size. Numeric bins come from counts of values reaching each of the
baseline's edges.

Numeric values: null and NaN count as missing (the last bin); -inf falls in the first bin and
+inf in the last value bin, both counted as non-finite; moments use finite values only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from mlobs_notebook.drift.kinds import category_key
from mlobs_notebook.drift.windows import WINDOW

__all__ = ["CategoryCounts", "Counts", "bins_from_cumulative", "category_counts", "count_frame", "finite", "missing"]


def _as_float(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Float64)


def missing(column: str, numeric: bool) -> pl.Expr:
    x = _as_float(column) if numeric else pl.col(column)
    return (x.is_null() | x.is_nan()) if numeric else x.is_null()


def finite(column: str) -> pl.Expr:
    x = _as_float(column)
    return x.filter(x.is_finite())


@dataclass
class CategoryCounts:
    """Counts of one categorical column: ``matrix[w, i]`` rows of ``values[i]`` in window w."""

    values: list[str]
    matrix: np.ndarray  # (W, len(values))
    nulls: np.ndarray  # (W,)


@dataclass
class Counts:
    """Per-window counts and moments of one frame (``windows`` rows each)."""

    windows: int
    rows: np.ndarray  # (W,)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)  # (W, bins + 1)
    categorical: dict[str, CategoryCounts] = field(default_factory=dict)
    moments: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def _moments(
    frame: pl.LazyFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    cumulative_edges: dict[str, np.ndarray] | None = None,
    single_window: bool = False,
) -> pl.LazyFrame:
    """Per-window moments; with ``cumulative_edges``, also how many values reach each edge.

    The cumulative counts give the bin counts by differences, so a streaming run needs this
    one group-by over windows (one scan, memory bounded by the number of windows).
    """
    edges = cumulative_edges or {}
    # NaN compares above everything in polars; as null it is counted by no edge.
    not_nan = {c: pl.when(~_as_float(c).is_nan()).then(_as_float(c)) for c in edges}
    # Non-finite values become null first, so the moments skip them without a filter per moment.
    finite_only = frame.select(
        WINDOW,
        *[pl.when(_as_float(c).is_finite()).then(_as_float(c)).alias(c) for c in numeric],
        *[missing(c, numeric=True).alias(f"{c}\x00missing") for c in numeric],
        *[(_as_float(c).is_nan() | _as_float(c).is_infinite()).alias(f"{c}\x00non_finite") for c in numeric],
        *[missing(c, numeric=False).alias(f"{c}\x00missing") for c in categorical],
        *[
            (not_nan[c] >= float(edge)).alias(f"{c}\x00ge{i}")
            for c in edges
            for i, edge in enumerate(edges[c])
        ],
    )
    exprs = [pl.len().alias("__rows__")]
    for c in numeric:
        x = pl.col(c)
        exprs += [
            pl.col(f"{c}\x00missing").sum(),
            pl.col(f"{c}\x00non_finite").sum(),
            x.mean().alias(f"{c}\x00mean"),
            x.std().alias(f"{c}\x00std"),
            x.min().alias(f"{c}\x00min"),
            x.max().alias(f"{c}\x00max"),
        ]
    exprs += [pl.col(f"{c}\x00missing").sum() for c in categorical]
    exprs += [pl.col(f"{c}\x00ge{i}").sum() for c in edges for i in range(len(edges[c]))]
    if single_window:  # a plain aggregation: half the time of a group-by with one group
        return finite_only.select(pl.lit(0, dtype=pl.Int32).alias(WINDOW), *exprs)
    return finite_only.group_by(WINDOW).agg(exprs)


def count_frame(
    frame: pl.LazyFrame,
    windows: int,
    numeric_edges: dict[str, np.ndarray],
    categorical: Sequence[str],
    *,
    streaming: bool,
    like: Mapping[str, pl.DataType] | None = None,
) -> Counts:
    """Every aggregation; ``frame`` must carry the ``__window__`` column.

    Categorical columns are counted by their :func:`~mlobs_notebook.drift.kinds.category_key`
    (values compare by value: ``1.0`` is category ``"1"``), read against ``like``, the
    baseline's dtype of each column.

    Numeric columns are binned through the counts of values reaching each edge, in the one
    group-by over windows that takes the moments (in memory the engine counts them with a
    compiled pass instead: ``counts_kernels.py``). Streaming, the queries are collected one at a
    time, because ``collect_all`` would cache the shared input of the plans in memory (common
    subplan elimination), which is the whole table.
    """
    numeric = list(numeric_edges)
    if categorical:
        schema = frame.collect_schema()
        like = like or {}
        frame = frame.with_columns(category_key(c, schema[c], like.get(c)) for c in categorical)
    queries = [_moments(frame, numeric, categorical, numeric_edges, windows == 1)]
    for c in categorical:
        queries.append(frame.group_by(WINDOW, pl.col(c).alias("value")).agg(pl.len().alias("n")))
    if streaming:
        results = [query.collect(engine="streaming") for query in queries]
    else:
        results = pl.collect_all(queries)
    moments_frame = results[0]
    index = moments_frame[WINDOW].to_numpy()
    rows = np.zeros(windows, dtype=np.int64)
    rows[index] = moments_frame["__rows__"].to_numpy()
    counts = Counts(windows, rows)
    for c in numeric:
        block = {}
        for stat in ("missing", "non_finite", "mean", "std", "min", "max"):
            fill = 0 if stat in ("missing", "non_finite") else np.nan
            values = np.full(windows, fill, dtype=np.float64)
            values[index] = moments_frame[f"{c}\x00{stat}"].cast(pl.Float64).fill_null(np.nan).to_numpy()
            block[stat] = values
        counts.moments[c] = block
    for c in categorical:
        values = np.zeros(windows, dtype=np.float64)
        values[index] = moments_frame[f"{c}\x00missing"].to_numpy()
        counts.moments[c] = {"missing": values, "non_finite": np.zeros(windows)}
    for c in numeric:
        counts.numeric[c] = bins_from_cumulative(moments_frame, index, c, len(numeric_edges[c]), counts)
    for c, part in zip(categorical, results[1:], strict=True):
        counts.categorical[c] = category_counts(part, windows)
    return counts


def bins_from_cumulative(
    moments: pl.DataFrame, index: np.ndarray, column: str, edges: int, counts: Counts
) -> np.ndarray:
    """Bin counts from "values >= each edge": consecutive differences, then the null bin."""
    present = counts.rows - counts.moments[column]["missing"].astype(np.int64)
    reaching = np.zeros((counts.windows, edges + 2), dtype=np.int64)
    reaching[:, 0] = present
    for i in range(edges):
        reaching[index, i + 1] = moments[f"{column}\x00ge{i}"].to_numpy()
    matrix = np.zeros((counts.windows, edges + 2), dtype=np.int64)
    matrix[:, : edges + 1] = reaching[:, : edges + 1] - reaching[:, 1 : edges + 2]
    matrix[:, edges + 1] = counts.moments[column]["missing"].astype(np.int64)
    return matrix


def category_counts(part: pl.DataFrame, windows: int) -> CategoryCounts:
    nulls = np.zeros(windows, dtype=np.int64)
    null_rows = part.filter(pl.col("value").is_null())
    np.add.at(nulls, null_rows[WINDOW].to_numpy(), null_rows["n"].to_numpy())
    present = part.filter(pl.col("value").is_not_null()).with_columns(
        code=pl.col("value").rank("dense").cast(pl.Int64) - 1
    )
    values = present["value"].unique().sort().to_list()
    matrix = np.zeros((windows, len(values)), dtype=np.int64)
    np.add.at(matrix, (present[WINDOW].to_numpy(), present["code"].to_numpy()), present["n"].to_numpy())
    return CategoryCounts(values, matrix, nulls)
