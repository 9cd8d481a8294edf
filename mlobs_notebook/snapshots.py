"""Read a dataset snapshot, or the current table, as a polars LazyFrame.

A source is named by a :class:`SourceRef` (parsed from what MLflow stored for a dataset input, or
from a URI string). Supported:

- parquet or CSV, a file or a folder of files: ``/abs/path``, ``relative/path``, ``file:///abs``
- an Iceberg table at a snapshot: ``iceberg://<catalog>/<namespace>.<table>@<snapshot_id>``.
  The catalog's settings come from pyiceberg's own configuration for that catalog name
  (``~/.pyiceberg.yaml`` or ``PYICEBERG_CATALOG__<NAME>__URI`` ...), else from the
  ``catalog_properties`` recorded with the dataset.
- a Delta table at a version: ``delta:///abs/path@<version>`` (needs the ``delta`` extra)

Reading is lazy: nothing is scanned until the frame is collected. Checking a snapshot against the
digest MLflow recorded (:func:`snapshot_check`) collects it, because the digest hashes content.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import polars as pl

from .dataset_sources import SOURCE_TYPE as ICEBERG
from .dataset_sources import format_iceberg_uri, parse_iceberg_uri, safe_catalog_properties
from .errors import MissingDependency, SourceUnreadable

if TYPE_CHECKING:
    from .models import DatasetRecord

__all__ = [
    "SnapshotChanged",
    "SnapshotCheck",
    "SourceRef",
    "load_current",
    "load_snapshot",
    "parse_source",
    "snapshot_check",
    "source_from_uri",
]

_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_DELTA_URI = re.compile(r"^delta(?:\+file)?://(?P<path>.+?)(?:@(?P<version>\d+))?$")
_REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "http", "https", "hf")


class SnapshotChanged(UserWarning):
    """The data at a recorded source no longer hashes to the digest MLflow recorded."""


@dataclass(frozen=True)
class SourceRef:
    """Where a dataset lives, parsed: ``kind`` is local, iceberg, delta, http, s3, gs, ... ."""

    kind: str
    uri: str
    path: str | None = None
    table: str | None = None
    catalog: str | None = None
    snapshot_id: int | None = None
    version: int | None = None
    catalog_properties: Mapping[str, str] = field(default_factory=dict)

    def at_latest(self) -> SourceRef:
        """The same table without a pinned snapshot or version (the current data)."""
        if self.kind == ICEBERG:
            uri = format_iceberg_uri(self.catalog or "", self.table or "")
            return SourceRef(ICEBERG, uri, table=self.table, catalog=self.catalog,
                             catalog_properties=self.catalog_properties)
        if self.kind == "delta":
            return SourceRef("delta", f"delta://{self.path}", path=self.path)
        return self


def source_from_uri(uri: str, catalog_properties: Mapping[str, Any] | None = None) -> SourceRef:
    """Parse a URI or path a user typed into a :class:`SourceRef`."""
    text = str(uri).strip()
    if text.startswith("iceberg://"):
        try:
            ref = parse_iceberg_uri(text)
        except ValueError as exc:
            raise SourceUnreadable(f"cannot read {text!r}: {exc}") from exc
        return SourceRef(ICEBERG, ref.uri, table=ref.table, catalog=ref.catalog,
                         snapshot_id=ref.snapshot_id,
                         catalog_properties=safe_catalog_properties(catalog_properties))
    if text.startswith("delta"):
        match = _DELTA_URI.match(text)
        if match is None:
            raise SourceUnreadable(
                f"cannot read {text!r}: expected 'delta:///<path>[@<version>]'"
            )
        path = _local_path(match.group("path")) if "://" in match.group("path") else match.group("path")
        version = match.group("version")
        return SourceRef("delta", text, path=path,
                         version=int(version) if version is not None else None)
    scheme = urlparse(text).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # one letter: a Windows drive
        path = _local_path(text)
        return SourceRef("local", text, path=path)
    kind = "http" if scheme in ("http", "https") else scheme
    return SourceRef(kind, text, path=text)


def parse_source(source_type: str, source: str | Mapping[str, Any]) -> SourceRef:
    """Parse a dataset source as MLflow stores it (its type and JSON), no source class needed."""
    try:
        raw = json.loads(source) if isinstance(source, str) else dict(source)
    except json.JSONDecodeError:
        # some producers store a bare URI rather than JSON
        raw = {"uri": source}
    if not isinstance(raw, dict):
        raw = {"uri": str(raw)}
    if source_type == ICEBERG:
        if "table" in raw and "catalog" in raw:
            snapshot = raw.get("snapshot_id")
            uri = raw.get("uri") or format_iceberg_uri(raw["catalog"], raw["table"], snapshot)
            return SourceRef(ICEBERG, uri, table=raw["table"], catalog=raw["catalog"],
                             snapshot_id=int(snapshot) if snapshot is not None else None,
                             catalog_properties=safe_catalog_properties(raw.get("catalog_properties")))
        return source_from_uri(str(raw.get("uri", "")), raw.get("catalog_properties"))
    if source_type == "delta_table":
        version = raw.get("delta_table_version")
        path = raw.get("path")
        table = raw.get("delta_table_name")
        location = path or table or ""
        uri = f"delta://{location}" + (f"@{version}" if version is not None else "")
        return SourceRef("delta", uri, path=_local_path(path) if path else None, table=table,
                         version=int(version) if version is not None else None)
    if source_type == "http":
        url = str(raw.get("url") or raw.get("uri") or "")
        return SourceRef("http", url, path=url)
    uri = raw.get("uri") or raw.get("url") or raw.get("path")
    if uri is None:
        return SourceRef(source_type, json.dumps(raw, sort_keys=True))
    parsed = source_from_uri(str(uri))
    # MLflow's own artifact sources (s3, gs, local, ...) name their kind by the scheme already
    return parsed if parsed.kind != "local" or source_type == "local" else SourceRef(
        source_type, parsed.uri, path=parsed.path)


def load_snapshot(
    ref_or_uri: DatasetRecord | SourceRef | str,
    *,
    check_digest: bool | None = None,
    catalog_properties: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    """The exact data a dataset record (or URI) points at, as a LazyFrame.

    ``check_digest``: with a DatasetRecord, recompute MLflow's digest and warn
    :class:`SnapshotChanged` if it differs (a finding, not an error). ``None`` checks only when the
    record's profile says it has at most 1,000,000 rows, since checking reads the data.
    """
    record = ref_or_uri if hasattr(ref_or_uri, "digest") and hasattr(ref_or_uri, "source") else None
    ref = _as_ref(ref_or_uri, catalog_properties)
    frame = _scan(ref)
    if record is not None and _should_check(record, check_digest):
        check = _check_frame(record, frame)
        if not check.matches and check.actual is not None:
            warnings.warn(SnapshotChanged(check.message), stacklevel=2)
    return frame


def load_current(
    uri: DatasetRecord | SourceRef | str,
    time_column: str | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    *,
    catalog_properties: Mapping[str, Any] | None = None,
) -> pl.LazyFrame:
    """The current data (latest snapshot or version) of a table, filtered lazily to a time range.

    ``start`` is inclusive and ``end`` exclusive; both are compared in the column's own type
    (dates for a Date column, datetimes in the column's time zone for a Datetime column).
    """
    ref = _as_ref(uri, catalog_properties).at_latest()
    frame = _scan(ref)
    if time_column is None:
        if start is not None or end is not None:
            raise SourceUnreadable(
                f"{ref.uri}: a start or end needs a time_column to filter on"
            )
        return frame
    schema = frame.collect_schema()
    if time_column not in schema:
        from .errors import UnknownColumn

        raise UnknownColumn(
            f"{ref.uri} has no column {time_column!r}. Columns: {', '.join(schema.names())}"
        )
    dtype = schema[time_column]
    column = pl.col(time_column)
    if start is not None:
        frame = frame.filter(column >= _bound(start, dtype))
    if end is not None:
        frame = frame.filter(column < _bound(end, dtype))
    return frame


@dataclass(frozen=True)
class SnapshotCheck:
    """Does the data at a recorded source still hash to the digest MLflow recorded?"""

    matches: bool
    expected: str | None
    actual: str | None
    message: str

    def __bool__(self) -> bool:
        return self.matches


def snapshot_check(record: DatasetRecord) -> SnapshotCheck:
    """Recompute a dataset record's digest from its source the way MLflow computed it."""
    try:
        frame = _scan(record.source)
    except SourceUnreadable as exc:
        return SnapshotCheck(False, record.digest, None, f"cannot check {record.source.uri}: {exc}")
    return _check_frame(record, frame)


def _check_frame(record: DatasetRecord, frame: pl.LazyFrame) -> SnapshotCheck:
    uri = record.source.uri
    df = frame.collect()
    digests = _digests(df)
    kind = next((k for k, v in digests.items() if v == record.digest), None)
    if kind is None and record.source.kind == ICEBERG:
        # MLflow hashes rows in order; a multi-file snapshot scans in no fixed order, while the
        # logged frame was usually built in the order its files were appended
        from ._iceberg import scan_in_append_order

        ordered = scan_in_append_order(record.source)
        if ordered is not None:
            digests = _digests(ordered.collect())
            kind = next((k for k, v in digests.items() if v == record.digest), None)
    if kind is not None:
        return SnapshotCheck(True, record.digest, record.digest,
                             f"{uri} matches the recorded digest {record.digest} "
                             f"({df.height} rows, {kind} digest)")
    actual = digests.get("pandas", digests["polars"])
    return SnapshotCheck(
        False, record.digest, actual,
        f"the snapshot changed since training: {uri} hashes to {actual}, MLflow recorded "
        f"{record.digest} for dataset {record.name!r} ({df.height} rows now)",
    )


def _digests(df: pl.DataFrame) -> dict[str, str]:
    """The digests MLflow's dataset classes would compute; the record does not say which logged it."""
    from mlflow.data.digest_utils import compute_pandas_digest
    from mlflow.data.polars_dataset import hash_polars_df

    digests = {"polars": hash_polars_df(df)}
    try:
        with warnings.catch_warnings():
            # MLflow's digest calls DataFrame.all(0), which pandas 3 deprecates
            warnings.filterwarnings("ignore", message=".*arguments of all will be keyword-only")
            digests["pandas"] = compute_pandas_digest(df.to_pandas())
    except Exception:  # noqa: BLE001 - a frame pandas cannot hash simply was not logged from pandas
        pass
    return digests


def _should_check(record: DatasetRecord, check_digest: bool | None) -> bool:
    if check_digest is not None:
        return check_digest and bool(record.digest)
    rows = (record.profile or {}).get("num_rows")
    return bool(record.digest) and isinstance(rows, int) and rows <= 1_000_000


def _as_ref(value: Any, catalog_properties: Mapping[str, Any] | None) -> SourceRef:
    if isinstance(value, SourceRef):
        ref = value
    elif hasattr(value, "source") and isinstance(value.source, SourceRef):
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


def _scan(ref: SourceRef) -> pl.LazyFrame:
    if ref.kind == "local":
        return _scan_files(ref.uri, Path(ref.path or ref.uri))
    if ref.kind == ICEBERG:
        from ._iceberg import scan_iceberg

        return scan_iceberg(ref)
    if ref.kind == "delta":
        return _scan_delta(ref)
    if ref.kind in _REMOTE_SCHEMES:
        return _scan_remote(ref)
    raise SourceUnreadable(
        f"cannot read {ref.uri}: sources of type {ref.kind!r} are not supported. "
        "Supported: parquet/CSV files or folders (local or file://), iceberg://, delta://, "
        "and parquet/CSV on s3/gs/az/http"
    )


def _scan_files(uri: str, path: Path) -> pl.LazyFrame:
    if not path.exists():
        raise SourceUnreadable(f"cannot read {uri}: {path} does not exist")
    if path.is_dir():
        for suffix, fmt in _FILE_FORMATS.items():
            files = sorted(path.rglob(f"*{suffix}"))
            if files:
                return _scan_format(uri, fmt, files)
        raise SourceUnreadable(
            f"cannot read {uri}: the folder {path} holds no .parquet or .csv files"
        )
    fmt = _FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SourceUnreadable(
            f"cannot read {uri}: {path.name} is neither parquet nor CSV (by its extension)"
        )
    return _scan_format(uri, fmt, [path])


def _scan_format(uri: str, fmt: str, files: list[Any]) -> pl.LazyFrame:
    try:
        frame = pl.scan_parquet(files) if fmt == "parquet" else pl.scan_csv(files, try_parse_dates=True)
        frame.collect_schema()  # fail here, naming the URI, rather than at collect time
    except Exception as exc:
        raise SourceUnreadable(f"cannot read {uri} as {fmt}: {exc}") from exc
    return frame


def _scan_remote(ref: SourceRef) -> pl.LazyFrame:
    suffix = Path(urlparse(ref.uri).path).suffix.lower()
    fmt = _FILE_FORMATS.get(suffix)
    if fmt is None:
        raise SourceUnreadable(
            f"cannot read {ref.uri}: only .parquet and .csv objects are read from {ref.kind}"
        )
    return _scan_format(ref.uri, fmt, [ref.uri])


def _scan_delta(ref: SourceRef) -> pl.LazyFrame:
    try:
        import deltalake  # noqa: F401 - polars needs it to scan Delta
    except ImportError as exc:
        raise MissingDependency("deltalake", "delta", f"Reading the Delta table {ref.uri}") from exc
    location = ref.path or ref.table
    if location is None:
        raise SourceUnreadable(f"cannot read {ref.uri}: no path to the Delta table")
    try:
        frame = pl.scan_delta(location, version=ref.version)
        frame.collect_schema()
    except Exception as exc:
        raise SourceUnreadable(f"cannot read {ref.uri}: {_delta_reason(location, ref, exc)}") from exc
    return frame


def _delta_reason(location: str, ref: SourceRef, exc: Exception) -> str:
    from deltalake import DeltaTable

    try:
        latest = DeltaTable(location).version()
    except Exception:
        return f"no Delta table at {location} ({type(exc).__name__}: {exc})"
    if ref.version is not None and ref.version > latest:
        return f"version {ref.version} does not exist; the table's versions are 0..{latest}"
    return f"{type(exc).__name__}: {exc} (the table's latest version is {latest})"


def _local_path(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return str(Path(text).expanduser())


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
