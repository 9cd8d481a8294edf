"""Iceberg tables through pyiceberg: find the catalog (or the table's metadata), the table and
the snapshot, then scan.

Catalog settings come from pyiceberg's own configuration for the catalog's name when it has any
(``~/.pyiceberg.yaml``, ``PYICEBERG_CATALOG__<NAME>__URI`` ...), else from the non-secret
properties recorded with the dataset. A table known only by its location (a folder holding
``metadata/*.metadata.json``, on disk or object storage: the article's
``source="s3://data-lake/iceberg/training_features/"``) is read through its newest metadata file
(``metadata/version-hint.text`` when a Hadoop catalog wrote one, else the highest numbered
``*.metadata.json``) as a pyiceberg ``StaticTable``. A snapshot as of a moment is the one current
then, by the table's snapshot log (:func:`snapshot_as_of`).
"""

from __future__ import annotations

import functools
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import polars as pl

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import SourceRef
from mlobs_notebook.sources.objectstore import (
    iceberg_io_properties,
    is_remote,
    list_files,
    object_error,
)
from mlobs_notebook.times import from_epoch_ms, human, to_utc

__all__ = ["latest_metadata", "load_table", "scan_iceberg", "scan_in_append_order", "snapshot_as_of"]

_METADATA_NUMBER = re.compile(r"^v?(\d+)[-.]")

_DELETED = 2  # manifest entry status
_DATA = 0  # data file content (1 and 2 are delete files)


def load_table(ref: SourceRef) -> Any:
    """The pyiceberg table, after checking the snapshot (if pinned) exists."""
    if ref.catalog is None and ref.path:
        table = _static_table(ref.path)
    else:
        catalog = _iceberg_catalog(ref)
        try:
            table = catalog.load_table(ref.table)
        except Exception as exc:
            raise SourceUnreadable(
                f"cannot read {ref.uri}: catalog {ref.catalog!r} has no table {ref.table!r} "
                f"({type(exc).__name__}: {exc}). Tables: {_iceberg_tables(catalog, ref.table)}"
            ) from exc
    if ref.snapshot_id is not None and table.snapshot_by_id(ref.snapshot_id) is None:
        known = [s.snapshot_id for s in table.snapshots()]
        raise SourceUnreadable(
            f"cannot read {ref.uri}: table {ref.table!r} has no snapshot {ref.snapshot_id} "
            f"(expired or never existed). Its snapshots: {', '.join(map(str, known[-10:])) or 'none'}"
        )
    return table


def snapshot_as_of(ref: SourceRef, moment: datetime) -> tuple[int, datetime]:
    """The snapshot that was current at ``moment`` (by the snapshot log) and its commit time.

    Raises :class:`SourceUnreadable` when the table had no snapshot yet at ``moment``.
    """
    table = load_table(ref)
    limit = to_utc(moment)
    snapshot = table.snapshot_as_of_timestamp(int(limit.timestamp() * 1000), inclusive=True)
    if snapshot is None:
        first = min((s.timestamp_ms for s in table.snapshots()), default=None)
        raise SourceUnreadable(
            f"cannot read {ref.uri} as of {human(limit)}: the table had no snapshot then"
            + (f" (its first was committed {human(from_epoch_ms(first))})" if first else "")
            + ". Name the snapshot (iceberg://<catalog>/<table>@<snapshot_id>), or pass the training "
            "data with --baseline"
        )
    when = from_epoch_ms(snapshot.timestamp_ms)
    assert when is not None
    return int(snapshot.snapshot_id), when


def latest_metadata(location: str) -> str:
    """The newest ``metadata/*.metadata.json`` of an Iceberg table folder (local or remote)."""
    folder = location.rstrip("/") + "/metadata"
    remote = is_remote(location)
    if remote:
        files = list_files(folder)
        hint = next((f for f in files if f.endswith("/version-hint.text")), None)
    else:
        root = Path(_local(folder))
        files = sorted(str(p) for p in root.glob("*.metadata.json")) if root.is_dir() else []
        hint = str(root / "version-hint.text") if (root / "version-hint.text").exists() else None
    if hint is not None:
        number = _read_text(hint, remote).strip()
        wanted = f"v{number}.metadata.json"
        named = [f for f in files if f.endswith("/" + wanted)]
        if named:
            return named[0]
    candidates = [f for f in files if f.endswith(".metadata.json")]
    if not candidates:
        raise SourceUnreadable(f"cannot read {location}: no Iceberg metadata (metadata/*.metadata.json) in it")

    def number_of(path: str) -> int:
        match = _METADATA_NUMBER.match(path.rsplit("/", 1)[-1])
        return int(match.group(1)) if match else -1

    return max(candidates, key=lambda f: (number_of(f), f))


def _read_text(path: str, remote: bool) -> str:
    if not remote:
        return Path(path).read_text()
    import pyarrow.fs as pafs

    fs, inner = pafs.FileSystem.from_uri(path.replace("s3a://", "s3://", 1))
    with fs.open_input_stream(inner) as stream:
        return bytes(stream.read()).decode()


def _static_table(location: str) -> Any:
    from pyiceberg.table import StaticTable

    metadata = latest_metadata(location)
    remote = is_remote(location)
    properties = iceberg_io_properties(location) if remote else {}
    try:
        return StaticTable.from_metadata(metadata, properties=properties)
    except Exception as exc:
        if remote:
            raise object_error(metadata, exc) from exc
        raise SourceUnreadable(f"cannot read the Iceberg table at {location} ({metadata}): {exc}") from exc


def scan_iceberg(ref: SourceRef) -> pl.LazyFrame:
    table = load_table(ref)
    # without the optional polars_iceberg planner, polars warns at every collect; pyiceberg plans
    # these scans correctly, so say so unless the user chose a planner
    os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")
    try:
        return pl.scan_iceberg(table, snapshot_id=ref.snapshot_id)
    except Exception as exc:
        raise SourceUnreadable(f"cannot read {ref.uri}: {type(exc).__name__}: {exc}") from exc


def _iceberg_catalog(ref: SourceRef) -> Any:
    from pyiceberg.utils.config import Config

    name = ref.catalog or "default"
    # a fresh Config: pyiceberg reads its environment once at import, users set it later
    configured = Config().get_catalog_config(name)
    properties = dict(configured) if configured else dict(ref.catalog_properties)
    if not properties:
        raise SourceUnreadable(
            f"cannot read {ref.uri}: no settings for Iceberg catalog {name!r}. Configure it in "
            f"~/.pyiceberg.yaml (catalog: {name}: uri/warehouse) or with "
            f"PYICEBERG_CATALOG__{name.upper()}__URI, or log the dataset with catalog_properties"
        )
    return _load_catalog(name, tuple(sorted((k, str(v)) for k, v in properties.items())))


@functools.lru_cache(maxsize=16)
def _load_catalog(name: str, properties: tuple[tuple[str, str], ...]) -> Any:
    from pyiceberg.catalog import load_catalog

    try:
        return load_catalog(name, **dict(properties))
    except Exception as exc:
        shown = {k: v for k, v in properties if k in ("type", "uri", "warehouse")}
        raise SourceUnreadable(
            f"cannot open Iceberg catalog {name!r} with {shown}: {type(exc).__name__}: {exc}"
        ) from exc


def _iceberg_tables(catalog: Any, table: str | None) -> str:
    namespace = (table or "").rpartition(".")[0]
    try:
        names = [".".join(t) for t in catalog.list_tables(namespace)] if namespace else []
    except Exception:  # noqa: BLE001 - listing is a courtesy in an error message
        names = []
    return ", ".join(names) or "none found"


def scan_in_append_order(ref: SourceRef) -> pl.LazyFrame | None:
    """The snapshot's rows file by file in the order they were appended; None if that is unknown.

    Only append-only snapshots have such an order: with delete files, it is not defined.
    """
    try:
        table = load_table(ref)
        entries = pl.DataFrame(
            table.inspect.entries(ref.snapshot_id).select(["status", "sequence_number", "data_file"])
        )
        files = entries.select(
            "status", "sequence_number",
            pl.col("data_file").struct.field("file_path"),
            pl.col("data_file").struct.field("content"),
        ).filter(pl.col("status") != _DELETED)
        if files.is_empty() or (files["content"] != _DATA).any():
            return None
        paths = files.sort("sequence_number", "file_path")["file_path"].to_list()
        columns = scan_iceberg(ref).collect_schema()
        return pl.scan_parquet([_local(p) for p in paths]).select(
            [pl.col(name).cast(dtype) for name, dtype in columns.items()]
        )
    except Exception:  # noqa: BLE001 - an ordering hint, never a reason to fail a check
        return None


def _local(path: str) -> str:
    parsed = urlparse(path)
    return unquote(parsed.path) if parsed.scheme == "file" else path
