"""Finding and reading Unity Catalog system table exports (Delta or parquet) in a folder, each
recognised by its columns; :mod:`~mlobs_notebook.lineage.readers.unity_catalog` turns them into
events.

A folder may hold, in any layout: Delta table folders (``_delta_log``), folders of Spark parquet
part files (``part-*.parquet``, partition folders such as ``event_date=2025-01-01`` included), or
single parquet files. Each table is recognised by its columns (docs of each table in
:mod:`~mlobs_notebook.lineage.readers.unity_catalog`):

- ``column_lineage``: ``source_column_name`` or ``target_column_name``;
- ``table_lineage``: ``source_table_full_name`` or ``target_table_full_name``;
- ``job_run_timeline``: ``period_start_time`` and ``run_id``, without ``task_key``
  (``job_task_run_timeline`` is recognised and left out: job runs carry the result);
- ``job_tasks``: ``change_time`` and ``task_key``; ``jobs``: ``change_time``, ``job_id``, ``name``.

A recognised table missing a column the reading needs is an
:class:`~mlobs_notebook.errors.UnknownColumn` naming the column and the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from mlobs_notebook.errors import MissingDependency, SourceUnreadable, UnknownColumn

__all__ = ["REQUIRED", "SystemTables", "find_system_tables"]

ENTITY = ("entity_type", "entity_id", "entity_run_id")
REQUIRED: dict[str, tuple[str, ...]] = {
    "table_lineage": ("source_table_full_name", "target_table_full_name", "event_time"),
    "column_lineage": ("source_table_full_name", "source_column_name", "target_table_full_name",
                       "target_column_name", "event_time"),
    "job_run_timeline": ("job_id", "run_id", "period_start_time", "period_end_time", "result_state"),
    "jobs": ("job_id", "name", "change_time"),
    "job_tasks": ("job_id", "task_key", "change_time"),
}  # fmt: skip
DOCS = {
    "table_lineage": "https://docs.databricks.com/aws/en/admin/system-tables/lineage",
    "column_lineage": "https://docs.databricks.com/aws/en/admin/system-tables/lineage",
    "job_run_timeline": "https://docs.databricks.com/aws/en/admin/system-tables/jobs",
    "jobs": "https://docs.databricks.com/aws/en/admin/system-tables/jobs",
    "job_tasks": "https://docs.databricks.com/aws/en/admin/system-tables/jobs",
}
_PARTITION = re.compile(r"^[^=/]+=[^/]*$")


@dataclass
class SystemTables:
    """The recognised tables of a folder, by kind (each a list of ``(path, frame)``), the tables
    that are no system table export (``skipped``, with the reason: problems of the load), and the
    system tables not read (``left_out``)."""

    tables: dict[str, list[tuple[Path, pl.DataFrame]]] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    left_out: list[Path] = field(default_factory=list)

    def frames(self, kind: str) -> list[tuple[Path, pl.DataFrame]]:
        return self.tables.get(kind, [])

    def __bool__(self) -> bool:
        return bool(self.tables)


def find_system_tables(folder: Path) -> SystemTables:
    """Every table under ``folder``, recognised and read (empty when none is a system table)."""
    found = SystemTables()
    for location, files in _tables(folder):
        schema = _schema(location, files)
        kind = _kind(set(schema))
        if kind is None:
            found.skipped.append((location, f"not a Unity Catalog system table export (columns: {', '.join(schema)})"))
            continue
        if kind == "job_task_run_timeline":  # job runs (job_run_timeline) carry the outcome
            found.left_out.append(location)
            continue
        _require(kind, schema, location)
        found.tables.setdefault(kind, []).append((location, _read(location, files)))
    return found


def _tables(folder: Path) -> list[tuple[Path, list[Path]]]:
    """(table location, its parquet files; empty for a Delta table) for each table under folder."""
    if (folder / "_delta_log").is_dir():
        return [(folder, [])]
    out: list[tuple[Path, list[Path]]] = []
    parts = [p for p in folder.iterdir() if p.is_file() and p.suffix == ".parquet" and not p.name.startswith((".", "_"))]
    spark = [p for p in parts if p.name.startswith("part-")]
    partitions = [d for d in folder.iterdir() if d.is_dir() and _PARTITION.match(d.name)]
    if spark or partitions:
        out.append((folder, spark + [p for d in partitions for p in sorted(d.rglob("*.parquet")) if not p.name.startswith((".", "_"))]))
    out += [(p, [p]) for p in sorted(set(parts) - set(spark))]
    for sub in sorted(d for d in folder.iterdir() if d.is_dir() and d not in partitions and not d.name.startswith((".", "_"))):
        out += _tables(sub)
    return out


def _schema(location: Path, files: list[Path]) -> dict[str, pl.DataType]:
    try:
        if not files:
            _need_deltalake(location)
            return dict(pl.scan_delta(str(location)).collect_schema())
        return dict(pl.read_parquet_schema(files[0]))
    except MissingDependency:
        raise
    except Exception as exc:
        raise SourceUnreadable(f"cannot read the table {location}: {exc}") from exc


def _read(location: Path, files: list[Path]) -> pl.DataFrame:
    try:
        return pl.read_delta(str(location)) if not files else pl.read_parquet(files, hive_partitioning=True)
    except Exception as exc:
        raise SourceUnreadable(f"cannot read the table {location}: {exc}") from exc


def _need_deltalake(location: Path) -> None:
    try:
        import deltalake  # noqa: F401 - polars reads Delta through it
    except ImportError as exc:
        raise MissingDependency("deltalake", "delta", f"Reading the Delta table {location}") from exc


def _kind(columns: set[str]) -> str | None:
    if columns & {"source_column_name", "target_column_name"}:
        return "column_lineage"
    if columns & {"source_table_full_name", "target_table_full_name"}:
        return "table_lineage"
    if {"period_start_time", "run_id"} <= columns:
        return "job_task_run_timeline" if columns & {"task_key", "job_run_id"} else "job_run_timeline"
    if "change_time" in columns and "task_key" in columns:
        return "job_tasks"
    if {"change_time", "job_id"} <= columns and "run_id" not in columns:
        return "jobs"
    return None


def _require(kind: str, schema: dict[str, pl.DataType], location: Path) -> None:
    missing = [c for c in REQUIRED[kind] if c not in schema]
    if kind in ("table_lineage", "column_lineage") and "entity_metadata" not in schema:
        missing += [c for c in ENTITY if c not in schema]
        if missing and not any(c in schema for c in ENTITY):
            missing = [*(c for c in missing if c not in ENTITY), "entity_metadata (or entity_type, entity_id, entity_run_id)"]
    if missing:
        raise UnknownColumn(
            f"{location}: this system.{'access' if 'lineage' in kind else 'lakeflow'}.{kind} export has no column "
            f"{', '.join(repr(c) for c in missing)}, which the documented table has ({DOCS[kind]}). "
            f"Its columns: {', '.join(schema)}"
        )
