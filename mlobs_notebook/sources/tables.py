"""Read a dataset snapshot, or the current table, as a polars LazyFrame.

A source is named by a :class:`SourceRef` (parsed from what MLflow stored for a dataset input, or
from a URI string). Supported:

- parquet or CSV, a file or a folder of files: ``/abs/path``, ``relative/path``, ``file:///abs``
- an Iceberg table at a snapshot: ``iceberg://<catalog>/<namespace>.<table>@<snapshot_id>``.
  The catalog's settings come from pyiceberg's own configuration for that catalog name
  (``~/.pyiceberg.yaml`` or ``PYICEBERG_CATALOG__<NAME>__URI`` ...), else from the
  ``catalog_properties`` recorded with the dataset.
- a Delta table at a version: ``delta:///abs/path@<version>`` (needs the ``delta`` extra)
- a folder that is a Delta or an Iceberg table (read as that table)
- any of these on object storage: ``s3://``, ``s3a://``, ``gs://``, ``az://``
  (:mod:`~mlobs_notebook.sources.objectstore`)

Reading is lazy: nothing is scanned until the frame is collected. Checking a snapshot against the
digest MLflow recorded (:func:`snapshot_check`) collects it, because the digest hashes content.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.errors import (
    SnapshotChanged,
    SourceUnreadable,
    UnknownColumn,
)
from mlobs_notebook.records import ICEBERG, DatasetRecord, SourceRef
from mlobs_notebook.sources.digests import check_frame, should_check
from mlobs_notebook.sources.iceberg_uri import safe_catalog_properties
from mlobs_notebook.sources.refs import source_from_uri
from mlobs_notebook.sources.scan import scan
from mlobs_notebook.times import read_time_column, to_utc

__all__ = ["load_current", "load_snapshot"]



def load_snapshot(
    ref_or_uri: DatasetRecord | SourceRef | str,
    *,
    check_digest: bool | None = None,
    catalog_properties: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    """The exact data a dataset record (or URI) points at, as a LazyFrame.

    A record's table logged without a snapshot or version is read as it was when its training
    run started (:func:`~mlobs_notebook.sources.scan.open_source`), never as it is now.

    ``check_digest``: with a DatasetRecord, recompute MLflow's digest and warn
    :class:`~mlobs_notebook.errors.SnapshotChanged` if the data no longer matches the record (a
    finding, not an error; see :func:`~mlobs_notebook.sources.digests.snapshot_check`). ``None`` checks only when the
    record's profile says it has at most 1,000,000 rows, since checking reads the data.
    """
    record = ref_or_uri if isinstance(ref_or_uri, DatasetRecord) else None
    ref = _as_ref(ref_or_uri, catalog_properties)
    frame = scan(ref)
    if record is not None and should_check(record, check_digest):
        check = check_frame(record, frame)
        if check.status == "mismatch":
            warnings.warn(SnapshotChanged(check.message), stacklevel=2)
    return frame


def load_current(
    uri: DatasetRecord | SourceRef | str | Path,
    time_column: str | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    *,
    catalog_properties: Mapping[str, Any] | None = None,
    time_format: str | None = None,
) -> pl.LazyFrame:
    """The current data (latest snapshot or version) of a table, filtered lazily to a time range.

    ``start`` is inclusive and ``end`` exclusive; both are compared in the column's own type
    (dates for a Date column, datetimes in the column's time zone for a Datetime column). A text
    column (a CSV's) is read as instants by :func:`~mlobs_notebook.times.read_time_column`
    (ISO 8601, or ``time_format``) and compared with the bounds in UTC; it stays text.
    """
    ref = _as_ref(uri, catalog_properties).at_latest()
    frame = scan(ref)
    if time_column is None:
        if start is not None or end is not None:
            raise SourceUnreadable(
                f"{ref.uri}: a start or end needs a time_column to filter on"
            )
        return frame
    schema = frame.collect_schema()
    if time_column not in schema:
        raise UnknownColumn(
            f"{ref.uri} has no column {time_column!r}. Columns: {', '.join(schema.names())}"
        )
    dtype = schema[time_column]
    column = pl.col(time_column)
    if not dtype.is_temporal():
        instants = read_time_column(frame, time_column, time_format=time_format).expr
        if start is not None:
            frame = frame.filter(instants >= to_utc(start, "start"))
        if end is not None:
            frame = frame.filter(instants < to_utc(end, "end"))
        return frame
    if start is not None:
        frame = frame.filter(column >= _bound(start, dtype))
    if end is not None:
        frame = frame.filter(column < _bound(end, dtype))
    return frame


def _as_ref(value: Any, catalog_properties: Mapping[str, Any] | None) -> SourceRef:
    if isinstance(value, SourceRef):
        ref = value
    elif isinstance(value, DatasetRecord):
        ref = value.source
    elif isinstance(value, (str, Path)):
        ref = source_from_uri(str(value), catalog_properties)
    else:
        raise TypeError(
            f"expected a DatasetRecord, a SourceRef or a URI string, got {type(value).__name__}"
        )
    if catalog_properties and ref.kind == ICEBERG and not ref.catalog_properties:
        ref = SourceRef(ref.kind, ref.uri, table=ref.table, catalog=ref.catalog,
                        snapshot_id=ref.snapshot_id,
                        catalog_properties=safe_catalog_properties(catalog_properties))
    return ref


def _bound(value: date | datetime | str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if dtype == pl.Date:
        return pl.lit(value.date() if isinstance(value, datetime) else value, dtype=pl.Date)
    if isinstance(dtype, pl.Datetime):
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if dtype.time_zone is not None and value.tzinfo is None:
            return pl.lit(value).dt.replace_time_zone(dtype.time_zone).dt.cast_time_unit(dtype.time_unit)
        if dtype.time_zone is None and value.tzinfo is not None:
            return pl.lit(value).dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit(dtype.time_unit)
        return pl.lit(value).cast(dtype)
    return pl.lit(value)
