"""A frame's time column read as aware instants in the data's zone: decided once from its dtype
and, for text, a sample of its values (see the package docstring for the rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["ISO_FORMATS", "TimeColumn", "read_time_column"]

# ISO 8601 text, tried in this order; each must read every non-null value of the column.
ISO_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_EPOCH: dict[str, Literal["s", "ms", "us"]] = {"epoch_s": "s", "epoch_ms": "ms", "epoch_us": "us"}
_OFFSET = re.compile(r"([+-]\d\d):?(\d\d)$")
_SAMPLE_ROWS = 2_000


@dataclass(frozen=True)
class TimeColumn:
    """How a frame's time column is read: the expression giving aware instants, and its zone.

    ``expr`` yields ``Datetime("us", zone)``; ``text_format`` is the format text was read with
    (None for a temporal column); ``note`` says what a reader should know (offsets converted).
    Use :func:`read_time_column` to build one; :meth:`unparsed` counts text the format missed.
    """

    name: str
    expr: pl.Expr
    zone: str
    text_format: str | None = None
    note: str | None = None

    def unparsed(self) -> pl.Expr:
        """Rows whose time is text but read as null: must be 0, else :meth:`check_unparsed` raises."""
        if self.text_format is None:
            return pl.lit(0, dtype=pl.UInt32)
        return (pl.col(self.name).is_not_null() & self.expr.is_null()).sum()

    def check_unparsed(self, count: int, frame: pl.LazyFrame | pl.DataFrame) -> None:
        if not count:
            return
        raw = pl.col(self.name)
        example = (
            frame.lazy().filter(raw.is_not_null() & self.expr.is_null()).select(raw).head(3).collect()
        )
        shown = ", ".join(repr(v) for v in example[self.name].to_list())
        raise InputError(
            f"time column {self.name!r}: {count:,} value(s) do not match the format "
            f"{self.text_format!r} (e.g. {shown}). Pass the format they are written in "
            "(time_format=, --time-format), e.g. '%m/%d/%Y %H:%M'"
        )


def read_time_column(
    frame: pl.LazyFrame | pl.DataFrame,
    column: str,
    *,
    time_format: str | None = None,
    time_zone: str | None = None,
) -> TimeColumn:
    """How to read ``column`` as aware instants, decided once from its dtype (and, for text, a
    sample of its values). See the module docstring for the rules.

    ``time_format``: a strftime format for text (``"%m/%d/%Y %H:%M"``), or ``epoch_s``,
    ``epoch_ms``, ``epoch_us`` for integer seconds, milliseconds, microseconds since 1970 (UTC).
    ``time_zone``: an IANA zone to window in, instead of the data's own (instants are unchanged).
    Raises :class:`InputError` naming the column for any type or text it cannot read.
    """
    schema = frame.collect_schema()
    if column not in schema:
        raise UnknownColumn(f"time column {column!r} is not in the data. Columns: {', '.join(schema)}")
    dtype = schema[column]
    raw = pl.col(column)
    text_format, note = None, None
    if time_format in _EPOCH:
        if not dtype.is_integer():
            raise InputError(f"time column {column!r} is {dtype}; time_format={time_format!r} needs integers")
        expr = pl.from_epoch(raw, time_unit=_EPOCH[time_format]).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        zone = "UTC"
    elif isinstance(dtype, pl.Datetime):
        zone = dtype.time_zone or "UTC"
        expr = raw.cast(pl.Datetime("us", dtype.time_zone))
        if dtype.time_zone is None:
            expr = expr.dt.replace_time_zone("UTC")
    elif dtype == pl.Date:
        zone = "UTC"
        expr = raw.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        sample = _text_sample(frame, column)
        text_format = time_format or _iso_format(column, sample)
        text = raw.cast(pl.String).str.strip_chars()
        parsed = text.str.strptime(pl.Datetime("us"), text_format, strict=False)
        offsets = sorted({o for v in sample if (o := _offset(v)) is not None}) if "z" in text_format.lower() else []
        if "%z" in text_format or "%:z" in text_format or text_format.endswith("Z"):
            zone = "UTC"
            if text_format.endswith("Z"):
                parsed = parsed.dt.replace_time_zone("UTC")
            if len(offsets) == 1 and offsets[0] not in ("+00:00", "-00:00"):
                zone = _offset_zone(offsets[0])
                if zone == "UTC":
                    note = (
                        f"time column {column!r} is at UTC{offsets[0]}, not a whole number of hours: "
                        "windows are in UTC; pass time_zone= to window in a local zone"
                    )
            elif len(offsets) > 1:
                note = (
                    f"time column {column!r} holds several UTC offsets ({', '.join(offsets)}): "
                    "windows are in UTC; pass time_zone= to window in a local zone"
                )
        else:
            zone = "UTC"
            parsed = parsed.dt.replace_time_zone("UTC")
        expr = parsed
    elif dtype.is_integer() or dtype.is_float():
        raise InputError(
            f"time column {column!r} is {dtype}: numbers are not read as times without a unit. "
            "Pass time_format='epoch_s', 'epoch_ms' or 'epoch_us' (--time-format) for epoch times"
        )
    else:
        raise InputError(
            f"time column {column!r} is {dtype}; it must be a datetime, a date, or text (ISO 8601, "
            "or another format given with time_format=)"
        )
    if time_zone is not None:
        zone = time_zone
    expr = expr.dt.convert_time_zone(zone)
    return TimeColumn(column, expr.alias(column), zone, text_format, note)


def _text_sample(frame: pl.LazyFrame | pl.DataFrame, column: str) -> list[str]:
    raw = pl.col(column)
    sample = (
        frame.lazy().select(raw.cast(pl.String).str.strip_chars()).filter(raw.is_not_null())
        .head(_SAMPLE_ROWS).collect()
    )
    return [v for v in sample[column].to_list() if v]


def _iso_format(column: str, sample: list[str]) -> str:
    if not sample:
        return ISO_FORMATS[0]
    values = pl.Series(sample, dtype=pl.String)
    for fmt in ISO_FORMATS:
        parsed = values.str.strptime(pl.Datetime("us"), fmt, strict=False)
        if parsed.null_count() == 0:
            return fmt
    shown = ", ".join(repr(v) for v in sample[:3])
    raise InputError(
        f"time column {column!r} holds text that is not ISO 8601 (e.g. {shown}), and day-first or "
        f"month-first text cannot be told apart safely. Tried: {', '.join(ISO_FORMATS)}. Pass the "
        "format with time_format= (--time-format), e.g. '%m/%d/%Y %H:%M' or '%d-%m-%Y'"
    )


def _offset_zone(offset: str) -> str:
    """``+02:00`` as the IANA zone with that fixed offset (``Etc/GMT-2``: POSIX signs are
    inverted), or UTC when the offset is not whole hours (no such zone exists)."""
    sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
    if minutes or hours > 14:
        return "UTC"
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def _offset(value: str) -> str | None:
    if value.endswith("Z"):
        return "+00:00"
    match = _OFFSET.search(value)
    return f"{match.group(1)}:{match.group(2)}" if match else None
