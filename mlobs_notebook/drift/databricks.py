"""Our drift report in the schemas of Databricks' data profiling (Lakehouse Monitoring) tables.

A monitor writes ``{output_schema}.{table}_drift_metrics`` and ``{table}_profile_metrics``
(https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output,
formerly https://docs.databricks.com/en/lakehouse-monitoring/monitor-output.html). Writing ours in
the same columns lets dashboards and alerts built on those tables read ours. Pure: polars in and out;
``sources.monitor_drift`` reads such tables back as a :class:`~mlobs_notebook.drift.DriftReport`.

How each column was confirmed (the docs' schema section could not be read in full; see the notes
beside the code in ``DRIFT_METRICS_SCHEMA``):

- ``window`` (struct ``start``, ``end``: UTC timestamps), ``granularity`` (``'1 day'``,
  ``'1 hour'``), ``monitor_version``, ``slice_key``/``slice_value`` (null: the whole table),
  ``column_name`` (``':table'``: the whole table), ``data_type`` (the Spark type),
  ``window_cmp`` (the compared window; null for BASELINE drift), ``drift_type``
  (``BASELINE``/``CONSECUTIVE``), ``count_delta``, ``avg_delta``, ``percent_null_delta``
  (percentage points: Databricks' ``percent_*`` columns are on a 0-100 scale),
  ``js_distance``, ``ks_test`` (struct ``statistic``, ``pvalue``), ``wasserstein_distance``,
  ``population_stability_index``, ``chi_squared_test`` (struct ``statistic``, ``pvalue``),
  ``tv_distance``, ``l_infinity_distance``: read in the docs or seen in real monitor output.
- ``percent_zeros_delta``, ``percent_distinct_delta``, ``non_null_columns_delta``: seen in real
  output; we do not compute them, so they are written null.
- Our ``wasserstein_normalized`` has no Databricks column and is not written.

Profile rows (``log_type`` ``INPUT`` for a window, ``BASELINE`` for the baseline with a null window
and granularity) carry ``count``, ``num_nulls``, ``avg``, ``stddev``, ``min``, ``max``,
``quantiles`` and ``percent_null`` (0-100); ``':table'`` rows carry the window's row count and,
for an InferenceLog monitor, the model-quality columns (``accuracy_score``, ``f1_score.macro``,
``roc_auc_score`` ...; names beyond ``accuracy_score``, ``precision``/``recall``/``f1_score``
structs and the regression errors are not confirmed by the docs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from mlobs_notebook.drift.profile import QUANTILES
from mlobs_notebook.times import Granularity

if TYPE_CHECKING:
    from mlobs_notebook.drift.report import DriftReport

__all__ = [
    "DIRECT_STATISTICS",
    "DRIFT_METRICS_SCHEMA",
    "PROFILE_METRICS_SCHEMA",
    "TABLE_COLUMN",
    "TEST_STATISTICS",
    "drift_metrics",
    "profile_metrics",
    "spark_type",
]

UTC_TIME = pl.Datetime("us", "UTC")
WINDOW = pl.Struct({"start": UTC_TIME, "end": UTC_TIME})
STAT_TEST = pl.Struct({"statistic": pl.Float64, "pvalue": pl.Float64})
TABLE_COLUMN = ":table"  # the pseudo-column of whole-table metrics

# Statistics that are one column on both sides, and the test structs that are two of ours.
DIRECT_STATISTICS = ("js_distance", "wasserstein_distance", "population_stability_index", "tv_distance", "l_infinity_distance")
TEST_STATISTICS = {"ks_test": ("ks_statistic", "ks_pvalue"), "chi_squared_test": ("chi_squared_statistic", "chi_squared_pvalue")}

DRIFT_METRICS_SCHEMA: dict[str, pl.DataType] = {
    "window": WINDOW,  # observed
    "granularity": pl.String(),  # observed
    "monitor_version": pl.Int64(),  # observed
    "slice_key": pl.String(),  # doc
    "slice_value": pl.String(),  # doc
    "column_name": pl.String(),  # doc
    "data_type": pl.String(),  # observed
    "window_cmp": WINDOW,  # observed; null for BASELINE drift
    "drift_type": pl.String(),  # observed
    "count_delta": pl.Int64(),  # observed (bigint in a real DDL dump)
    "avg_delta": pl.Float64(),  # observed
    "percent_null_delta": pl.Float64(),  # observed
    "percent_zeros_delta": pl.Float64(),  # observed
    "percent_distinct_delta": pl.Float64(),  # observed
    "non_null_columns_delta": pl.Struct({"added": pl.Int32, "missing": pl.Int32}),  # secondary
    "js_distance": pl.Float64(),  # observed
    "ks_test": STAT_TEST,  # observed
    "wasserstein_distance": pl.Float64(),  # observed
    "population_stability_index": pl.Float64(),  # observed
    "chi_squared_test": STAT_TEST,  # observed name, secondary fields
    "tv_distance": pl.Float64(),  # observed
    "l_infinity_distance": pl.Float64(),  # observed
}

PROFILE_METRICS_SCHEMA: dict[str, pl.DataType] = {
    "window": WINDOW,
    "log_type": pl.String(),  # INPUT or BASELINE
    "logging_table_commit_version": pl.Int32(),
    "monitor_version": pl.Int64(),
    "granularity": pl.String(),
    "slice_key": pl.String(),
    "slice_value": pl.String(),
    "column_name": pl.String(),
    "count": pl.Int64(),
    "data_type": pl.String(),
    "num_nulls": pl.Int64(),
    "avg": pl.Float64(),
    "quantiles": pl.List(pl.Float64),
    "min": pl.Float64(),
    "max": pl.Float64(),
    "stddev": pl.Float64(),
    "num_zeros": pl.Int64(),
    "num_nan": pl.Int64(),
    "percent_null": pl.Float64(),  # 0-100
}

_SPARK_TYPES = {
    "Int8": "tinyint", "Int16": "smallint", "Int32": "int", "Int64": "bigint",
    "UInt8": "smallint", "UInt16": "int", "UInt32": "bigint", "UInt64": "decimal(20,0)",
    "Float32": "float", "Float64": "double", "String": "string", "Utf8": "string",
    "Boolean": "boolean", "Date": "date", "Categorical": "string", "Null": "void",
}  # fmt: skip


def spark_type(polars_type: str | None) -> str | None:
    """The Spark SQL type name of a polars dtype's text (``Int64`` -> ``bigint``), as Databricks'
    ``data_type`` column spells it; unknown types pass through."""
    if polars_type is None:
        return None
    head = polars_type.split("(", 1)[0]
    if head == "Datetime":
        return "timestamp" if "time_zone=None" not in polars_type else "timestamp_ntz"
    if head == "Decimal":
        digits = [p.split("=")[-1].strip(" )") for p in polars_type.split("(", 1)[1].split(",")]
        return f"decimal({','.join(digits)})"
    if head == "Enum":
        return "string"
    return _SPARK_TYPES.get(head, polars_type)


def _spark_types(values: pl.Series) -> pl.Expr:
    mapping = {v: spark_type(v) for v in values.unique().drop_nulls().to_list()}
    return pl.col("data_type").replace_strict(mapping, default=None, return_dtype=pl.String)


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").cast(UTC_TIME)


def _window(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return pl.when(start.is_null()).then(None).otherwise(pl.struct(start.alias("start"), end.alias("end")))


def drift_metrics(report: DriftReport, *, monitor_version: int = 0) -> pl.DataFrame:
    """The report's drift table as rows of ``{table}_drift_metrics`` (columns and types as
    :data:`DRIFT_METRICS_SCHEMA`), whole table (``slice_key`` null), windows in UTC.

    ``window_cmp`` of a CONSECUTIVE row is the window one granularity earlier, counted in the
    data's zone as the windows were."""
    table = report.table
    step = report.granularity
    label = step.databricks if step is not None else None
    earlier = pl.col("window_start").dt.offset_by(f"-{step.every}") if step is not None else pl.lit(None)
    consecutive = pl.col("drift_type") == "CONSECUTIVE"
    rows = table.select(
        window=_window(_utc("window_start"), _utc("window_end")),
        granularity=pl.lit(label, pl.String),
        monitor_version=pl.lit(monitor_version, pl.Int64),
        slice_key=pl.lit(None, pl.String),
        slice_value=pl.lit(None, pl.String),
        column_name=pl.col("column_name"),
        data_type=_spark_types(table["data_type"]),
        window_cmp=pl.when(consecutive).then(
            _window(earlier.dt.convert_time_zone("UTC").cast(UTC_TIME), _utc("window_start"))
        ),
        drift_type=pl.col("drift_type"),
        count_delta=pl.col("count_delta"),
        avg_delta=pl.col("avg_delta"),
        percent_null_delta=pl.col("percent_null_delta"),
        percent_zeros_delta=pl.lit(None, pl.Float64),
        percent_distinct_delta=pl.lit(None, pl.Float64),
        non_null_columns_delta=pl.lit(None),
        **{name: pl.col(name) for name in DIRECT_STATISTICS},
        **{
            name: pl.when(pl.col(stat).is_not_null() | pl.col(p).is_not_null()).then(
                pl.struct(pl.col(stat).alias("statistic"), pl.col(p).alias("pvalue")))
            for name, (stat, p) in TEST_STATISTICS.items()
        },
    )
    return rows.select(pl.col(name).cast(dtype) for name, dtype in DRIFT_METRICS_SCHEMA.items())


def profile_metrics(
    report: DriftReport,
    *,
    monitor_version: int = 0,
    quality: pl.DataFrame | None = None,
    model_id: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """The report's profile as rows of ``{table}_profile_metrics``: a BASELINE row (null window)
    and an INPUT row per window for each column, and ``':table'`` rows with the row count.

    ``quality``: model-quality metrics per window (``window_start`` and one column per metric,
    named as Databricks names them, e.g. ``roc_auc_score``), joined onto the ``':table'`` INPUT
    rows as an InferenceLog monitor writes them. ``model_id``: ``(column, value)`` of the
    monitor's model id column (``'*'`` is Databricks' "all models")."""
    step = report.granularity
    label = step.databricks if step is not None else None
    quantiles = [f"p{round(q * 100):02d}" for q in QUANTILES]
    profile = report.profile.with_columns(
        log_type=pl.when(pl.col("source") == "baseline").then(pl.lit("BASELINE")).otherwise(pl.lit("INPUT")),
        granularity=pl.when(pl.col("source") == "baseline").then(None).otherwise(pl.lit(label, pl.String)),
    )
    columns = profile.select(
        window=_window(_utc("window_start"), _utc("window_end")),
        log_type="log_type",
        granularity="granularity",
        column_name="column_name",
        count="count",
        data_type=_spark_types(profile["data_type"]),
        num_nulls="null_count",
        avg="mean",
        quantiles=pl.concat_list(quantiles),
        min="min",
        max="max",
        stddev="std",
        percent_null=pl.when(pl.col("count") > 0).then(100 * pl.col("null_count") / pl.col("count")),
    )
    whole = (
        columns.group_by("window", "log_type", "granularity", maintain_order=True)
        .agg(pl.col("count").first())
        .with_columns(column_name=pl.lit(TABLE_COLUMN))
    )
    out = pl.concat([columns, whole], how="diagonal_relaxed")
    if quality is not None:
        out = _with_quality(out, quality, step)
    full = {**PROFILE_METRICS_SCHEMA}
    extra = [c for c in out.columns if c not in full]
    out = out.with_columns(
        monitor_version=pl.lit(monitor_version, pl.Int64),
        **{c: pl.lit(None, full[c]) for c in full if c not in out.columns and c != "monitor_version"},
    )
    ordered = [pl.col(c).cast(t) for c, t in full.items()] + [pl.col(c) for c in extra]
    if model_id is not None:
        ordered.insert(4, pl.lit(model_id[1], pl.String).alias(model_id[0]))
    return out.select(ordered)


def _with_quality(rows: pl.DataFrame, quality: pl.DataFrame, step: Granularity | None) -> pl.DataFrame:
    """``':table'`` INPUT rows joined with the quality metrics by window start (UTC); a window
    with metrics and no profile row gets its own row."""
    metrics = quality.select(
        pl.col("window_start").dt.convert_time_zone("UTC").cast(UTC_TIME).alias("__start"),
        *[pl.col(c) for c in quality.columns if c not in ("window_start", "window_end")],
    )
    table_rows = rows.filter((pl.col("column_name") == TABLE_COLUMN) & (pl.col("log_type") == "INPUT"))
    other = rows.filter(~((pl.col("column_name") == TABLE_COLUMN) & (pl.col("log_type") == "INPUT")))
    joined = table_rows.with_columns(__start=pl.col("window").struct.field("start")).join(
        metrics, on="__start", how="full", coalesce=True
    )
    end = pl.col("__start").dt.offset_by(step.every) if step is not None else pl.col("__start")
    joined = joined.with_columns(
        window=pl.coalesce(pl.col("window"), _window(pl.col("__start"), end)),
        log_type=pl.lit("INPUT"),
        granularity=pl.lit(step.databricks if step is not None else None, pl.String),
        column_name=pl.lit(TABLE_COLUMN),
    ).drop("__start")
    return pl.concat([other, joined], how="diagonal_relaxed").sort(
        pl.col("window").struct.field("start"), "column_name", nulls_last=False
    )
