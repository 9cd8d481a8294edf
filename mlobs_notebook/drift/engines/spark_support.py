"""Around Spark itself: pyspark and Java checked (the error names the install command), a local
session, frames turned into Spark DataFrames, Spark types read as polars types, settings held for
the length of a computation, and Spark's errors turned into ours.

pyspark is imported here only, and only when the Spark engine runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.drift.engines import is_spark_frame
from mlobs_notebook.errors import InputError, MissingDependency, SourceUnreadable

__all__ = [
    "JAVA_INSTALL",
    "as_spark",
    "column",
    "java_home",
    "local_session",
    "polars_schema",
    "require_pyspark",
    "session_for",
    "session_settings",
    "spark_errors",
    "stacked",
]

JAVA_INSTALL = (
    "sudo apt-get install -y openjdk-17-jre-headless (Debian, Ubuntu), or set JAVA_HOME to a "
    "Java 17 or 21 installation"
)
_LOG4J = Path(__file__).with_name("log4j2-quiet.properties")


def require_pyspark(purpose: str = "The Spark engine") -> None:
    """Import pyspark, or raise :class:`MissingDependency` with the pip command."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise MissingDependency("pyspark", "spark", purpose) from exc
    # pyspark 4.3 warns on import of pandas 3 support it has not certified; nothing to act on
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


def java_home() -> str:
    """The Java installation Spark will start: ``JAVA_HOME``, else the ``java`` on PATH.
    :class:`MissingDependency` with the apt command when there is none."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return home
    java = shutil.which("java")
    if java is None:
        raise MissingDependency("java", "spark", "Starting a Spark session (the JVM)", command=JAVA_INSTALL)
    return str(Path(os.path.realpath(java)).parent.parent)


def local_session(master: str = "local[2]", *, app: str = "mlobs", config: Mapping[str, str] | None = None) -> Any:
    """A quiet Spark session on this machine (tests, benchmarks, the CLI without a cluster).

    No web UI, no progress bars on the console, logging at WARN without the native-Hadoop
    notice, shuffles in 2 x cores partitions, scratch files in a temporary folder. ``config``
    adds or overrides settings (``spark.driver.memory`` applies only when this call starts the
    JVM). Raises :class:`MissingDependency` without pyspark or Java.
    """
    require_pyspark("A Spark session")
    os.environ.setdefault("JAVA_HOME", java_home())
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_DIRS", tempfile.mkdtemp(prefix="mlobs-spark-"))
    from pyspark.sql import SparkSession

    cores = master[master.find("[") + 1 : master.find("]")] if "[" in master else "2"
    partitions = str(2 * (os.cpu_count() or 2) if cores == "*" else 2 * int(cores))
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": os.path.join(os.environ["SPARK_LOCAL_DIRS"], "warehouse"),
        "spark.log.level": "WARN",
        "spark.sql.debug.maxToStringFields": "1000",  # wide aggregations' plans, without a warning
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_LOG4J}",
        **(config or {}),
    }
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def session_for(spark: Any, *frames: Any) -> Any:
    """The session to compute in: ``spark``, else a Spark frame's, else the active one."""
    if spark is not None:
        return spark
    for frame in frames:
        if is_spark_frame(frame):
            return frame.sparkSession
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        raise InputError(
            "engine='spark' needs a SparkSession for data that is not a Spark DataFrame: pass "
            "spark=SparkSession.builder.getOrCreate(), or give Spark DataFrames"
        )
    return active


def as_spark(frame: Any, spark: Any, what: str) -> Any:
    """A Spark DataFrame: as given, or a polars/pandas frame copied into ``spark`` through Arrow
    (a LazyFrame is collected first: for data larger than memory, hand Spark the table itself)."""
    if is_spark_frame(frame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect(engine="streaming")
    if type(frame).__module__.startswith("pandas"):
        frame = pl.from_pandas(frame)
    if not isinstance(frame, pl.DataFrame):
        raise InputError(
            f"the {what} must be a Spark DataFrame or a polars/pandas frame for engine='spark', "
            f"not {type(frame).__name__}"
        )
    # Spark reads large strings, not string views
    return spark.createDataFrame(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))


def column(name: str) -> Any:
    """A column by its exact name (dots and spaces are not paths: the name is quoted)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def polars_schema(frame: Any) -> pl.Schema:
    """The Spark frame's columns with their polars types (the report names polars types, so
    both engines write the same ``data_type``); types drift cannot compare map to Object."""
    from pyspark.sql import types as T

    simple: dict[type, pl.DataType] = {
        T.DoubleType: pl.Float64(), T.FloatType: pl.Float32(), T.LongType: pl.Int64(),
        T.IntegerType: pl.Int32(), T.ShortType: pl.Int16(), T.ByteType: pl.Int8(),
        T.BooleanType: pl.Boolean(), T.StringType: pl.String(), T.VarcharType: pl.String(),
        T.CharType: pl.String(), T.DateType: pl.Date(), T.BinaryType: pl.Binary(),
        T.TimestampType: pl.Datetime("us", "UTC"), T.TimestampNTZType: pl.Datetime("us"),
    }
    schema: dict[str, pl.DataType] = {}
    for field in frame.schema.fields:
        dtype = field.dataType
        if isinstance(dtype, T.DecimalType):
            schema[field.name] = pl.Decimal(dtype.precision, dtype.scale)
        else:
            schema[field.name] = simple.get(type(dtype), pl.Object())
    return pl.Schema(schema)


def stacked(frames: list[Any]) -> Any:
    """One frame of several with the same columns, stacked (one job runs every branch). Per-column
    work is written as one branch per column rather than as an array exploded per row: each branch
    reads its own column (parquet reads only it) and is compiled, where an exploded array of
    structs is built and taken apart row by row (measured 8x slower for 10 columns)."""
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


@contextmanager
def session_settings(spark: Any, settings: Mapping[str, str]) -> Iterator[None]:
    """Set Spark SQL settings for the block and put the previous values back after it."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


@contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Spark's failures as :class:`SourceUnreadable` naming ``what`` (the first line of Spark's
    message; Spark keeps the JVM trace in its log)."""
    from pyspark.errors import PySparkException

    try:
        yield
    except PySparkException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceUnreadable(f"{what}: Spark failed: {first}") from exc
