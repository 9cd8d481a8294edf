"""Read the data a :class:`~mlobs_notebook.records.SourceRef` names with a Spark session.

The Spark engine's counterpart of ``scan.py``: parquet or CSV files and folders (local, or on the
object stores the session's Hadoop can reach: ``s3://`` is read as ``s3a://``), Delta tables at a
version and Iceberg tables at a snapshot where the session has them configured, and tables of
the session's catalog (``table:<name>``, read with ``spark.table``). Spark reads lazily; a source
it cannot read raises :class:`~mlobs_notebook.errors.SourceUnreadable` naming it and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlobs_notebook.drift.engines.spark_support import require_pyspark
from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef
from mlobs_notebook.sources.refs import source_from_uri

__all__ = ["TABLE_PREFIX", "spark_scan"]

TABLE_PREFIX = "table:"
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def spark_scan(source: SourceRef | str, spark: Any) -> Any:
    """A Spark DataFrame of the source (a SourceRef, a URI, or ``table:<name>``)."""
    require_pyspark("Reading data with Spark")
    from pyspark.errors import PySparkException

    if isinstance(source, str) and source.startswith(TABLE_PREFIX):
        name = source.removeprefix(TABLE_PREFIX)
        uri, reader = source, lambda: spark.table(name)
    else:
        ref = source if isinstance(source, SourceRef) else source_from_uri(source)
        uri, reader = ref.uri, _reader(ref, spark)
    try:
        frame = reader()
        frame.schema  # noqa: B018 - resolve now, naming the source, not at the first action
    except PySparkException as exc:
        raise SourceUnreadable(f"cannot read {uri} with Spark: {_reason(exc)}") from exc
    return frame


def _reader(ref: SourceRef, spark: Any) -> Any:
    if ref.kind == "delta":
        table = ref.path or ref.table
        options = {"versionAsOf": str(ref.version)} if ref.version is not None else {}
        return lambda: spark.read.format("delta").options(**options).load(table)
    if ref.kind == ICEBERG:
        options = {"snapshot-id": str(ref.snapshot_id)} if ref.snapshot_id is not None else {}
        name = f"{ref.catalog}.{ref.table}" if ref.catalog else str(ref.table)
        return lambda: spark.read.format("iceberg").options(**options).load(name)
    if ref.kind == "local":
        path = Path(ref.path or ref.uri)
        if not path.exists():
            raise SourceUnreadable(f"cannot read {ref.uri}: {path} does not exist")
        fmt = _format(ref.uri, path)
        return lambda: _files(spark, fmt, str(path))
    location = "s3a://" + ref.uri.removeprefix("s3://") if ref.kind == "s3" else ref.uri
    suffix = Path(location).suffix.lower()
    return lambda: _files(spark, _FORMATS.get(suffix, "parquet"), location)


def _format(uri: str, path: Path) -> str:
    if path.is_dir():
        for suffix, fmt in _FORMATS.items():
            if next(path.rglob(f"*{suffix}"), None) is not None:
                return fmt
        raise SourceUnreadable(f"cannot read {uri}: the folder {path} holds no .parquet or .csv files")
    found = _FORMATS.get(path.suffix.lower())
    if found is None:
        raise SourceUnreadable(f"cannot read {uri}: {path.name} is neither parquet nor CSV (by its extension)")
    return found


def _files(spark: Any, fmt: str, location: str) -> Any:
    if fmt == "csv":
        return spark.read.option("header", "true").option("inferSchema", "true").csv(location)
    return spark.read.parquet(location)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "DATA_SOURCE_NOT_FOUND" in text:
        return (
            f"{text} The Spark session has no such data source: start it with the connector "
            "(delta-spark's configure_spark_with_delta_pip, or the Iceberg runtime jar and a catalog), "
            "or investigate with engine='polars'"
        )
    return text
