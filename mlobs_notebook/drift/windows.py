"""Time windows: every row gets the index of its window, in one join, with no loop over windows."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["WINDOW", "Windows", "assign_windows", "check_granularity"]

WINDOW = "__window__"
_GRANULARITY = re.compile(r"^[1-9][0-9]*[hdw]$")


def check_granularity(granularity: str) -> str:
    if not isinstance(granularity, str) or not _GRANULARITY.match(granularity):
        raise InputError(
            f"granularity {granularity!r} is not valid; use a count and a unit h, d or w, "
            "e.g. '1h', '1d', '1w'"
        )
    return granularity


@dataclass(frozen=True)
class Windows:
    """Window bounds, one row per window (empty windows included), ordered by start."""

    bounds: pl.DataFrame  # window_start, window_end
    granularity: str | None
    null_time_rows: int = 0

    @property
    def count(self) -> int:
        return self.bounds.height


def _time_expr(schema: pl.Schema, time_column: str) -> pl.Expr:
    if time_column not in schema:
        raise UnknownColumn(
            f"time column {time_column!r} is not in the current data. Columns: {', '.join(schema)}"
        )
    dtype = schema[time_column]
    column = pl.col(time_column)
    if isinstance(dtype, pl.Datetime):
        return column
    if dtype == pl.Date:
        return column.cast(pl.Datetime("us"))
    if dtype == pl.String:
        return column.str.to_datetime(strict=False)
    raise InputError(
        f"time column {time_column!r} is {dtype}; it must be a datetime, a date or ISO text"
    )


def assign_windows(
    frame: pl.LazyFrame, time_column: str | None, granularity: str | None, *, streaming: bool
) -> tuple[pl.LazyFrame, Windows]:
    """The frame with an integer ``__window__`` column, and the windows' bounds.

    Windows run from the first to the last non-empty window at the granularity, so a gap in the
    data shows up as an empty window (count 0) rather than disappearing. Rows with a null time
    are dropped and counted.
    """
    if time_column is None:
        if granularity is not None:
            raise InputError("a granularity needs a time column (--time-column)")
        bounds = pl.DataFrame(
            {"window_start": [None], "window_end": [None]},
            schema={"window_start": pl.Datetime("us"), "window_end": pl.Datetime("us")},
        )
        return frame.with_columns(pl.lit(0, dtype=pl.Int32).alias(WINDOW)), Windows(bounds, None)
    if granularity is None:
        raise InputError(f"time column {time_column!r} needs a granularity such as '1d'")
    check_granularity(granularity)
    time = _time_expr(frame.collect_schema(), time_column)
    start = time.dt.truncate(granularity).alias("window_start")
    extent = frame.select(
        start.min().alias("first"), start.max().alias("last"), time.is_null().sum().alias("nulls")
    ).collect(engine="streaming" if streaming else "auto")
    first, last, nulls = extent.row(0)
    if first is None:
        starts = pl.Series("window_start", [], dtype=extent.schema["first"])
    else:
        starts = pl.datetime_range(first, last, granularity, eager=True).alias("window_start")
    bounds = pl.DataFrame([starts]).with_columns(
        window_end=pl.col("window_start").dt.offset_by(granularity),
    )
    zone = getattr(extent.schema["first"], "time_zone", None)
    if zone in (None, "UTC") and first is not None:
        # Fixed-length windows on a clock without DST: the index is arithmetic, no join.
        step = int((bounds["window_end"][0] - bounds["window_start"][0]).total_seconds() * 1_000_000)
        index = (start.dt.epoch("us") - int(starts.dt.epoch("us")[0])) // step
        framed = frame.filter(time.is_not_null()).with_columns(index.cast(pl.Int32).alias(WINDOW))
        return framed, Windows(bounds, granularity, int(nulls or 0))
    # Local time zones have 23- and 25-hour days: look each window start up instead. The small
    # table of starts is the join's build side.
    index = bounds.select("window_start", pl.int_range(pl.len(), dtype=pl.Int32).alias(WINDOW))
    index = index.with_columns(pl.col("window_start").cast(extent.schema["first"]))
    framed = frame.with_columns(start).join(index.lazy(), on="window_start", how="inner")
    return framed.drop("window_start"), Windows(bounds, granularity, int(nulls or 0))
