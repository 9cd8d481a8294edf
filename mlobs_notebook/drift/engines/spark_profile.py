"""A baseline profile fitted on a Spark DataFrame, equal to the one polars fits on the same data.

The bin edges are the baseline's exact quantiles (numpy's linear method, as ``profile.py``),
found without sorting the baseline or holding it anywhere: a quantile sketch (Spark's
``percentile_approx``, whose rank error is at most ``1/accuracy`` of the rows) brackets every
rank needed, then the rows below each bracket are counted and the few distinct values inside it
collected; the rank is read off those exactly. A bracket that misses its rank (the sketch's
bound broken) is widened and tried again. Counts and moments come from ``spark_counts.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.engines.spark_counts import count_spark, finite_value
from mlobs_notebook.drift.engines.spark_support import column, polars_schema, spark_errors, stacked
from mlobs_notebook.drift.kinds import MAX_INTEGER_CATEGORIES, check_kinds, infer_kind
from mlobs_notebook.drift.profile import QUANTILES, BaselineProfile
from mlobs_notebook.drift.windows import WINDOW
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["fit_spark_profile", "order_statistics"]


def _positions(size: int, quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low rank, high rank, fraction) of numpy's linear quantiles, as ``sorted_quantiles``."""
    position = quantiles * (size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    return low, high, position - low


def _brackets(ranks: np.ndarray, size: int, margin: float) -> list[tuple[float, float]]:
    """Sketch probabilities bracketing each rank with ``margin`` ranks on either side."""
    return [(max(0.0, (r - margin) / size), min(1.0, (r + 1 + margin) / size)) for r in ranks]


def order_statistics(frame: Any, ranks: dict[str, np.ndarray], sizes: dict[str, int]) -> dict[str, np.ndarray]:
    """The values at the given 0-based ``ranks`` among each column's finite values, sorted
    ascending (``sizes`` holds each column's count of finite values), exactly."""
    from pyspark.sql import functions as F

    found: dict[str, np.ndarray] = {}
    pending = {c: r for c, r in ranks.items() if len(r)}
    widen = 1.0
    while pending:
        size = max(sizes[c] for c in pending)
        error = float(np.clip(2_000 / size, 1e-5, 1e-3))
        accuracy = round(1 / error)
        probes = {c: _brackets(r, sizes[c], widen * (2 * error * sizes[c] + 2)) for c, r in pending.items()}
        names = list(pending)
        with spark_errors("finding the baseline's quantiles"):
            sketch = frame.agg(*[
                F.percentile_approx(finite_value(c), [p for pair in probes[c] for p in pair], accuracy).alias(str(k))
                for k, c in enumerate(names)
            ]).collect()[0]
            bounds = {c: np.asarray(sketch[k], dtype=np.float64).reshape(-1, 2) for k, c in enumerate(names)}
            below = frame.agg(*[
                F.sum((finite_value(c) < F.lit(float(low))).cast("long")).alias(f"{k}_{i}")
                for k, c in enumerate(names) for i, low in enumerate(bounds[c][:, 0])
            ]).collect()[0]
            inside = [
                frame.select(finite_value(c).alias("v")).where(_any_between(F.col("v"), bounds[c]))
                .groupBy("v").agg(F.count(F.lit(1)).alias("n")).select(F.lit(k).alias("k"), "v", "n")
                for k, c in enumerate(names)
            ]
            values = pl.DataFrame(pl.from_arrow(stacked(inside).toArrow())).sort("k", "v")
        for k, c in enumerate(names):
            part = values.filter(pl.col("k") == k)
            result = _read_ranks(pending[c], bounds[c], [below[f"{k}_{i}"] for i in range(len(bounds[c]))],
                                 part["v"].to_numpy(), part["n"].to_numpy())
            if result is not None:
                found[c] = result
                del pending[c]
        widen *= 10  # a bracket missed its rank: wider ones for the columns left
    return found


def _any_between(x: Any, bounds: np.ndarray) -> Any:
    condition = None
    for low, high in bounds:
        inside = (x >= float(low)) & (x <= float(high))
        condition = inside if condition is None else condition | inside
    return condition


def _read_ranks(ranks: np.ndarray, bounds: np.ndarray, below: list[int], values: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
    """Each rank's value from its bracket: rows below the bracket, then the bracket's values in
    order with their counts. None if a bracket does not hold its rank."""
    result = np.empty(len(ranks))
    for i, rank in enumerate(ranks):
        low, high = bounds[i]
        mask = (values >= low) & (values <= high)
        reached = below[i] + np.cumsum(counts[mask])
        at = int(np.searchsorted(reached, rank, side="right"))
        if below[i] > rank or at >= len(reached):
            return None
        result[i] = values[mask][at]
    return result


def fit_spark_profile(
    frame: Any, requested: list[str] | None, kinds: Any, bins: int, time_column: str | None
) -> tuple[BaselineProfile, list[str]]:
    """(profile, the baseline's column names) for a Spark baseline: what ``BaselineProfile.fit``
    gives for the same data, without the sorted values (the Spark engine compares against the
    baseline frame itself; ``profile.spark_source_`` holds it)."""
    from pyspark.sql import functions as F

    if not isinstance(bins, int) or bins < 1:
        raise InputError(f"bins must be a positive integer, not {bins!r}")
    schema = polars_schema(frame)
    names = [c for c in schema.names() if c != time_column]
    columns = [c for c in requested if c in names] if requested is not None else names
    missing = [c for c in columns if c not in schema]
    if missing:
        raise UnknownColumn(f"column(s) {', '.join(map(repr, missing))} not in the baseline. Columns: {', '.join(schema.names())}")
    overrides = check_kinds(kinds, schema)
    floats = [c for c in columns if schema[c].is_float() and c not in overrides]
    candidates = [c for c in columns if schema[c].is_numeric()]
    with spark_errors("profiling the baseline"):
        # float columns holding only whole numbers are integer codes, as kinds.is_whole reads them
        fractional = frame.agg(*[
            F.sum(((finite_value(c) != F.floor(finite_value(c))) | (F.abs(finite_value(c)) > 2.0**53)).cast("int"))
            .alias(f"w{k}") for k, c in enumerate(floats)
        ], *[F.count(finite_value(c)).alias(f"n{k}") for k, c in enumerate(floats)]).collect()[0] if floats else {}
        finite_floats = fractional
        whole = {c for k, c in enumerate(floats) if finite_floats[f"n{k}"] and not fractional[f"w{k}"]}
        integer = [c for c in columns if (schema[c].is_integer() or c in whole) and c not in overrides]
        first = frame.agg(
            F.count(F.lit(1)).alias("rows"),
            *[F.approx_count_distinct(_value(c, whole)).alias(f"d{k}") for k, c in enumerate(integer)],
            *[F.count(finite_value(c)).alias(f"f{k}") for k, c in enumerate(candidates)],
        ).collect()[0]
        few = [c for k, c in enumerate(integer) if first[f"d{k}"] <= 4 * MAX_INTEGER_CATEGORIES]
        # distinct non-missing values, as profile.small_distinct_counts counts them
        exact = frame.agg(*[F.countDistinct(_value(c, whole)).alias(c) for c in few]).collect()[0].asDict() if few else {}
    distinct = {c: int(exact.get(c, first[f"d{k}"])) for k, c in enumerate(integer)}
    profile = BaselineProfile(columns=columns, kinds=kinds, bins=bins)
    profile.kinds_, profile.skipped_ = {}, {}
    for c in columns:
        kind = overrides.get(c) or infer_kind(schema[c], distinct.get(c), c in whole)
        if kind is None:
            profile.skipped_[c] = f"type {schema[c]} is neither numeric nor categorical"
        else:
            profile.kinds_[c] = kind
    profile.columns_ = list(profile.kinds_)
    profile.dtypes_ = {c: schema[c] for c in profile.columns_}
    profile.n_rows_ = int(first["rows"])
    numeric = [c for c in profile.columns_ if profile.kinds_[c] == "numeric"]
    categorical = [c for c in profile.columns_ if profile.kinds_[c] == "categorical"]
    sizes = {c: int(first[f"f{candidates.index(c)}"]) for c in numeric}
    profile.distinct_ = {}  # counted when the exact KS needs it (spark.py), not for binned statistics
    wanted = np.concatenate([np.arange(1, bins) / bins, QUANTILES])
    ranks = {}
    for c in numeric:
        low, high, _ = _positions(sizes[c], wanted) if sizes[c] else (np.zeros(0, np.int64),) * 3
        ranks[c] = np.unique(np.concatenate([low, high]))
    values = order_statistics(frame, ranks, sizes)
    profile.edges_, profile.quantiles_ = {}, {}
    for c in numeric:
        if not sizes[c]:
            profile.edges_[c], profile.quantiles_[c] = np.zeros(0), np.full(len(QUANTILES), np.nan)
            continue
        low, high, fraction = _positions(sizes[c], wanted)
        at = dict(zip(ranks[c].tolist(), values[c].tolist(), strict=True))
        lows, highs = np.array([at[r] for r in low]), np.array([at[r] for r in high])
        quantiles = lows + (highs - lows) * fraction  # sorted_quantiles' arithmetic, bit for bit
        profile.edges_[c] = np.unique(quantiles[: bins - 1])
        profile.quantiles_[c] = quantiles[bins - 1 :]
    profile.references_ = {}
    profile.spark_source_ = frame
    counts = count_spark(
        frame.withColumn(WINDOW, F.lit(0).cast("int")), 1, {c: profile.edges_[c] for c in numeric}, categorical,
        what="baseline",
    )
    profile.finish(counts)
    return profile, names


def _value(name: str, whole: set[str]) -> Any:
    """A column's values with NaN read as missing in a float column of whole numbers."""
    from pyspark.sql import functions as F

    return F.when(~F.isnan(column(name)), column(name)) if name in whole else column(name)
