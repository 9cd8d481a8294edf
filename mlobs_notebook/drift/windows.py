"""Time windows: every row gets the index of its window, in one join, with no loop over windows.

Windows are labelled in the time column's zone (see :mod:`mlobs_notebook.times`): a day window of
``Europe/Berlin`` data starts at local midnight, and ``window_start``/``window_end`` are aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity, TimeColumn, human

__all__ = [
    "WINDOW",
    "Windows",
    "assign_windows",
    "first_window_starts",
    "fixed_offset",
    "single_window",
    "window_bounds",
    "window_notes",
]

WINDOW = "__window__"


@dataclass(frozen=True)
class Windows:
    """Window bounds, one row per window (empty windows included), ordered by start.

    ``bounds`` holds ``window_start`` and ``window_end`` as ``Datetime("us", zone)``; without a
    time column there is one window whose bounds are null.
    """

    bounds: pl.DataFrame
    granularity: Granularity | None
    zone: str = "UTC"
    null_time_rows: int = 0
    note: str | None = None

    @property
    def count(self) -> int:
        return self.bounds.height


def fixed_offset(zone: str) -> bool:
    """Zones whose offset never changes, so fixed-length windows are plain arithmetic."""
    return zone == "UTC" or zone.startswith(("Etc/", "+", "-"))


def single_window(granularity: Granularity | None) -> Windows:
    """The one window of data without a time column (its bounds are null)."""
    if granularity is not None:
        raise InputError("a granularity needs a time column (--time-column)")
    dtype = pl.Datetime("us", "UTC")
    bounds = pl.DataFrame(
        {"window_start": [None], "window_end": [None]},
        schema={"window_start": dtype, "window_end": dtype},
    )
    return Windows(bounds, None)


# The step of the candidate instants that find a DST zone's windows: every window lasts longer
# than this (real zones shift their clocks by 30 or 60 minutes, and offsets are quarter hours).
_PROBE = timedelta(minutes=15)


def window_bounds(first: Any, last: Any, granularity: Granularity, zone: str) -> pl.DataFrame:
    """Every window from the one starting at ``first`` to the one starting at ``last`` (both
    window starts, aware, or None for no data), as ``window_start`` and ``window_end`` (the next
    window's start), in ``Datetime("us", zone)``.

    On a clock without DST the starts are a plain range. In a DST zone polars truncates on the
    wall clock (a ``6h`` window starts at local 00, 06, 12, 18; a day at local midnight), so a
    window lasts one hour more or less across a change, and stepping ``every`` from ``first``
    drifts off those starts. There the starts are found by truncating instants ``_PROBE`` apart
    from ``first`` to past the end of ``last``'s window (each window holds one), kept once each.
    """
    dtype = pl.Datetime("us", zone)
    every = granularity.every
    if first is None:
        starts = pl.Series("window_start", [], dtype=dtype)
        return pl.DataFrame([starts]).with_columns(window_end=pl.col("window_start").dt.offset_by(every))
    if fixed_offset(zone):
        starts = pl.datetime_range(first, last, every, eager=True, time_zone=zone).alias("window_start")
        return pl.DataFrame([starts.cast(dtype)]).with_columns(window_end=pl.col("window_start").dt.offset_by(every))
    reach = granularity.fixed + timedelta(hours=2) if granularity.fixed else timedelta(days=31 * granularity.count + 1)
    probes = pl.datetime_range(first, last + reach, _PROBE, eager=True, time_zone="UTC")
    found = probes.dt.convert_time_zone(zone).dt.truncate(every).unique().sort()
    return (
        pl.DataFrame({"window_start": found})
        .with_columns(window_end=pl.col("window_start").shift(-1))
        .filter(pl.col("window_start") <= last)
        .cast(dtype)
    )


def first_window_starts(first_us: int | None, last_us: int | None, granularity: Granularity, zone: str) -> tuple[Any, Any]:
    """The starts of the windows holding two instants (epoch microseconds, or None), in ``zone``:
    what ``dt.truncate`` gives for them, so an engine that finds the earliest and the latest
    instant itself labels its windows as this module does."""
    if first_us is None or last_us is None:
        return None, None
    instants = pl.Series([first_us, last_us], dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    starts = instants.dt.convert_time_zone(zone).dt.truncate(granularity.every)
    return starts[0], starts[1]


def assign_windows(
    frame: pl.LazyFrame,
    time: TimeColumn | None,
    granularity: Granularity | None,
    *,
    streaming: bool,
) -> tuple[pl.LazyFrame, Windows]:
    """The frame with an integer ``__window__`` column, and the windows' bounds.

    Windows run from the first to the last non-empty window at the granularity, so a gap in the
    data shows up as an empty window (count 0) rather than disappearing. Rows with a null time
    are dropped and counted. Without any row with a time there is one window with null bounds
    and no rows. Text the time column's format cannot read raises :class:`InputError` naming a
    value (never a silent null).
    """
    if time is None:
        return frame.with_columns(pl.lit(0, dtype=pl.Int32).alias(WINDOW)), single_window(granularity)
    if granularity is None:
        raise InputError(f"time column {time.name!r} needs a granularity such as '1d'")
    every = granularity.every
    instant = time.expr
    start = instant.dt.truncate(every).alias("window_start")
    extent = frame.select(
        start.min().alias("first"),
        start.max().alias("last"),
        instant.is_null().sum().alias("nulls"),
        time.unparsed().alias("unparsed"),
    ).collect(engine="streaming" if streaming else "auto")
    first, last, nulls, unparsed = extent.row(0)
    time.check_unparsed(int(unparsed or 0), frame)
    for moment in (first, last):
        if moment is not None and not 1900 <= moment.year <= 2200:
            raise InputError(
                f"time column {time.name!r} holds {moment.year:04d}-{moment.month:02d}-{moment.day:02d}, outside 1900-2200: a format or unit that does not "
                "fit the data (a two-digit year read by %Y needs %y; epoch numbers need their unit)"
            )
    dtype = pl.Datetime("us", time.zone)
    if first is None:
        # no row has a time: one window with null bounds and no rows, so the report says "empty"
        bounds = pl.DataFrame({"window_start": [None], "window_end": [None]}, schema={"window_start": dtype, "window_end": dtype})
        nothing = frame.with_columns(time.expr).filter(pl.lit(False)).with_columns(pl.lit(0, dtype=pl.Int32).alias(WINDOW))
        return nothing, Windows(bounds, granularity, time.zone, int(nulls or 0), time.note)
    bounds = window_bounds(first, last, granularity, time.zone)
    starts = bounds["window_start"]
    # the time column is replaced by its instants once; what follows reads them
    framed_input = frame.with_columns(instant)
    parsed = pl.col(time.name)
    start = parsed.dt.truncate(every).alias("window_start")
    windows = Windows(bounds, granularity, time.zone, int(nulls or 0), time.note)
    if granularity.fixed is not None and fixed_offset(time.zone) and first is not None:
        # Fixed-length windows on a clock without DST: the index is arithmetic, no join.
        step = int(granularity.fixed.total_seconds() * 1_000_000)
        index = (start.dt.epoch("us") - int(starts.dt.epoch("us")[0])) // step
        framed = framed_input.filter(parsed.is_not_null()).with_columns(index.cast(pl.Int32).alias(WINDOW))
        return framed, windows
    # Local zones have 23- and 25-hour days and months differ in length: look each window start
    # up instead. The small table of starts is the join's build side.
    lookup = bounds.select("window_start", pl.int_range(pl.len(), dtype=pl.Int32).alias(WINDOW))
    framed = framed_input.with_columns(start).join(lookup.lazy(), on="window_start", how="inner")
    return framed.drop("window_start"), windows


def window_notes(windows: Windows, rows: np.ndarray, time_column: str | None, min_rows: int) -> list[str]:
    """What the reader of the table must know about its windows: dropped rows, empty and small ones."""
    notes = [windows.note] if windows.note else []
    if windows.null_time_rows:
        notes.append(f"{windows.null_time_rows} row(s) with a null or empty {time_column!r} were left out")

    def named(indices: np.ndarray) -> str:
        starts = windows.bounds["window_start"].gather(indices[:3]).to_list()
        shown = ", ".join(human(s, windows.granularity) for s in starts)
        return shown + (", ..." if len(indices) > 3 else "")

    empty = np.flatnonzero(rows == 0)
    if windows.bounds["window_start"].null_count() == windows.count and rows.sum() == 0:
        notes.append("the current data has no rows" + (f" with a {time_column!r}" if windows.null_time_rows else "")
                     + ": nothing to compare (status empty)")  # fmt: skip
    elif len(empty):
        notes.append(f"{len(empty)} of {windows.count} window(s) have no rows (status empty): {named(empty)}")
    small = np.flatnonzero((rows > 0) & (rows < min_rows))
    if len(small):
        notes.append(
            f"{len(small)} window(s) have fewer than min_window_rows={min_rows} rows; their statistics "
            f"are shown but not judged (status too_small): {named(small)}"
        )
    return notes
