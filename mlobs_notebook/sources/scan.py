"""Read the data a :class:`~mlobs_notebook.records.SourceRef` names, lazily, as a polars LazyFrame.

Supported: parquet or CSV files and folders (local, ``file://``, ``s3://``, ``gs://``, ``az://``,
``http(s)://``), Iceberg tables at a snapshot (pyiceberg, ``sources/iceberg.py``), Delta tables at a
version (deltalake). Nothing is read until the frame is collected; a source that cannot be read
raises :class:`~mlobs_notebook.errors.SourceUnreadable` naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import polars as pl

from mlobs_notebook.errors import MissingDependency, SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef

__all__ = ["scan"]

_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "http", "https", "hf")


def scan(ref: SourceRef) -> pl.LazyFrame:
    if ref.kind == "local":
        return _scan_files(ref.uri, Path(ref.path or ref.uri))
    if ref.kind == ICEBERG:
        from mlobs_notebook.sources.iceberg import scan_iceberg

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
    file_format = _FILE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise SourceUnreadable(
            f"cannot read {uri}: {path.name} is neither parquet nor CSV (by its extension)"
        )
    return _scan_format(uri, file_format, [path])


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
