"""Read the data a :class:`~mlobs_notebook.records.SourceRef` names, lazily, as a polars LazyFrame.

Supported: parquet or CSV files and folders (local, ``file://``, ``s3://``, ``gs://``, ``az://``,
``http(s)://``; a CSV's times stay text, for :func:`mlobs_notebook.times.read_time_column`),
Iceberg tables at a snapshot (a catalog's table, or a table folder read through its metadata;
``sources/iceberg.py``), Delta tables at a version (``sources/delta.py``). A folder
is looked into first: one holding ``_delta_log/`` is a Delta table and one holding
``metadata/*.metadata.json`` an Iceberg table, never a pile of parquet files (their files hold
every version's rows). A table without a pinned snapshot or version is read as of ``ref.as_of``
when the reference carries one (the training run's start), else as it is now;
:func:`open_source` says which version it read and why. Nothing is read until the frame is
collected; a source that cannot be read raises :class:`~mlobs_notebook.errors.SourceUnreadable`
naming it (for object storage: the bucket, the key and the credentials tried).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import polars as pl

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef
from mlobs_notebook.sources.objectstore import OBJECT_SCHEMES, list_files, object_error
from mlobs_notebook.times import human

__all__ = ["Opened", "classify", "open_source", "pin", "scan"]

_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_HTTP = ("http", "https", "hf")


@dataclass(frozen=True)
class Opened:
    """A source opened for reading: the frame, the reference as read (the table kind found, the
    version or snapshot read), and how that version was chosen when nothing recorded it."""

    frame: pl.LazyFrame
    ref: SourceRef
    note: str | None = None


def scan(ref: SourceRef) -> pl.LazyFrame:
    return open_source(ref).frame


def open_source(ref: SourceRef) -> Opened:
    """Classify, pin (as of ``ref.as_of``) and scan; see the module docstring."""
    found = classify(ref)
    pinned, note = pin(found)
    return Opened(_scan(pinned), pinned, note)


def classify(ref: SourceRef) -> SourceRef:
    """The same reference, its kind corrected when a folder turns out to be a Delta or Iceberg table."""
    if ref.kind == "local":
        path = Path(ref.path or ref.uri)
        if path.is_dir():
            if (path / "_delta_log").is_dir():
                return replace(ref, kind="delta", path=str(path))
            if any((path / "metadata").glob("*.metadata.json")):
                return replace(ref, kind=ICEBERG, path=str(path), catalog=None, table=None)
        return ref
    if ref.kind in OBJECT_SCHEMES and _format(ref.uri) is None:
        files = list_files(ref.uri)
        root = ref.uri.rstrip("/") + "/"
        inner = [f.split("://", 1)[1] for f in files]
        base = root.split("://", 1)[1]
        if any(f.startswith(base + "_delta_log/") for f in inner):
            return replace(ref, kind="delta", path=ref.uri.rstrip("/"))
        if any(f.startswith(base + "metadata/") and f.endswith(".metadata.json") for f in inner):
            return replace(ref, kind=ICEBERG, path=ref.uri.rstrip("/"), catalog=None, table=None)
    return ref


def pin(ref: SourceRef) -> tuple[SourceRef, str | None]:
    """An unpinned table with ``as_of`` set -> the version or snapshot current then, and a sentence
    saying so. Anything else is returned as it is."""
    if ref.pinned or ref.as_of is None or ref.kind not in (ICEBERG, "delta"):
        return ref, None
    if ref.kind == "delta":
        from mlobs_notebook.sources.delta import delta_version_as_of

        version, when = delta_version_as_of(ref, ref.as_of)
        what = f"version {version}"
        uri = f"{re.sub(r'@[0-9]+$', '', ref.uri)}@{version}" if ref.uri.startswith("delta") else ref.uri
        pinned = replace(ref, version=version, uri=uri)
    else:
        from mlobs_notebook.sources.iceberg import snapshot_as_of

        snapshot, when = snapshot_as_of(ref, ref.as_of)
        what = f"snapshot {snapshot}"
        pinned = replace(ref, snapshot_id=snapshot)
    table = "Delta table" if ref.kind == "delta" else "Iceberg table"
    note = (
        f"the {table} {ref.path or ref.table or ref.uri} was recorded without a "
        f"{'version' if ref.kind == 'delta' else 'snapshot'}: read {what}, the last committed "
        f"({human(when)}) before the training run started ({human(ref.as_of)}), not the latest"
    )
    return pinned, note


def _scan(ref: SourceRef) -> pl.LazyFrame:
    if ref.kind == "local":
        return _scan_files(ref.uri, Path(ref.path or ref.uri))
    if ref.kind == ICEBERG:
        from mlobs_notebook.sources.iceberg import scan_iceberg

        return scan_iceberg(ref)
    if ref.kind == "delta":
        from mlobs_notebook.sources.delta import scan_delta

        return scan_delta(ref)
    if ref.kind in OBJECT_SCHEMES:
        return _scan_object_store(ref)
    if ref.kind in _HTTP:
        return _scan_http(ref)
    if ref.kind == "code":
        raise SourceUnreadable(
            f"cannot read a 'code' source: MLflow recorded where the dataset was built ({ref.uri}), "
            "not where its data lives (mlflow.data.from_pandas(df) without source=, or from_numpy)"
        )
    raise SourceUnreadable(
        f"cannot read {ref.uri}: sources of type {ref.kind!r} are not supported. "
        "Supported: parquet/CSV files or folders (local, file://, s3://, gs://, az://, http), "
        "Iceberg tables (iceberg://, or a table folder) and Delta tables (delta://, or a table folder)"
    )


def _format(uri: str) -> str | None:
    return _FILE_FORMATS.get(Path(urlparse(uri).path).suffix.lower())


def _scan_files(uri: str, path: Path) -> pl.LazyFrame:
    if not path.exists():
        raise SourceUnreadable(f"cannot read {uri}: {path} does not exist")
    if path.is_dir():
        for suffix, fmt in _FILE_FORMATS.items():
            files = sorted(p for p in path.rglob(f"*{suffix}") if not _hidden(p.relative_to(path).parts))
            if files:
                return _scan_format(uri, fmt, files)
        raise SourceUnreadable(
            f"cannot read {uri}: the folder {path} holds no .parquet or .csv files"
        )
    single = _FILE_FORMATS.get(path.suffix.lower())
    if single is None:
        raise SourceUnreadable(
            f"cannot read {uri}: {path.name} is neither parquet nor CSV (by its extension)"
        )
    return _scan_format(uri, single, [path])


def _hidden(parts: tuple[str, ...]) -> bool:
    # Spark's and Hadoop's markers and checksums: _SUCCESS, _temporary/, .part-0.crc
    return any(part.startswith(("_", ".")) for part in parts)


def _scan_object_store(ref: SourceRef) -> pl.LazyFrame:
    fmt = _format(ref.uri)
    if fmt is not None:
        return _scan_format(ref.uri, fmt, [ref.uri], remote=True)
    files = list_files(ref.uri)
    base = ref.uri.rstrip("/") + "/"
    for suffix, kind in _FILE_FORMATS.items():
        chosen = [f for f in files if f.lower().endswith(suffix) and not _hidden(tuple(_tail(f, base).split("/")))]
        if chosen:
            return _scan_format(ref.uri, kind, chosen, remote=True)
    raise SourceUnreadable(
        f"cannot read {ref.uri}: "
        + ("no such folder or object (nothing is stored under it)" if not files
           else f"the folder holds no .parquet or .csv objects ({len(files)} other objects)")
    )


def _tail(uri: str, base: str) -> str:
    inner, root = uri.split("://", 1)[1], base.split("://", 1)[1]
    return inner[len(root):] if inner.startswith(root) else inner


def _scan_http(ref: SourceRef) -> pl.LazyFrame:
    fmt = _format(ref.uri)
    if fmt is None:
        raise SourceUnreadable(f"cannot read {ref.uri}: only .parquet and .csv files are read over {ref.kind}")
    return _scan_format(ref.uri, fmt, [ref.uri])


def _scan_format(uri: str, fmt: str, files: list[Any], remote: bool = False) -> pl.LazyFrame:
    """Parquet as written; CSV with numbers inferred but times left as text: polars'
    ``try_parse_dates`` guesses day-first or month-first, the time model never does (ISO 8601
    only, any other text with ``time_format=``)."""
    sources = [_polars_uri(f) for f in files] if remote else files
    try:
        frame = pl.scan_parquet(sources) if fmt == "parquet" else pl.scan_csv(sources, infer_schema=True)
        frame.collect_schema()  # fail here, naming the URI, rather than at collect time
    except Exception as exc:
        if remote:
            raise object_error(str(files[0]) if len(files) == 1 else uri, exc) from exc
        raise SourceUnreadable(f"cannot read {uri} as {fmt}: {exc}") from exc
    return frame


def _polars_uri(uri: str) -> str:
    # object_store knows s3a:// as an alias; pyarrow's listing answers s3:// anyway
    return "s3://" + uri.split("://", 1)[1] if uri.startswith(("s3a://", "s3n://")) else uri
