"""The size of a time window: :class:`Granularity`, parsed once from text (``6h``, ``1d``, ``1mo``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from mlobs_notebook.errors import InputError

__all__ = ["Granularity"]

Unit = Literal["h", "d", "w", "mo"]
_UNITS: dict[str, Unit] = {
    "h": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
    "mo": "mo", "month": "mo", "months": "mo",
}
_FIXED: dict[str, timedelta] = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_WORDS: dict[str, str] = {"h": "hour", "d": "day", "w": "week", "mo": "month"}
_GRANULARITY = re.compile(r"^\s*([1-9][0-9]*)\s*([a-z]+)\s*$")
# The longest window accepted, in hours: ten years. Longer ones are typos ("100000w"), and polars
# panics on the window starts they give.
_MAX_HOURS = 10 * 366 * 24
_HOURS: dict[str, int] = {"h": 1, "d": 24, "w": 7 * 24, "mo": 31 * 24}


@dataclass(frozen=True, order=True)
class Granularity:
    """The size of a time window: ``count`` hours, days, weeks or calendar months.

    Parse it once with :meth:`parse`: ``"1h"``, ``"6h"``, ``"1d"``, ``"1w"``, ``"1mo"`` (also
    Databricks' spelling, ``"1 day"``, ``"1 week"``, ``"1 month"``). Weeks start on Monday and
    months on the 1st, as polars' ``dt.truncate`` and Databricks monitors count them.
    """

    count: int
    unit: Unit

    @classmethod
    def parse(cls, value: str | Granularity) -> Granularity:
        """A Granularity from text; :class:`InputError` naming the accepted forms otherwise."""
        if isinstance(value, Granularity):
            return value
        match = _GRANULARITY.match(value.lower()) if isinstance(value, str) else None
        unit = _UNITS.get(match.group(2)) if match else None
        if match is None or unit is None:
            raise InputError(
                f"granularity {value!r} is not valid; use a count and a unit: h (hours), d (days), "
                "w (weeks) or mo (calendar months), e.g. '1h', '6h', '1d', '1w', '1mo'"
            )
        count = int(match.group(1))
        if count * _HOURS[unit] > _MAX_HOURS:
            raise InputError(
                f"granularity {value!r} is longer than ten years; a window is an hour to a few months, "
                "e.g. '1h', '1d', '1w', '1mo'"
            )
        return cls(count, unit)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def every(self) -> str:
        """The polars duration string (``dt.truncate``, ``datetime_range``, ``offset_by``)."""
        return str(self)

    @property
    def databricks(self) -> str:
        """Databricks Lakehouse Monitoring's spelling: ``"1 day"``, ``"6 hours"``, ``"1 month"``."""
        word = _WORDS[self.unit]
        return f"{self.count} {word}{'s' if self.count != 1 else ''}"

    def windows(self, n: int) -> str:
        """``n`` windows in words: ``"1 day"``, ``"3 days"``, ``"12 hours"``, ``"2 months"``."""
        count = abs(n) * self.count
        return f"{count} {_WORDS[self.unit]}{'s' if count != 1 else ''}"

    @property
    def fixed(self) -> timedelta | None:
        """The window's length when it is fixed (hours, days, weeks); None for months."""
        step = _FIXED.get(self.unit)
        return step * self.count if step is not None else None

    @property
    def nominal(self) -> timedelta:
        """A window's usual length (a month counts 30 days): for wording, never for arithmetic."""
        return self.fixed or timedelta(days=30 * self.count)

    def add(self, moment: datetime, windows: int = 1) -> datetime:
        """``moment`` moved by ``windows`` windows, as polars' ``offset_by`` moves a window start:
        hours are elapsed time; days, weeks and months are calendar steps in ``moment``'s zone (a
        day window across a DST change lasts 23 or 25 hours; a month keeps its day where it exists).
        """
        if self.unit == "h":
            if moment.tzinfo is None:
                return moment + timedelta(hours=self.count * windows)
            return (moment.astimezone(UTC) + timedelta(hours=self.count * windows)).astimezone(moment.tzinfo)
        if self.fixed is not None:
            return moment + self.fixed * windows  # aware datetimes in one zone add wall-clock time
        months = moment.month - 1 + self.count * windows
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, _days_in_month(year, month))
        return moment.replace(year=year, month=month, day=day)

    def windows_between(self, start: datetime, end: datetime) -> int:
        """How many whole windows lead from ``start`` to ``end`` (negative when ``end`` is earlier).

        Both are window starts in practice; other instants count the window boundaries crossed.
        Hours count elapsed time; days and weeks count calendar days in ``start``'s zone.
        """
        if self.unit == "h":
            elapsed = end - start if start.tzinfo is None else end.astimezone(UTC) - start.astimezone(UTC)
            return int(elapsed // timedelta(hours=self.count))
        if self.fixed is not None:
            if start.tzinfo is not None and end.tzinfo is not None:
                end = end.astimezone(start.tzinfo)
            return int((end.replace(tzinfo=None) - start.replace(tzinfo=None)) // self.fixed)
        months = (end.year - start.year) * 12 + end.month - start.month
        return months // self.count


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
