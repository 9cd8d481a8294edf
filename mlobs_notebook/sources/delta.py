"""Delta tables through deltalake and polars: a version, or the version as of a moment.

A table recorded without a version (MLflow's Delta source drops version 0, which is falsy) is read
as of a moment, the training run's start: the last version whose commit (``commitInfo.timestamp``
in the table's history, milliseconds) is at or before it. The version is chosen from the history
here rather than by deltalake's own time travel, which on object storage resolves against the log
files' modification times (second precision) and silently answers version 0 for a moment before
the table existed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from mlobs_notebook.errors import MissingDependency, SourceUnreadable
from mlobs_notebook.records import SourceRef
from mlobs_notebook.sources.objectstore import delta_storage_options, is_remote, object_error
from mlobs_notebook.times import from_epoch_ms, human, to_utc

__all__ = ["delta_version_as_of", "scan_delta"]


def _location(ref: SourceRef) -> str:
    location = ref.path or ref.table
    if location is None:
        raise SourceUnreadable(f"cannot read {ref.uri}: no path to the Delta table")
    return location


def _table(ref: SourceRef) -> Any:
    try:
        from deltalake import DeltaTable
    except ImportError as exc:
        raise MissingDependency("deltalake", "delta", f"Reading the Delta table {ref.uri}") from exc
    location = _location(ref)
    try:
        return DeltaTable(location, storage_options=delta_storage_options(location))
    except Exception as exc:
        if is_remote(location):
            raise object_error(location, exc) from exc
        raise SourceUnreadable(f"cannot read {ref.uri}: no Delta table at {location} ({_first(exc)})") from exc


def delta_version_as_of(ref: SourceRef, moment: datetime) -> tuple[int, datetime]:
    """The last version committed at or before ``moment``, and its commit time (aware UTC).

    Raises :class:`SourceUnreadable` when the table's first commit came after ``moment``.
    """
    table = _table(ref)
    limit = to_utc(moment)
    commits = sorted(
        (int(entry["version"]), from_epoch_ms(entry["timestamp"]))
        for entry in table.history()
        if entry.get("version") is not None and entry.get("timestamp") is not None
    )
    before = [(v, t) for v, t in commits if t is not None and t <= limit]
    if not before:
        first = commits[0] if commits else None
        raise SourceUnreadable(
            f"cannot read {ref.uri} as of {human(limit)}: the table has no version that old"
            + (f" (version {first[0]} was committed {human(first[1])})" if first and first[1] else "")
            + ". Name the version with delta:///<path>@<version>, or pass the training data with --baseline"
        )
    version, when = before[-1]
    assert when is not None
    return version, when


def scan_delta(ref: SourceRef) -> pl.LazyFrame:
    """The table at ``ref.version`` (None: the latest), lazily."""
    table = _table(ref)
    location = _location(ref)
    latest = table.version()
    if ref.version is not None and ref.version > latest:
        raise SourceUnreadable(
            f"cannot read {ref.uri}: version {ref.version} does not exist; the table's versions are 0..{latest}"
        )
    try:
        frame = pl.scan_delta(location, version=ref.version, storage_options=delta_storage_options(location))
        frame.collect_schema()
    except Exception as exc:
        if is_remote(location):
            raise object_error(location, exc) from exc
        raise SourceUnreadable(f"cannot read {ref.uri}: {_first(exc)} (the table's latest version is {latest})") from exc
    return frame


def _first(exc: BaseException) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300]}" if text else type(exc).__name__
