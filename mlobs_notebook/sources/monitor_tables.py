"""Databricks data profiling (Lakehouse Monitoring) metric tables, exported as Delta or parquet:
reading one, checking its columns, and picking the rows of one slice, model and granularity.

A monitor writes ``{output_schema}.{table}_profile_metrics`` and ``{table}_drift_metrics``
(https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output,
formerly https://docs.databricks.com/en/lakehouse-monitoring/monitor-output.html). The rules read here:

- ``slice_key`` and ``slice_value`` null mean the whole table (the docs: "The whole table is
  equivalent to slice_key = NULL and slice_value = NULL"); other rows are one slice each.
- An InferenceLog monitor adds a column named after its ``model_id_col`` (e.g. ``model_version``);
  the value ``'*'`` holds the metrics over all models (Databricks' own demo notebooks filter on
  it). The column is found as the one text column outside the documented schema holding ``'*'``.
- After a monitor's configuration changes, a window can hold rows of two ``monitor_version``\\ s:
  the latest version's row is kept.
- ``granularity`` is Databricks' spelling (``'1 hour'``, ``'1 day'``, ``'1 week'``, ``'1 month'``,
  ``'1 year'``, per the monitor API; the data-quality API's ``AGGREGATION_GRANULARITY_1_DAY`` is
  read too); ``'5 minutes'`` and ``'30 minutes'`` are finer than a window here can be.
- Windows are UTC timestamps (a Spark parquet export may write naive INT96: read as UTC).

Columns outside the documented schema are ignored; a missing required column is an
:class:`~mlobs_notebook.errors.UnknownColumn` naming it and the table file.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.errors import (
    InputError,
    MissingDependency,
    OutputUnwritable,
    SourceUnreadable,
    UnknownColumn,
)
from mlobs_notebook.times import Granularity

__all__ = [
    "MonitorRows", "check_columns", "check_new_table", "databricks_granularity", "model_id_column", "parse_slice",
    "read_table", "select_rows", "utc_window", "write_table",
]

DOCS = "https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output"
ALL_MODELS = "*"
_GRANULARITY = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE)
_HIDDEN = ("_", ".")


def read_table(path: str | Path, what: str) -> pl.DataFrame:
    """An exported table: a Delta table folder (``_delta_log``), a parquet file, or a folder of
    parquet part files (Spark's ``df.write.parquet``). ``what`` names the table in errors."""
    location = Path(path).expanduser()
    if not location.exists():
        raise SourceUnreadable(f"cannot read the {what} table {location}: it does not exist")
    if (location / "_delta_log").is_dir():
        try:
            import deltalake  # noqa: F401 - polars reads Delta through it
        except ImportError as exc:
            raise MissingDependency("deltalake", "delta", f"Reading the Delta table {location}") from exc
        try:
            return pl.read_delta(str(location))
        except Exception as exc:
            raise SourceUnreadable(f"cannot read the {what} Delta table {location}: {exc}") from exc
    files = [location] if location.is_file() else parquet_files(location)
    if not files:
        raise SourceUnreadable(
            f"cannot read the {what} table {location}: it is neither a Delta table folder nor "
            "parquet (a .parquet file or a folder of them)"
        )
    try:
        return pl.read_parquet(files)
    except Exception as exc:
        raise SourceUnreadable(f"cannot read the {what} table {location} as parquet: {exc}") from exc


def check_new_table(path: str | Path) -> Path:
    """The absolute path of a table to create; :class:`OutputUnwritable` when something is there
    or its folder cannot be written."""
    target = Path(path).expanduser().absolute()
    if target.exists():
        raise OutputUnwritable(f"{target} already exists; choose a new path for the table")
    parent = next(p for p in target.parents if p.exists())
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputUnwritable(f"cannot write {target}: {parent} is not a writable folder")
    return target


def write_table(frame: pl.DataFrame, path: str | Path) -> Path:
    """``frame`` as a new table at ``path``: a parquet file when it ends in ``.parquet``, else a
    Delta table (deltalake). Written beside it and moved into place: nothing half-written stays."""
    target = check_new_table(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.writing-{os.getpid()}")
    try:
        if target.suffix == ".parquet":
            frame.write_parquet(staging)
        else:
            try:
                from deltalake import write_deltalake
            except ImportError as exc:
                raise MissingDependency("deltalake", "delta", f"Writing the Delta table {target}") from exc
            write_deltalake(str(staging), frame.to_arrow())
        os.replace(staging, target)
    except OSError as exc:
        raise OutputUnwritable(f"cannot write {target}: {exc}") from exc
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        elif staging.exists():
            staging.unlink()
    return target


def parquet_files(folder: Path) -> list[Path]:
    """The parquet part files of a folder, leaving out Spark's and Delta's hidden files."""
    return sorted(
        p for p in folder.rglob("*.parquet")
        if p.is_file() and not any(part.startswith(_HIDDEN) for part in p.relative_to(folder).parts)
    )


def check_columns(frame: pl.DataFrame, required: Iterable[str], what: str, path: str | Path) -> None:
    """:class:`UnknownColumn` naming every required column the table lacks, and the table."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UnknownColumn(
            f"{path}: the {what} table has no column {', '.join(repr(c) for c in missing)}, which "
            f"Databricks' {what} table has ({DOCS}). Its columns: {', '.join(frame.columns)}"
        )


def databricks_granularity(text: str) -> Granularity | None:
    """A Granularity from Databricks' spelling (``'1 day'``, ``'2 weeks'``; a year is 12 months);
    None for minutes, which no window here is finer than an hour can hold."""
    # the data-quality API names them AGGREGATION_GRANULARITY_1_DAY; what it writes is undocumented
    match = _GRANULARITY.match(re.sub(r"^AGGREGATION_GRANULARITY_", "", text.strip(), flags=re.I).replace("_", " "))
    if match is None:
        return Granularity.parse(text)
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit == "minute":
        return None
    if unit == "year":
        return Granularity(12 * count, "mo")
    return Granularity.parse(f"{count} {unit}")


def utc_window(frame: pl.DataFrame, column: str, what: str, path: str | Path) -> pl.DataFrame:
    """``column``'s struct ``start``/``end`` as aware UTC ``__start``/``__end`` columns."""
    dtype = frame.schema[column]
    fields = {f.name: f.dtype for f in dtype.fields} if isinstance(dtype, pl.Struct) else {}
    if not {"start", "end"} <= fields.keys():
        raise InputError(
            f"{path}: the {what} table's {column!r} column must be a struct of 'start' and 'end' "
            f"timestamps, as Databricks writes it; it is {dtype}"
        )
    out = []
    for part in ("start", "end"):
        value = pl.col(column).struct.field(part)
        kind = fields[part]
        if isinstance(kind, pl.Datetime) and kind.time_zone is None:
            value = value.dt.replace_time_zone("UTC")
        elif not isinstance(kind, pl.Datetime):
            raise InputError(f"{path}: {column}.{part} must be a timestamp, not {kind}")
        out.append(value.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC")).alias(f"__{part}"))
    return frame.with_columns(out)


@dataclass(frozen=True)
class MonitorRows:
    """The rows of one slice, model and granularity, and what was chosen."""

    rows: pl.DataFrame
    granularity: Granularity | None
    notes: tuple[str, ...]


def select_rows(
    frame: pl.DataFrame,
    *,
    known: Iterable[str],
    key: list[str],
    what: str,
    path: str | Path,
    granularity: Granularity | str | None = None,
    slice: tuple[str, str] | None = None,
    model_id: str | None = None,
) -> MonitorRows:
    """The rows of the whole table (or ``slice``), all models (or ``model_id``), one granularity
    (the one asked, else the table's only one), the latest ``monitor_version`` per ``key``.

    Raises :class:`InputError` naming the slices, models or granularities the table has when the
    one asked for is not there, and when rows still repeat per ``key`` (a grouping column)."""
    notes: list[str] = []
    rows = _pick_slice(frame, slice, what, path, notes)
    rows = _pick_model(rows, set(known), model_id, what, path, notes)
    rows, step = _pick_granularity(rows, granularity, what, path, notes)
    if "monitor_version" in rows.columns and rows.height:
        latest = pl.col("monitor_version").fill_null(-1)
        rows = rows.filter(latest == latest.max().over(key))
    repeated = rows.group_by(key).len().filter(pl.col("len") > 1)
    if repeated.height:
        extra = [c for c in rows.columns if c not in set(known) and not c.startswith("__")]
        raise InputError(
            f"{path}: {repeated.height} (window, column) keys of the {what} table repeat after "
            f"picking one slice, model and granularity; a grouping column must be chosen "
            f"(columns outside Databricks' schema: {', '.join(extra) or 'none'})"
        )
    return MonitorRows(rows, step, tuple(notes))


def _pick_slice(
    frame: pl.DataFrame, slice: tuple[str, str] | None, what: str, path: str | Path, notes: list[str]
) -> pl.DataFrame:
    whole = pl.col("slice_key").is_null() & pl.col("slice_value").is_null()
    if slice is None:
        rows = frame.filter(whole)
        if rows.height == 0 and frame.height:
            raise InputError(f"{path}: the {what} table has no whole-table rows (slice_key null); "
                             f"choose a slice: {_slices(frame)}")
        others = frame.height - rows.height
        if others:
            notes.append(f"whole-table rows of {path} used; {others} slice rows left out ({_slices(frame)})")
        return rows
    key, value = slice
    rows = frame.filter((pl.col("slice_key") == key) & (pl.col("slice_value") == value))
    if rows.height == 0:
        raise InputError(f"{path}: the {what} table has no slice {key} = {value}; its slices: {_slices(frame)}")
    notes.append(f"slice {key} = {value} of {path}")
    return rows


def _slices(frame: pl.DataFrame) -> str:
    pairs = frame.filter(pl.col("slice_key").is_not_null()).select("slice_key", "slice_value").unique().sort("slice_key", "slice_value")
    listed = [f"{k} = {v}" for k, v in pairs.head(10).iter_rows()]
    return ", ".join(listed) + (" ..." if pairs.height > 10 else "") if listed else "none"


def model_id_column(frame: pl.DataFrame, known: set[str]) -> str | None:
    """The InferenceLog model id column: a text column outside the schema holding ``'*'``."""
    for name, dtype in frame.schema.items():
        if name in known or name.startswith("__") or dtype != pl.String:
            continue
        if frame.select((pl.col(name) == ALL_MODELS).any()).item():
            return name
    return None


def _pick_model(
    rows: pl.DataFrame, known: set[str], model_id: str | None, what: str, path: str | Path, notes: list[str]
) -> pl.DataFrame:
    column = model_id_column(rows, known)
    if column is None:
        if model_id is not None:
            raise InputError(f"{path}: the {what} table has no model id column (a text column holding "
                             f"'{ALL_MODELS}' for all models), so model {model_id!r} cannot be chosen")
        return rows
    wanted = ALL_MODELS if model_id is None else str(model_id)
    picked = rows.filter(pl.col(column) == wanted)
    if picked.height == 0:
        values = rows[column].unique().drop_nulls().sort().to_list()
        raise InputError(f"{path}: no rows of model {wanted!r} in {column}; its values: {', '.join(map(str, values))}")
    notes.append(f"{column} = {wanted!r}" + (" (all models)" if wanted == ALL_MODELS else ""))
    return picked


def _pick_granularity(
    rows: pl.DataFrame, asked: Granularity | str | None, what: str, path: str | Path, notes: list[str]
) -> tuple[pl.DataFrame, Granularity | None]:
    texts = [t for t in rows["granularity"].unique().to_list() if t is not None]
    parsed = {t: databricks_granularity(t) for t in texts}
    usable = {t: g for t, g in parsed.items() if g is not None}
    if texts and not usable:
        raise InputError(f"{path}: the {what} table's granularities ({', '.join(sorted(texts))}) are finer than "
                         "an hour, the finest window an investigation uses; configure an hourly or coarser one")
    wanted = Granularity.parse(asked) if asked is not None else None
    matching = [t for t, g in usable.items() if g == wanted]
    if matching:
        chosen = matching[0]
    elif len(usable) == 1:
        chosen = next(iter(usable))
        if wanted is not None:
            notes.append(f"granularity {usable[chosen]} taken from the {what} table ({chosen!r}); "
                         f"{wanted} was asked and the table has no such rows")
    elif not usable:
        return rows, None
    else:
        raise InputError(f"{path}: the {what} table holds several granularities ({', '.join(sorted(usable))}); "
                         "choose one with granularity= (--granularity)")
    left = len(texts) - 1
    if left:
        notes.append(f"{left} other granularit{'y' if left == 1 else 'ies'} of {path} left out")
    return rows.filter(pl.col("granularity") == chosen), usable[chosen]


def parse_slice(text: Any) -> tuple[str, str] | None:
    """``"key=value"`` (or a pair) as a ``(slice_key, slice_value)`` pair; None stays None."""
    if text is None or (isinstance(text, tuple) and len(text) == 2):
        return text
    key, sep, value = str(text).rpartition("=")  # a slice expression may hold "=", a value not
    if not sep or not key.strip():
        raise InputError(f"slice {text!r}: write it as KEY=VALUE, e.g. 'country=FR' or 'amount > 100=true'")
    return key.strip(), value.strip()
