"""The counting pass on Spark: per-window bin counts, moments and category counts as group-by
aggregations, by the rules of ``counts.py`` so both engines count alike.

- Numeric: null and NaN are missing; NaN, -inf and +inf are non-finite; mean, std (ddof 1), min
  and max are over finite values; bins come from the count of values at or above each of the
  baseline's edges. Spark orders NaN above every number, so NaN is kept out of those counts
  explicitly (polars and numpy leave it out by themselves).
- Categorical: values cast to text (booleans read ``true``/``false`` in both), counted per
  window and value in one group-by over every categorical column.

Counts are integers, so they are equal to polars' bit for bit; the means are sums in double,
which depend on the order of addition (within about 1e-14 of polars' for data near unit scale).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.counts import Counts, bins_from_cumulative, category_counts
from mlobs_notebook.drift.engines.spark_support import column, spark_errors, stacked
from mlobs_notebook.drift.windows import WINDOW

__all__ = ["NUMERIC_BATCH", "count_spark", "finite_value", "numeric_batches"]

# Numeric columns per aggregation. Spark compiles an aggregation into one Java method; a very
# wide one falls back to slow interpreted code. Parquet reads only the batch's columns, so the
# batches cost one more read of the time column each, not of the table.
NUMERIC_BATCH = 10
_STATS = ("missing", "non_finite", "mean", "std", "min", "max")


def finite_value(name: str) -> Any:
    """The column as double where it is finite, null elsewhere (null, NaN, -inf, +inf)."""
    from pyspark.sql import functions as F

    x = column(name).cast("double")
    return F.when(~F.isnan(x) & (F.abs(x) < F.lit(float("inf"))), x)


def numeric_batches(columns: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(columns), NUMERIC_BATCH):
        yield columns[i : i + NUMERIC_BATCH]


def _numeric_aggregations(batch: list[str], edges: dict[str, np.ndarray]) -> list[Any]:
    from pyspark.sql import functions as F

    aggregations = []
    for j, c in enumerate(batch):
        x = column(c).cast("double")
        nan = F.isnan(x)
        finite = finite_value(c)
        aggregations += [
            F.sum((x.isNull() | nan).cast("long")).alias(f"{j}__missing"),
            F.sum((nan | (F.abs(x) == F.lit(float("inf")))).cast("long")).alias(f"{j}__non_finite"),
            F.avg(finite).alias(f"{j}__mean"),
            F.stddev_samp(finite).alias(f"{j}__std"),
            F.min(finite).alias(f"{j}__min"),
            F.max(finite).alias(f"{j}__max"),
        ]
        aggregations += [
            F.sum((~nan & (x >= F.lit(float(edge)))).cast("long")).alias(f"{j}__ge{i}")
            for i, edge in enumerate(edges[c])
        ]
    return aggregations


def _collect(frame: Any) -> pl.DataFrame:
    return pl.DataFrame(pl.from_arrow(frame.toArrow()))


def count_spark(
    framed: Any, windows: int, numeric_edges: dict[str, np.ndarray], categorical: list[str], what: str = "current data"
) -> Counts:
    """Every aggregation of ``count_frame`` on a Spark frame carrying ``__window__``."""
    from pyspark.sql import functions as F

    numeric = list(numeric_edges)
    window = column(WINDOW)
    parts: list[tuple[list[str], pl.DataFrame]] = []
    with spark_errors(f"counting the {what}"):
        for batch in numeric_batches(numeric) if numeric else iter([[]]):
            aggregations = [F.count(F.lit(1)).alias("__rows__"), *_numeric_aggregations(batch, numeric_edges)]
            parts.append((batch, _collect(framed.groupBy(window).agg(*aggregations))))
        if categorical:
            found = _collect(stacked([
                framed.groupBy(window, column(c).cast("string").alias("value"))
                .agg(F.count(F.lit(1)).alias("n")).select(F.lit(k).alias("k"), window, "value", "n")
                for k, c in enumerate(categorical)
            ]))
    first = parts[0][1]
    rows = np.zeros(windows, dtype=np.int64)
    rows[first[WINDOW].to_numpy()] = first["__rows__"].to_numpy()
    counts = Counts(windows, rows)
    for batch, table in parts:
        index = table[WINDOW].to_numpy()
        renamed = table.rename({f"{j}__{stat}": f"{c}\x00{stat}" for j, c in enumerate(batch) for stat in _STATS} | {
            f"{j}__ge{i}": f"{c}\x00ge{i}" for j, c in enumerate(batch) for i in range(len(numeric_edges[c]))
        })
        for c in batch:
            block = {}
            for stat in _STATS:
                values = np.full(windows, 0.0 if stat in ("missing", "non_finite") else np.nan)
                values[index] = renamed[f"{c}\x00{stat}"].cast(pl.Float64).fill_null(np.nan).to_numpy()
                block[stat] = values
            counts.moments[c] = block
            counts.numeric[c] = bins_from_cumulative(renamed, index, c, len(numeric_edges[c]), counts)
    for k, c in enumerate(categorical):
        part = found.filter(pl.col("k") == k).select(WINDOW, "value", "n")
        counts.categorical[c] = category_counts(part, windows)
        counts.moments[c] = {"missing": counts.categorical[c].nulls.astype(np.float64), "non_finite": np.zeros(windows)}
    return counts
