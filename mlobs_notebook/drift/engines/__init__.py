"""Drift engines, one extension point: ``compute_drift(..., engine=)`` picks one.

- ``"polars"`` (``local.py``): polars and numpy on one machine, in memory or streaming a
  LazyFrame out of core.
- ``"spark"`` (``spark.py``): Spark DataFrames, per-window group-by aggregations on the cluster
  (pyspark is imported only when this engine is used).

Every engine produces per-window counts and per-column sorted comparisons; ``blocks.py`` turns
them into the report the same way, so the report's schema is the same whatever the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["ENGINES", "DriftProgress", "choose_engine", "is_spark_frame", "missing_time_column"]

ENGINES = ("polars", "spark")

# progress(columns_done, columns_total, windows): called once the windows are counted (0 columns
# done), then after each column.
DriftProgress = Callable[[int, int, int], None]


def is_spark_frame(frame: Any) -> bool:
    """Whether ``frame`` is a Spark DataFrame (classic or Spark Connect), without importing pyspark."""
    return type(frame).__module__.startswith("pyspark.sql") and hasattr(frame, "sparkSession")


def choose_engine(engine: str | None, *frames: Any) -> str:
    """The engine to run: ``engine`` checked, or by default "spark" for Spark DataFrames and
    "polars" for anything else. :class:`InputError` for an unknown engine or a Spark DataFrame
    given to the polars engine."""
    spark_frames = any(is_spark_frame(f) for f in frames)
    if engine is None:
        return "spark" if spark_frames else "polars"
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r} is not known; use one of: {', '.join(ENGINES)}")
    if engine == "polars" and spark_frames:
        raise InputError(
            "the data is a Spark DataFrame: use engine='spark' (--engine spark), or convert it "
            "to polars first (pl.from_arrow(df.toArrow()))"
        )
    return engine


def missing_time_column(time_column: str, names: Sequence[str]) -> UnknownColumn:
    """The error for a current frame without the time column (every engine raises this one)."""
    return UnknownColumn(f"time column {time_column!r} is not in the current data. Columns: {', '.join(names)}")
