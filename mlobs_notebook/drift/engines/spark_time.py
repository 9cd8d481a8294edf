"""The time model on Spark: a time column as epoch microseconds, and every row's window.

How a column is read is decided by :func:`mlobs_notebook.times.read_time_column` itself, on the
column's type and, for text, a sample of its values: the same zone, format, notes and errors as
the polars engine. Only the arithmetic runs in Spark, and none of it depends on the session's
time zone (naive times are read as UTC wall clocks, as in ``times``). Window bounds are built by
``windows.py`` from the earliest and latest instants, so both engines label windows alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from mlobs_notebook.drift.engines.spark_support import column, polars_schema, spark_errors
from mlobs_notebook.drift.windows import (
    WINDOW,
    Windows,
    first_window_starts,
    fixed_offset,
    single_window,
    window_bounds,
)
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity, read_time_column

__all__ = ["SparkTime", "read_spark_time", "spark_windows", "strftime_to_java"]

# read_time_column's text_format for ISO 8601 text read without a format
_ISO = "ISO 8601"
_OFFSET = r"(?i)(z|[+-]\d{2}(:?\d{2})?)$"
_EPOCH = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}
_SAMPLE_ROWS = 2_000
_DAY_US = 86_400_000_000
# strftime directives (chrono's, as polars reads them) and the Java pattern Spark parses with
_JAVA = {
    "Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "I": "hh", "M": "mm", "S": "ss",
    "p": "a", "b": "MMM", "h": "MMM", "B": "MMMM", "j": "DDD", "z": "xx", ":z": "xxx",
    ".f": "[.SSSSSSSSS]", "f": "SSSSSSSSS", "F": "yyyy-MM-dd", "T": "HH:mm:ss", "R": "HH:mm",
    "D": "MM/dd/yy",
}
_DIRECTIVE = re.compile(r"%(:z|\.f|.)")


@dataclass(frozen=True)
class SparkTime:
    """A Spark time column read: ``micros`` (a Column of epoch microseconds, null for a null
    time or text the format cannot read), the zone windows are labelled in, and the note."""

    name: str
    micros: Any
    zone: str
    text_format: str | None = None
    note: str | None = None


def strftime_to_java(fmt: str) -> str:
    """A strftime format as a Java DateTimeFormatter pattern (the directives in ``_JAVA``);
    :class:`InputError` for any other directive."""
    parts, last = [], 0
    for match in _DIRECTIVE.finditer(fmt):
        literal = fmt[last : match.start()]
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        code = match.group(1)
        if code == "%":
            parts.append("'%'")
        elif code in _JAVA:
            parts.append(_JAVA[code])
        else:
            raise InputError(
                f"time format {fmt!r}: %{code} is not supported by the Spark engine; use "
                f"{', '.join('%' + k for k in _JAVA)}, or convert the column with to_timestamp first"
            )
        last = match.end()
    if fmt[last:]:
        parts.append("'" + fmt[last:].replace("'", "''") + "'")
    return "".join(parts)


def _ntz_micros(value: Any) -> Any:
    """Epoch microseconds of a naive timestamp read as a UTC wall clock (no session zone)."""
    from pyspark.sql import functions as F

    return F.unix_micros(
        F.make_timestamp(
            F.year(value), F.month(value), F.dayofmonth(value), F.hour(value), F.minute(value),
            F.date_part(F.lit("SECOND"), value), F.lit("UTC"),
        )
    )


def read_spark_time(frame: Any, name: str, *, time_format: str | None, time_zone: str | None) -> SparkTime:
    """How to read ``name`` as instants; the rules and errors of ``read_time_column``."""
    from pyspark.sql import functions as F

    dtype = polars_schema(frame)[name]
    raw = column(name)
    if dtype == pl.String:
        with spark_errors(f"reading a sample of the time column {name!r}"):
            sample = frame.select(F.trim(raw).alias(name)).where(raw.isNotNull()).limit(_SAMPLE_ROWS).toArrow()
        probe = pl.DataFrame(pl.from_arrow(sample))
    else:
        probe = pl.DataFrame(schema={name: dtype})
    read = read_time_column(probe, name, time_format=time_format, time_zone=time_zone)
    if time_format in _EPOCH:
        micros = raw.cast("long") * F.lit(_EPOCH[time_format])
    elif dtype == pl.Datetime("us", "UTC"):
        micros = F.unix_micros(raw)
    elif dtype == pl.Datetime("us"):
        micros = _ntz_micros(raw)
    elif dtype == pl.Date:
        micros = F.datediff(raw, F.lit("1970-01-01").cast("date")).cast("long") * F.lit(_DAY_US)
    else:  # text: the format read_time_column chose, or the caller's
        fmt = read.text_format or _ISO
        text = F.trim(raw)
        if fmt == _ISO:  # Spark's cast reads ISO 8601; an offset, when the text has one, makes it absolute
            aware = bool(probe.height) and bool(probe[name].cast(pl.String).str.contains(_OFFSET).any())
            micros = F.unix_micros(text.try_cast("timestamp")) if aware else _ntz_micros(text.try_cast("timestamp_ntz"))
        elif "%z" in fmt or "%:z" in fmt or fmt.endswith("Z"):
            micros = F.unix_micros(F.try_to_timestamp(text, F.lit(strftime_to_java(fmt))))
        else:  # a naive wall clock is UTC: parse it with a zero offset appended
            micros = F.unix_micros(F.try_to_timestamp(F.concat(text, F.lit("Z")), F.lit(strftime_to_java(fmt) + "X")))
        return SparkTime(name, micros, read.zone, fmt, read.note)
    return SparkTime(name, micros, read.zone, None, read.note)


def _index_tree(t: Any, starts: list[int], low: int, high: int) -> Any:
    """The window holding ``t``: a balanced tree of comparisons with the window starts."""
    from pyspark.sql import functions as F

    if high - low == 1:
        return F.lit(low)
    middle = (low + high) // 2
    return F.when(t < F.lit(starts[middle]), _index_tree(t, starts, low, middle)).otherwise(
        _index_tree(t, starts, middle, high)
    )


def spark_windows(frame: Any, time: SparkTime | None, granularity: Granularity | None) -> tuple[Any, Windows]:
    """The frame with an integer ``__window__`` column (rows with a null time dropped), and the
    windows' bounds, as ``windows.assign_windows`` makes them."""
    from pyspark.sql import functions as F

    if time is None:
        return frame.withColumn(WINDOW, F.lit(0).cast("int")), single_window(granularity)
    if granularity is None:
        raise InputError(f"time column {time.name!r} needs a granularity such as '1d'")
    raw = column(time.name)
    unreadable = raw.isNotNull() & time.micros.isNull()
    with spark_errors(f"reading the time column {time.name!r}"):
        first_us, last_us, nulls, unparsed = frame.agg(
            F.min(time.micros), F.max(time.micros), F.sum(raw.isNull().cast("long")),
            F.sum(unreadable.cast("long")),
        ).collect()[0]
        if unparsed:
            examples = [row[0] for row in frame.where(unreadable).select(raw).limit(3).collect()]
            raise InputError(
                f"time column {time.name!r}: {unparsed:,} value(s) do not match the format "
                f"{time.text_format!r} (e.g. {', '.join(map(repr, examples))}). Pass the format "
                "they are written in (time_format=, --time-format), e.g. '%m/%d/%Y %H:%M'"
            )
    first, last = first_window_starts(first_us, last_us, granularity, time.zone)
    bounds = window_bounds(first, last, granularity, time.zone)
    windows = Windows(bounds, granularity, time.zone, int(nulls or 0), time.note)
    present = frame.where(time.micros.isNotNull())
    starts = bounds["window_start"].dt.epoch("us").to_list()
    if not starts:
        return present.withColumn(WINDOW, F.lit(0).cast("int")), windows
    if granularity.fixed is not None and fixed_offset(time.zone):
        # fixed-length windows on a clock without DST: exact integer arithmetic
        step = int(granularity.fixed.total_seconds() * 1_000_000)
        offset = time.micros - F.lit(starts[0])
        index = (offset - F.pmod(offset, F.lit(step))) / F.lit(step)
    else:  # DST days and calendar months: the last window start at or before the instant
        index = _index_tree(time.micros, starts, 0, len(starts))
    return present.withColumn(WINDOW, index.cast("int")), windows
