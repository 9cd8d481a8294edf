"""Time in one place: instants, the granularity of windows, and time columns read from data.

The rules every other module follows:

- **Instants are aware UTC inside.** :func:`to_utc` turns whatever a user or a store hands over
  (a naive or aware ``datetime``, a ``date``, ISO 8601 text, epoch milliseconds) into an aware UTC
  ``datetime``. A naive datetime is taken as UTC, a date as its midnight in UTC.
- **Windows keep the data's zone.** A time column with a zone (``Europe/Berlin``) is windowed in
  that zone, so a day window starts at local midnight and a DST day lasts 23 or 25 hours. A naive
  column, or text without an offset, is UTC. Text with one fixed offset is labelled in that offset
  (``+02:00``); text with several offsets (a DST change) is windowed in UTC unless the caller
  names a zone (``time_zone=``).
- **Dates appear only where a person reads them** (:func:`human`).
- **A granularity is parsed once** into a :class:`Granularity` (``6h``, ``1d``, ``1w``, ``1mo``)
  at the edge (the API call or the CLI) and travels as that value.
- **Text is never guessed.** ISO 8601 and RFC 3339 are recognised (``ISO_FORMS``: ``T`` or a
  space, optional seconds and fractions, ``Z`` or an offset ``+hh``, ``+hhmm``, ``+hh:mm``, the
  basic form too; a column mixing times with and without an offset is an error; a date alone
  is midnight at the column's one offset, else UTC); any other text needs a format from the user
  (``time_format=``, ``--time-format``) and otherwise stops with an error that lists the formats
  tried. Text that a format leaves unparsed is an error naming the first value, never a null;
  empty text is a missing time. Offsets are read from every row, not a sample.
"""

from mlobs_notebook.times.columns import ISO_FORMS, TimeColumn, read_time_column
from mlobs_notebook.times.granularity import Granularity
from mlobs_notebook.times.instants import (
    aware,
    from_epoch_ms,
    human,
    in_zone,
    range_bound,
    to_utc,
    utc_or_none,
    zone_info,
)

__all__ = [
    "ISO_FORMS",
    "Granularity",
    "TimeColumn",
    "aware",
    "from_epoch_ms",
    "human",
    "in_zone",
    "range_bound",
    "read_time_column",
    "to_utc",
    "utc_or_none",
    "zone_info",
]
