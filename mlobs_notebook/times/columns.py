"""A frame's time column read as aware instants in the data's zone: decided once from its dtype
and, for text, the offsets of all its values (see the package docstring for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.times.instants import zone_info

__all__ = ["ISO_FORMS", "TimeColumn", "read_time_column"]

# The ISO 8601 / RFC 3339 text read without a format: the extended and the basic form, a "T" or
# a space (either case) before the time, seconds and fractions optional, and an offset of "Z",
# "+hh", "+hhmm" or "+hh:mm", or none (then the time is UTC). A column must not mix times with
# and without an offset.
ISO_FORMS: tuple[str, ...] = (
    "YYYY-MM-DD",
    "YYYY-MM-DDThh:mm",
    "YYYY-MM-DDThh:mm:ss",
    "YYYY-MM-DDThh:mm:ss.ffffff",
    "YYYY-MM-DD hh:mm:ss",
    "any of these with Z, +hh, +hhmm or +hh:mm",
    "YYYYMMDDThhmmssZ (basic)",
)
_ISO = (
    r"^(\d{4})-?(\d{2})-?(\d{2})"
    r"(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_CANONICAL = "%Y-%m-%dT%H:%M:%S%.f%:z"
_EPOCH: dict[str, Literal["s", "ms", "us", "ns"]] = {
    "epoch_s": "s", "epoch_ms": "ms", "epoch_us": "us", "epoch_ns": "ns"}
_PER_SECOND = {"epoch_s": 1, "epoch_ms": 10**3, "epoch_us": 10**6, "epoch_ns": 10**9}
# Epoch times outside these years are read in the wrong unit (seconds as milliseconds land in
# January 1970), not data: 1980-01-01 and 2200-01-01 UTC in seconds.
_PLAUSIBLE = (315_532_800, 7_258_118_400)
_TAIL_OFFSET = r"(Z|[+-]\d{2}(?::?\d{2})?)$"


@dataclass(frozen=True)
class TimeColumn:
    """How a frame's time column is read: the expression giving aware instants, and its zone.

    ``expr`` yields ``Datetime("us", zone)``; ``text_format`` is the format text was read with
    (``"ISO 8601"`` for text read without one, None for a temporal column); ``note`` says what a
    reader should know (offsets converted).
    Use :func:`read_time_column` to build one; :meth:`unparsed` counts text the format missed.
    """

    name: str
    expr: pl.Expr
    zone: str
    text_format: str | None = None
    note: str | None = None

    def unparsed(self) -> pl.Expr:
        """Rows whose time is text but read as null: must be 0, else :meth:`check_unparsed` raises.
        Empty text is a missing time (null), not unparsed text."""
        if self.text_format is None:
            return pl.lit(0, dtype=pl.UInt32)
        return (_text(self.name).is_not_null() & self.expr.is_null()).sum()

    def check_unparsed(self, count: int, frame: pl.LazyFrame | pl.DataFrame) -> None:
        if not count:
            return
        raw = pl.col(self.name)
        example = (
            frame.lazy().filter(_text(self.name).is_not_null() & self.expr.is_null()).select(raw).head(3).collect()
        )
        shown = ", ".join(repr(v) for v in example[self.name].to_list())
        what = "are not ISO 8601 times" if self.text_format == "ISO 8601" else f"do not match the format {self.text_format!r}"
        raise InputError(
            f"time column {self.name!r}: {count:,} value(s) {what} (e.g. {shown}). Pass the format "
            "they are written in (time_format=, --time-format), e.g. '%m/%d/%Y %H:%M'"
        )


def read_time_column(
    frame: pl.LazyFrame | pl.DataFrame,
    column: str,
    *,
    time_format: str | None = None,
    time_zone: str | None = None,
) -> TimeColumn:
    """How to read ``column`` as aware instants, decided once from its dtype (and, for text, the
    UTC offsets found in the whole column). See the package docstring for the rules.

    ``time_format``: a strftime format for text (``"%m/%d/%Y %H:%M"``), or ``epoch_s``,
    ``epoch_ms``, ``epoch_us``, ``epoch_ns`` for integer seconds, milliseconds, microseconds,
    nanoseconds since 1970 (UTC); epoch times must fall in 1980-2200, else the unit is wrong and
    :class:`InputError` names the one that fits.
    ``time_zone``: an IANA zone to window in, instead of the data's own (instants are unchanged).
    ``time_format`` is ignored for a column that already holds datetimes or dates. Empty text is
    a missing time (null). ISO text with date-only values and times with one offset reads the
    dates as midnight at that offset.
    Raises :class:`InputError` naming the column for any type or text it cannot read.
    """
    if time_zone is not None:
        zone_info(time_zone)
    schema = frame.collect_schema()
    if column not in schema:
        raise UnknownColumn(f"time column {column!r} is not in the data. Columns: {', '.join(schema)}")
    dtype = schema[column]
    raw = pl.col(column)
    text_format, note = None, None
    if isinstance(dtype, pl.Datetime):  # already times: a time_format has nothing to read
        zone = dtype.time_zone or "UTC"
        expr = raw.cast(pl.Datetime("us", dtype.time_zone))
        if dtype.time_zone is None:
            expr = expr.dt.replace_time_zone("UTC")
    elif dtype == pl.Date:
        zone = "UTC"
        expr = raw.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif time_format in _EPOCH:
        if not dtype.is_integer():
            raise InputError(f"time column {column!r} is {dtype}; time_format={time_format!r} needs integers")
        _check_epoch(frame, column, time_format)
        expr = pl.from_epoch(raw, time_unit=_EPOCH[time_format]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        zone = "UTC"
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = _text(column)
        if time_format is not None:
            text_format = time_format
            parsed = text.str.strptime(pl.Datetime("us"), time_format, strict=False)
            aware_text = "%z" in time_format or "%:z" in time_format or time_format.endswith("Z")
            if time_format.endswith("Z") or not aware_text:
                parsed = parsed.dt.replace_time_zone("UTC")
            offsets = _format_offsets(frame, column) if aware_text else []
        else:
            text_format = "ISO 8601"
            offsets = _iso_offsets(frame, column)
            parsed = _iso_instants(text, offsets[0] if len(offsets) == 1 else "+00:00")
        zone, note = _text_zone(column, offsets)
        expr = parsed
    elif dtype.is_integer() or dtype.is_float():
        raise InputError(
            f"time column {column!r} is {dtype}: numbers are not read as times without a unit. "
            "Pass time_format='epoch_s', 'epoch_ms', 'epoch_us' or 'epoch_ns' (--time-format) for epoch times"
        )
    else:
        raise InputError(
            f"time column {column!r} is {dtype}; it must be a datetime, a date, or text (ISO 8601, "
            "or another format given with time_format=)"
        )
    if time_zone is not None:
        zone, note = time_zone, None  # the note would say to pass the zone just given
    expr = expr.dt.convert_time_zone(zone)
    return TimeColumn(column, expr.alias(column), zone, text_format, note)


def _check_epoch(frame: pl.LazyFrame | pl.DataFrame, column: str, time_format: str) -> None:
    """An error naming the column and the unit that fits when epoch numbers read in
    ``time_format``'s unit fall outside 1980-2200 (Python integers: no overflow)."""
    low, high = frame.lazy().select(pl.col(column).min().alias("low"), pl.col(column).max().alias("high")).collect().row(0)
    if low is None:
        return
    per = _PER_SECOND[time_format]
    if _PLAUSIBLE[0] <= low // per and high // per < _PLAUSIBLE[1]:
        return
    fits = [f for f, p in _PER_SECOND.items() if _PLAUSIBLE[0] <= low // p and high // p < _PLAUSIBLE[1]]
    hint = f"they look like {fits[0]}: pass time_format={fits[0]!r}" if fits else (
        "no epoch unit puts them all there: check the column")
    raise InputError(
        f"time column {column!r} read with time_format={time_format!r} holds {low:,} to {high:,}, which are "
        f"not times between 1980 and 2200 in {time_format.removeprefix('epoch_')}; {hint} (--time-format)"
    )


def _text(column: str) -> pl.Expr:
    """A text time column stripped, with empty text as null (a missing time)."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _iso_instants(text: pl.Expr, date_offset: str) -> pl.Expr:
    """ISO 8601 text (any of ``ISO_FORMS``) as aware UTC instants; null where it is not ISO.
    A time without an offset is UTC; a date alone is midnight at ``date_offset``."""
    parts = text.str.to_uppercase().str.extract_groups(_ISO)
    offset = parts.struct.field("8")
    offset = pl.when(offset.is_null() & parts.struct.field("4").is_null()).then(pl.lit(date_offset)).otherwise(offset)
    canonical = pl.concat_str(
        parts.struct.field("1"), pl.lit("-"), parts.struct.field("2"), pl.lit("-"), parts.struct.field("3"),
        pl.lit("T"), parts.struct.field("4").fill_null("00"), pl.lit(":"), parts.struct.field("5").fill_null("00"),
        pl.lit(":"), parts.struct.field("6").fill_null("00"), pl.lit("."),
        (parts.struct.field("7").fill_null("") + pl.lit("000000")).str.slice(0, 6),
        pl.when(offset.is_null() | (offset == "Z")).then(pl.lit("+00:00"))
        .when(offset.str.len_chars() == 3).then(offset + pl.lit(":00"))
        .when(offset.str.len_chars() == 5).then(offset.str.slice(0, 3) + pl.lit(":") + offset.str.slice(3, 2))
        .otherwise(offset),
    )  # fmt: skip
    return canonical.str.strptime(pl.Datetime("us"), _CANONICAL, strict=False)


def _iso_offsets(frame: pl.LazyFrame | pl.DataFrame, column: str) -> list[str]:
    """The distinct UTC offsets of a column of ISO text, over every row (empty when it has none),
    or an error when it holds text that is not ISO 8601, or mixes times with and without an
    offset, or dates alone with several offsets (their midnight is then unknown)."""
    text = _text(column)
    upper = text.str.to_uppercase()
    parts = upper.str.extract_groups(_ISO)
    lazy = frame.lazy()
    bad, found = pl.collect_all([
        lazy.filter(text.is_not_null() & ~upper.str.contains(_ISO)).select(text).head(3),
        lazy.filter(text.is_not_null())
        .select(parts.struct.field("4").is_not_null().alias("timed"), parts.struct.field("8").alias("offset")).unique(),
    ])  # fmt: skip
    if bad.height:
        shown = ", ".join(repr(v) for v in bad[column].to_list())
        raise InputError(
            f"time column {column!r} holds text that is not ISO 8601 (e.g. {shown[:120]}), and day-first "
            f"or month-first text cannot be told apart safely. Tried ISO 8601: {', '.join(ISO_FORMS)}. Pass "
            "the format with time_format= (--time-format), e.g. '%m/%d/%Y %H:%M' or '%d-%m-%Y'"
        )
    pairs = [(timed, _normal_offset(offset)) for timed, offset in found.iter_rows()]
    offsets = sorted({o for _, o in pairs if o is not None})
    if offsets and any(timed and o is None for timed, o in pairs):
        raise InputError(
            f"time column {column!r} mixes times with a UTC offset and times without one; the latter "
            "cannot be placed in time. Give every value an offset, or pass time_format="
        )
    if len(offsets) > 1 and any(not timed and o is None for timed, o in pairs):
        raise InputError(
            f"time column {column!r} holds dates without a time beside times at several UTC offsets "
            f"({', '.join(offsets)}); the dates' midnight cannot be placed. Give them a time and an offset"
        )
    return offsets


def _format_offsets(frame: pl.LazyFrame | pl.DataFrame, column: str) -> list[str]:
    """The distinct trailing UTC offsets of text read with a format of the user's, over every row."""
    found = frame.lazy().select(_text(column).str.to_uppercase().str.extract(_TAIL_OFFSET, 1).unique()).collect()
    return sorted({o for o in map(_normal_offset, found[column].to_list()) if o is not None})


def _text_zone(column: str, offsets: list[str]) -> tuple[str, str | None]:
    """The zone text is windowed in: its one fixed offset, else UTC (with a note for several)."""
    if len(offsets) == 1 and offsets[0] not in ("+00:00", "-00:00"):
        zone = _offset_zone(offsets[0])
        if zone == "UTC":
            return zone, (
                f"time column {column!r} is at UTC{offsets[0]}, not a whole number of hours: "
                "windows are in UTC; pass time_zone= (--time-zone) to window in a local zone"
            )
        return zone, None
    if len(offsets) > 1:
        return "UTC", (
            f"time column {column!r} holds several UTC offsets ({', '.join(offsets)}): "
            "windows are in UTC; pass time_zone= (--time-zone) to window in a local zone"
        )
    return "UTC", None


def _offset_zone(offset: str) -> str:
    """``+02:00`` as the IANA zone with that fixed offset (``Etc/GMT-2``: POSIX signs are
    inverted), or UTC when the offset is not whole hours (no such zone exists)."""
    sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
    if minutes or hours > 14:
        return "UTC"
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def _normal_offset(offset: str | None) -> str | None:
    """A UTC offset as ``+hh:mm`` (``Z`` is ``+00:00``), or None without one."""
    if offset is None:
        return None
    if offset == "Z":
        return "+00:00"
    digits = offset[1:].replace(":", "")
    return f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
