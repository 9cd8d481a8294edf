"""A frame's time column read as aware instants in the data's zone: decided once from its dtype
and, for text, a sample of its values (see the package docstring for the rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import polars as pl

from mlobs_notebook.errors import InputError, UnknownColumn

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
_EPOCH: dict[str, Literal["s", "ms", "us"]] = {"epoch_s": "s", "epoch_ms": "ms", "epoch_us": "us"}
_ISO_TEXT = re.compile(_ISO)
_SAMPLE_ROWS = 2_000


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
        text = raw.cast(pl.String).str.strip_chars()
        if time_format is not None:
            text_format = time_format
            parsed = text.str.strptime(pl.Datetime("us"), time_format, strict=False)
            aware_text = "%z" in time_format or "%:z" in time_format or time_format.endswith("Z")
            if time_format.endswith("Z") or not aware_text:
                parsed = parsed.dt.replace_time_zone("UTC")
            found = {_offset(v) for v in _text_sample(frame, column)} if aware_text else set()
            offsets = sorted(o for o in found if o is not None)
        else:
            text_format = "ISO 8601"
            offsets = _iso_offsets(column, _text_sample(frame, column))
            parsed = _iso_instants(text)
        zone, note = _text_zone(column, offsets)
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
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                f"time_zone {time_zone!r} is not an IANA time zone; use a name like 'Europe/Berlin' or 'UTC'"
            ) from exc
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


def _iso_instants(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text (any of ``ISO_FORMS``) as aware UTC instants; null where it is not ISO."""
    parts = text.str.to_uppercase().str.extract_groups(_ISO)
    offset = parts.struct.field("8")
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


def _iso_offsets(column: str, sample: list[str]) -> list[str]:
    """The distinct UTC offsets of a sample of ISO text (empty when it has none), or an error
    when the sample is not ISO 8601 or mixes times with and without an offset."""
    bad = [v for v in sample if not _ISO_TEXT.match(v.upper())]
    if bad:
        shown = ", ".join(repr(v) for v in bad)
        raise InputError(
            f"time column {column!r} holds text that is not ISO 8601 (e.g. {shown[:120]}), and day-first "
            f"or month-first text cannot be told apart safely. Tried ISO 8601: {', '.join(ISO_FORMS)}. Pass "
            "the format with time_format= (--time-format), e.g. '%m/%d/%Y %H:%M' or '%d-%m-%Y'"
        )
    offsets = {_offset(v) for v in sample}
    if None in offsets and len(offsets) > 1:
        raise InputError(
            f"time column {column!r} mixes times with a UTC offset and times without one; the latter "
            "cannot be placed in time. Give every value an offset, or pass time_format="
        )
    return sorted(o for o in offsets if o is not None)


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


def _offset(value: str) -> str | None:
    """A text time's UTC offset as ``+hh:mm`` (``Z`` is ``+00:00``), or None without one."""
    match = _ISO_TEXT.match(value.strip().upper())
    if match is not None:
        offset = match.group(8)
    else:  # text read with a format of the user's: its trailing offset, if any
        tail = re.search(r"(Z|[+-]\d{2}(?::?\d{2})?)$", value.strip().upper())
        offset = tail.group(1) if tail else None
    if offset is None:
        return None
    if offset == "Z":
        return "+00:00"
    digits = offset[1:].replace(":", "")
    return f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
