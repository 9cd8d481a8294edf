"""Instants: aware UTC inside, from whatever a user or a store hands over; read back for people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mlobs_notebook.errors import InputError
from mlobs_notebook.times.granularity import Granularity

__all__ = ["aware", "from_epoch_ms", "human", "in_zone", "range_bound", "to_utc", "utc_or_none", "zone_info"]


def to_utc(value: datetime | date | str | int | float | Any, what: str = "time") -> datetime:
    """An aware UTC datetime from a datetime (naive is UTC), a date (its UTC midnight), ISO 8601
    text, or epoch milliseconds; pandas and numpy timestamps too. :class:`InputError` names
    ``what`` when the value is none of these."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed: datetime | date = (
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            )
        except ValueError as exc:
            raise InputError(f"{what} {value!r} is not an ISO 8601 date or datetime") from exc
        return to_utc(parsed, what)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch_ms(value) or datetime.fromtimestamp(0, tz=UTC)
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return to_utc(value.to_pydatetime(), what)
    if type(value).__name__ == "datetime64":  # numpy.datetime64, naive
        return to_utc(value.astype("datetime64[us]").item(), what)
    raise InputError(f"{what} must be a datetime, a date or ISO 8601 text, not {type(value).__name__}")


def aware(value: datetime | date, what: str = "time") -> datetime:
    """An aware datetime that keeps its zone: a naive datetime is UTC, a date its UTC midnight."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return to_utc(value, what)


def utc_or_none(value: Any, what: str = "time") -> datetime | None:
    """:func:`to_utc`, passing None through."""
    return None if value is None else to_utc(value, what)


def range_bound(value: datetime | date | str | None, what: str, *, end: bool = False) -> datetime | None:
    """A bound of a time range a person gives, as an aware instant (UTC when no offset is given).

    A bare date means the start of that day, or with ``end=True`` its last instant, so
    ``until="2024-03-12"`` includes the 12th. None passes through.
    """
    if value is None:
        return None
    moment = to_utc(value, what)
    is_day = (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and len(value.strip()) == 10)
    return moment + timedelta(days=1, microseconds=-1) if end and is_day else moment


def from_epoch_ms(millis: int | float | None) -> datetime | None:
    """Epoch milliseconds (MLflow's run and metric times) as an aware UTC datetime; None for 0 or None."""
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis else None


def human(moment: datetime | date | None, granularity: Granularity | None = None) -> str:
    """A time as a person reads it: the date alone for a window of a day or more that starts at
    midnight, else date, hour and minute with the zone's abbreviation (``2026-01-02 06:00 UTC``)."""
    if moment is None:
        return "n/a"
    if not isinstance(moment, datetime):
        return moment.isoformat()
    midnight = moment.hour == moment.minute == moment.second == 0
    if midnight and (granularity is None or granularity.unit != "h"):
        return moment.date().isoformat()
    zone = moment.tzname() or "UTC"
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def zone_info(zone: str) -> ZoneInfo:
    """The IANA zone named ``zone``; :class:`InputError` naming it when there is none."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise InputError(
            f"time zone {zone!r} is not an IANA time zone; use a name like 'Europe/Berlin' or 'UTC' (time_zone=, --time-zone)"
        ) from exc


def in_zone(value: datetime | date | str, zone: str, what: str = "window") -> datetime:
    """A moment as an aware datetime in ``zone``: an aware value is converted; a naive datetime
    or ISO text without an offset is a wall-clock time in ``zone``; a date is its midnight there.
    This is how a window a person names (``"2024-03-31"``) is found among windows labelled in the
    data's zone."""
    tz = zone_info(zone)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise InputError(f"{what} {text!r} is not an ISO 8601 date or datetime") from exc
    if isinstance(value, datetime):
        return value.astimezone(tz) if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    raise InputError(f"{what} must be a datetime, a date or ISO 8601 text, not {type(value).__name__}")
