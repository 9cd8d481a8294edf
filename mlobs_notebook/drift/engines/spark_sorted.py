"""KS and Wasserstein on Spark: exact by a distributed sort, or from quantile sketches.

**Exact.** Per column, the current values are counted per (window, value) and the baseline's per
value; the baseline's counts are repeated once per window (baseline drift) and each window's
once more as the reference of the next (consecutive drift). Spark sorts every (column, drift
type, window) partition by value (spilling to disk as it needs) and running sums of the two
counts give both CDFs at every distinct value: KS is the largest ``|cum0 n1 - cum1 n0| / (n0
n1)`` (integers until the one division) and Wasserstein the sum of those differences times the
gaps to the next value, as ``ecdf_kernels.py`` computes them in memory. The sort moves ``W x
distinct(baseline) + 2 x rows(current)`` rows per column: ``exact_rows`` says how many.

**Sketches,** when that is over ``max_exact_rows``: each window's quantile function at
``SKETCH_QUANTILES + 1`` evenly spaced levels from ``percentile_approx`` (rank error at most
``1 / SKETCH_ACCURACY`` of the rows, Spark's documented bound), with the exact minimum and
maximum at the ends. Wasserstein is the integral of ``|Q_ref - Q_cur|`` over the levels, and
KS the largest gap between the two CDFs read back from the levels. Both carry a bound that
follows from the rank error (see :func:`sketch_statistics`); the report's notes state it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.ecdf import ComputedPairs, sorted_quantiles
from mlobs_notebook.drift.engines.spark_counts import finite_value
from mlobs_notebook.drift.engines.spark_support import column, spark_errors, stacked
from mlobs_notebook.drift.windows import WINDOW

__all__ = ["SKETCH_ACCURACY", "SKETCH_QUANTILES", "exact_rows", "exact_statistics", "sketch_statistics"]

SKETCH_QUANTILES = 1_000
SKETCH_ACCURACY = 10_000
_BASELINE, _CONSECUTIVE = 0, 1


def exact_rows(windows: int, baseline_distinct: int, current_rows: int) -> int:
    """Rows one column's exact comparison sorts: the baseline's distinct values once per window,
    the current rows twice (as a window and as the reference of the next)."""
    return windows * baseline_distinct + 2 * current_rows


def _counted(frame: Any, columns: list[str], keys: list[str]) -> Any:
    """(k, *keys, value, c): how many times column k holds each finite value (per key)."""
    from pyspark.sql import functions as F

    return stacked([
        frame.select(*[column(key) for key in keys], finite_value(c).alias("value")).where(F.col("value").isNotNull())
        .groupBy(*keys, "value").agg(F.count(F.lit(1)).alias("c")).select(F.lit(k).alias("k"), *keys, "value", "c")
        for k, c in enumerate(columns)
    ])


def exact_statistics(
    current: Any, baseline: Any, columns: list[str], windows: int, consecutive: bool
) -> dict[str, tuple[np.ndarray, ...]]:
    """Per column: (ks, wasserstein, n0, n1) against the baseline, each of length W, then the
    same for each window against the one before (length W - 1; empty without ``consecutive``).

    ``current`` carries ``__window__`` and the columns; ``baseline`` the columns (any rows).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = current.sparkSession
    window = column(WINDOW)
    cur = _counted(current, columns, [WINDOW])
    base = _counted(baseline, columns, [])
    every = spark.range(windows).select(F.col("id").cast("int").alias(WINDOW))
    parts = [
        base.crossJoin(F.broadcast(every)).select("k", F.lit(_BASELINE).alias("t"), WINDOW, "value",
                                                  F.col("c").alias("c0"), F.lit(0).cast("long").alias("c1")),
        cur.select("k", F.lit(_BASELINE).alias("t"), WINDOW, "value", F.lit(0).cast("long").alias("c0"), F.col("c").alias("c1")),
    ]
    if consecutive and windows > 1:
        parts += [
            cur.where(window < windows - 1).select("k", F.lit(_CONSECUTIVE).alias("t"), (window + 1).alias(WINDOW), "value",
                                                  F.col("c").alias("c0"), F.lit(0).cast("long").alias("c1")),
            cur.where(window > 0).select("k", F.lit(_CONSECUTIVE).alias("t"), WINDOW, "value",
                                         F.lit(0).cast("long").alias("c0"), F.col("c").alias("c1")),
        ]
    tagged = parts[0]
    for part in parts[1:]:
        tagged = tagged.unionByName(part)
    keys = ["k", "t", WINDOW]
    merged = tagged.groupBy(*keys, "value").agg(F.sum("c0").alias("c0"), F.sum("c1").alias("c1"))
    ordered = Window.partitionBy(*keys).orderBy("value")
    running = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy(*keys)
    steps = merged.select(
        *keys,
        F.sum("c0").over(running).alias("cum0"), F.sum("c1").over(running).alias("cum1"),
        F.sum("c0").over(whole).alias("n0"), F.sum("c1").over(whole).alias("n1"),
        (F.lead("value").over(ordered) - F.col("value")).alias("gap"),
    )
    difference = F.abs(F.col("cum0") * F.col("n1") - F.col("cum1") * F.col("n0"))
    with spark_errors("sorting the values for KS and Wasserstein"):
        table = pl.DataFrame(pl.from_arrow(steps.groupBy(*keys).agg(
            F.max(difference).alias("largest"),
            F.sum(difference.cast("double") * F.coalesce(F.col("gap"), F.lit(0.0))).alias("total"),
            F.first("n0").alias("n0"), F.first("n1").alias("n1"),
        ).toArrow()))
    results = {}
    for k, c in enumerate(columns):
        mine = table.filter(pl.col("k") == k)
        results[c] = (*_arrays(mine.filter(pl.col("t") == _BASELINE), 0, windows),
                      *_arrays(mine.filter(pl.col("t") == _CONSECUTIVE), 1, windows if consecutive else 1))
    return results


def _arrays(part: pl.DataFrame, first: int, windows: int) -> tuple[np.ndarray, ...]:
    """(ks, wasserstein, n0, n1) for windows first .. windows - 1 (NaN and 0 where empty)."""
    size = max(windows - first, 0)
    ks, distance = np.full(size, np.nan), np.full(size, np.nan)
    n0, n1 = np.zeros(size), np.zeros(size)
    at = part[WINDOW].to_numpy() - first
    n0[at], n1[at] = part["n0"].to_numpy(), part["n1"].to_numpy()
    scale = n0[at] * n1[at]
    with np.errstate(invalid="ignore", divide="ignore"):
        ks[at] = np.where(scale > 0, part["largest"].to_numpy() / scale, np.nan)
        distance[at] = np.where(scale > 0, part["total"].to_numpy() / scale, np.nan)
    return ks, distance, n0, n1


def window_grids(current: Any, columns: list[str], windows: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per column: each window's sketched quantiles at the levels (W, K + 1) and its count of
    finite values (W,)."""
    from pyspark.sql import functions as F

    levels = np.linspace(0.0, 1.0, SKETCH_QUANTILES + 1).tolist()
    with spark_errors("sketching the quantiles of the current data"):
        table = pl.DataFrame(pl.from_arrow(current.groupBy(column(WINDOW)).agg(
            *[F.percentile_approx(finite_value(c), levels, SKETCH_ACCURACY).alias(f"q{k}") for k, c in enumerate(columns)],
            *[F.count(finite_value(c)).alias(f"n{k}") for k, c in enumerate(columns)],
        ).toArrow()))
    at = table[WINDOW].to_numpy()
    grids = {}
    for k, c in enumerate(columns):
        grid = np.full((windows, SKETCH_QUANTILES + 1), np.nan)
        sizes = np.zeros(windows)
        filled = [np.asarray(v, dtype=np.float64) if v is not None else np.full(SKETCH_QUANTILES + 1, np.nan)
                  for v in table[f"q{k}"].to_list()]
        if filled:
            grid[at] = np.vstack(filled)
        sizes[at] = table[f"n{k}"].to_numpy()
        grids[c] = (grid, sizes)
    return grids


def baseline_grid(baseline: Any, column_name: str, sorted_values: np.ndarray | None) -> tuple[np.ndarray, float, bool]:
    """(levels' quantiles, count of finite values, sketched?) of the baseline: exact from its
    sorted values when they are at hand, else sketched from the Spark frame."""
    from pyspark.sql import functions as F

    levels = np.linspace(0.0, 1.0, SKETCH_QUANTILES + 1)
    if sorted_values is not None:
        return sorted_quantiles(sorted_values, levels), float(len(sorted_values)), False
    with spark_errors("sketching the quantiles of the baseline"):
        row = baseline.agg(F.percentile_approx(finite_value(column_name), levels.tolist(), SKETCH_ACCURACY),
                           F.count(finite_value(column_name))).collect()[0]
    grid = np.asarray(row[0], dtype=np.float64) if row[0] is not None else np.full(len(levels), np.nan)
    return grid, float(row[1]), True


def _cdf(grid: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The CDF read back from quantiles at K + 1 levels: mid-level between the two around x."""
    steps = len(grid) - 1
    at = np.searchsorted(grid, x, side="right")
    return np.asarray(np.where(at == 0, 0.0, np.where(at > steps, 1.0, (at - 0.5) / steps)), dtype=np.float64)


def _middle(grid: np.ndarray) -> np.ndarray:
    """The quantile function at the middle of each level interval (between two levels)."""
    return np.asarray((grid[:-1] + grid[1:]) / 2, dtype=np.float64)


def _spread(grid: np.ndarray, reach: int) -> np.ndarray:
    """For each level interval [k, k + 1], the range of the quantile function within ``reach``
    levels of it: where the true quantiles lie, given the rank error."""
    steps = len(grid) - 1
    k = np.arange(steps)
    return np.asarray(grid[np.minimum(k + 1 + reach, steps)] - grid[np.maximum(k - reach, 0)], dtype=np.float64)


def sketch_statistics(reference: np.ndarray, current: np.ndarray, n: float, m: float, sketched: tuple[bool, bool]) -> tuple[float, float, float, float]:
    """(KS, Wasserstein, KS bound, Wasserstein bound) from two quantile grids (K + 1 levels,
    exact minimum and maximum at the ends) of samples of ``n`` and ``m`` values.

    Each side's true quantile at level u in [k/K, (k+1)/K] lies between its sketched quantiles
    ``J = ceil(K (e + 1/N)) + 1`` levels around (e the rank error, 0 when exact), so
    Wasserstein, the integral of |Q_ref - Q_cur|, is within the mean of those spreads of both
    sides; and each CDF read back is within ``1/(2K) + e + 1/N`` of the true one, so KS is
    within the sum of that over both sides.
    """
    if n == 0 or m == 0 or np.isnan(reference).any() or np.isnan(current).any():
        return math.nan, math.nan, math.nan, math.nan
    steps = len(reference) - 1
    error = (1 / SKETCH_ACCURACY if sketched[0] else 0.0, 1 / SKETCH_ACCURACY if sketched[1] else 0.0)
    distance = float(np.mean(np.abs(_middle(reference) - _middle(current))))
    reach = [math.ceil(steps * (e + 1 / size)) + 1 for e, size in zip(error, (n, m), strict=True)]
    distance_bound = float(np.mean(_spread(reference, reach[0]) + _spread(current, reach[1])))
    points = np.concatenate([reference, current])
    ks = float(np.max(np.abs(_cdf(reference, points) - _cdf(current, points))))
    ks_bound = sum(1 / (2 * steps) + e + 1 / size for e, size in zip(error, (n, m), strict=True))
    return ks, distance, ks_bound, distance_bound


def pairs(ks: np.ndarray, distance: np.ndarray, n: np.ndarray, m: np.ndarray, reference_std: Any) -> ComputedPairs:
    return ComputedPairs(ks, distance, n, m, np.broadcast_to(np.asarray(reference_std, dtype=np.float64), np.shape(ks)))
