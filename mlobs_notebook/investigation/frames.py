"""The frames of an investigation, polars or Spark, held so that memory stays bounded whatever
their size (:mod:`~mlobs_notebook.investigation.inputs` says where they come from).

- ``engine="polars"``: a frame whose compared columns fit in ``IN_MEMORY_BYTES`` (8 bytes a
  value) is collected, for the fast in-memory path; a larger one stays a LazyFrame, which the
  drift engine streams: per-window aggregates by polars' streaming engine, and one numeric column
  of each side at a time for the exact KS and Wasserstein. Peak memory is then about six times
  one column of the larger side, whatever the number of columns (50M rows x 50 features: 3.2 GB
  for the whole ``mlobs investigate`` process, see ``benchmarks/RESULTS-scale.md``).
- ``engine="spark"``: Spark DataFrames read by the session from the same sources (or the current
  DataFrame as given); only aggregates come back to the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from mlobs_notebook.drift.engines import is_spark_frame
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import read_time_column, to_utc

__all__ = [
    "IN_MEMORY_BYTES", "SIGNAL_ROWS",
    "choose_engine_and_session", "column_names", "current_rows", "held", "latest_time", "signal_sample",
    "spark_current", "select"]

# A polars input is collected when its compared columns take at most this much as float64.
IN_MEMORY_BYTES = 1 << 30


def choose_engine_and_session(engine: str | None, spark: Any, current: Any) -> tuple[str, Any]:
    """(engine, session): Spark when asked, or by default when given a session or a Spark
    DataFrame; the session from ``spark``, the current DataFrame or the active one."""
    from mlobs_notebook.drift.engines import choose_engine

    name = choose_engine(engine if engine is not None or spark is None else "spark", current)
    if name != "spark":
        return name, None
    from mlobs_notebook.drift.engines.spark_support import session_for

    return name, session_for(spark, current)


def column_names(frame: Any) -> list[str]:
    """The columns of a polars or Spark frame."""
    return list(frame.columns) if is_spark_frame(frame) else frame.collect_schema().names()


def select(frame: Any, columns: Sequence[str]) -> Any:
    if is_spark_frame(frame):
        from mlobs_notebook.drift.engines.spark_support import column

        return frame.select(*[column(c) for c in columns])
    return frame.select(columns)


def _fits(frame: pl.LazyFrame, columns: int) -> bool:
    rows = frame.select(pl.len()).collect(engine="streaming").item()
    return int(rows) * max(columns, 1) * 8 <= IN_MEMORY_BYTES


def held(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The frame collected (then lazy again) when its columns fit in ``IN_MEMORY_BYTES``, else the
    LazyFrame as it is, which the drift engine streams."""
    return frame.collect().lazy() if _fits(frame, len(frame.collect_schema())) else frame


def spark_current(
    current: Any, table: Any, time_column: str, time_format: str | None, start: Any, end: Any,
    trained_until: datetime | None, spark: Any,
) -> tuple[Any, str, list[str]]:
    """(the current data as a Spark DataFrame, a name for it, notes): ``current`` (a URI or a
    frame), else ``table`` (a SourceRef) after the training data ends."""
    from mlobs_notebook.drift.engines.spark_support import as_spark
    from mlobs_notebook.drift.engines.spark_time import read_spark_time
    from mlobs_notebook.sources.spark_scan import spark_scan

    notes: list[str] = []
    if current is None:
        name = table.uri
        frame = spark_scan(table, spark)
    elif isinstance(current, str):
        name, frame = current, spark_scan(current, spark)
    else:
        name, frame = f"<{type(current).__name__}>", as_spark(current, spark, "current data")
    if time_column not in frame.columns:
        return frame, name, notes  # choose_features names the missing column
    micros = read_spark_time(frame, time_column, time_format=time_format, time_zone=None).micros
    after = start if start is not None else (trained_until if current is None else None)
    if after is not None:
        frame = frame.where(micros >= _micros(after)) if start is not None else frame.where(micros > _micros(after))
        if start is None:
            notes.append(f"current data: {name} after the training data ends ({trained_until:%Y-%m-%d %H:%M} UTC)")
    if end is not None:
        frame = frame.where(micros < _micros(end))
    return frame, name, notes


def _micros(moment: Any) -> int:
    instant = to_utc(moment)
    return int((instant - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + instant.microsecond


def latest_time(frame: Any, time_column: str, time_format: str | None) -> datetime | None:
    """The latest instant of the time column (aware UTC), or None for no rows."""
    if is_spark_frame(frame):
        from pyspark.sql import functions as F

        from mlobs_notebook.drift.engines.spark_time import read_spark_time

        latest = frame.agg(F.max(read_spark_time(frame, time_column, time_format=time_format, time_zone=None).micros)).collect()[0][0]
        return None if latest is None else datetime.fromtimestamp(latest / 1_000_000, tz=UTC)
    parsed = read_time_column(frame, time_column, time_format=time_format)
    value = frame.lazy().select(parsed.expr.max()).collect(engine="streaming").item()
    return None if value is None else to_utc(value)


def current_rows(
    frame: Any, features: Sequence[str], time_column: str, time_format: str | None, source: str, start: Any, end: Any
) -> tuple[Any, tuple[datetime | None, datetime | None]]:
    """(the current data's compared columns, in memory when they fit; the first and last instants).

    :class:`InputError` when there are no rows to compare.
    """
    columns = [*features, time_column]
    if is_spark_frame(frame):
        from pyspark.sql import functions as F

        from mlobs_notebook.drift.engines.spark_time import read_spark_time

        data = select(frame, columns)
        micros = read_spark_time(data, time_column, time_format=time_format, time_zone=None).micros
        rows, first, last = data.agg(F.count(F.lit(1)), F.min(micros), F.max(micros)).collect()[0]
        instants = tuple(None if v is None else datetime.fromtimestamp(v / 1_000_000, tz=UTC) for v in (first, last))
    else:
        lazy = frame.lazy().select(columns)
        parsed = read_time_column(lazy, time_column, time_format=time_format).expr
        rows, first, last = lazy.select(pl.len(), parsed.min().alias("first"), parsed.max().alias("last")).collect(engine="streaming").row(0)
        instants = tuple(None if v is None else to_utc(v) for v in (first, last))
        data = lazy.collect() if rows * len(columns) * 8 <= IN_MEMORY_BYTES else lazy
    if rows == 0:
        raise InputError(
            f"no current rows in {source} for the time range {start or 'after training'} .. {end or 'now'}: nothing to compare"
        )
    return data, (instants[0], instants[1])


SIGNAL_ROWS = 500_000
"""At most this many rows of each side are read for the signals beyond per-feature drift (joint
drift, slices, the estimate) when a frame does not fit in memory: every k-th row, in file order."""


def signal_sample(frame: Any, columns: Sequence[str]) -> tuple[pl.DataFrame | None, bool]:
    """(the frame's ``columns`` in memory for the signals, whether they are a sample): the whole
    frame when it is held in memory, every k-th row up to :data:`SIGNAL_ROWS` when it is streamed,
    None for a Spark DataFrame (the signals run on polars frames)."""
    if is_spark_frame(frame):
        return None, False
    lazy = frame.lazy().select(list(dict.fromkeys(columns)))
    if isinstance(frame, pl.DataFrame):
        return frame.select(list(dict.fromkeys(columns))), False
    rows = int(lazy.select(pl.len()).collect(engine="streaming").item())
    if rows * max(len(columns), 1) * 8 <= IN_MEMORY_BYTES:
        return lazy.collect(), False
    step = -(-rows // SIGNAL_ROWS)
    return lazy.gather_every(step).collect(engine="streaming"), True
