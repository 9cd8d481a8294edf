"""A Databricks ``{table}_drift_metrics`` table as a :class:`~mlobs_notebook.drift.DriftReport`:
drift evidence with nothing recomputed, for ``investigate(..., drift_metrics=PATH)``.

Columns (Databricks docs: https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output;
each column's confirmation in :mod:`mlobs_notebook.drift.databricks`):

- required: ``window`` (struct ``start``, ``end``), ``granularity``, ``slice_key``,
  ``slice_value``, ``column_name``, ``drift_type`` and at least one statistic;
- read when present: ``data_type``, ``monitor_version``, ``count_delta``, ``avg_delta``,
  ``percent_null_delta`` (percentage points), ``population_stability_index``, ``js_distance``,
  ``ks_test`` and ``chi_squared_test`` (structs ``statistic``, ``pvalue``: our ``ks_statistic``,
  ``ks_pvalue``, ``chi_squared_statistic``, ``chi_squared_pvalue``), ``wasserstein_distance``,
  ``tv_distance``, ``l_infinity_distance``; every other column is ignored.

``':table'`` rows (whole-table drift) are left out: the investigation compares columns. A column
is numeric when it has KS or Wasserstein values (Databricks computes them for numeric columns
only), categorical when it has chi-squared, TV or L-infinity values, else by its Spark
``data_type``. Drift is judged as :func:`~mlobs_notebook.drift.compute_drift` judges it
(``thresholds``; by default PSI >= 0.2 drift, >= 0.1 warn). Databricks computes PSI for numeric
columns only, so a column without any PSI value is judged, when no thresholds are given, by the
first of JS distance, chi-squared p-value and KS p-value it has, at their registered thresholds,
and the notes say so. A profile metrics table (``profile_metrics=``) adds each window's row
``count`` and null rates. The report has no bins: the drift table holds no distributions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift import DriftReport, get_statistic, statistic_names
from mlobs_notebook.drift.assemble import bins_schema, flag_column, table_schema
from mlobs_notebook.drift.databricks import (
    DIRECT_STATISTICS,
    DRIFT_METRICS_SCHEMA,
    PROFILE_METRICS_SCHEMA,
    TEST_STATISTICS,
)
from mlobs_notebook.drift.profile import PROFILE_SCHEMA
from mlobs_notebook.drift.statistics import resolve
from mlobs_notebook.drift.thresholds import (
    Threshold,
    default_threshold,
    fixed,
    judge,
    resolve_thresholds,
)
from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.sources.monitor_tables import (
    DOCS,
    check_columns,
    parse_slice,
    read_table,
    select_rows,
    utc_window,
)
from mlobs_notebook.times import Granularity

__all__ = ["read_drift_metrics"]

REQUIRED = ("window", "granularity", "slice_key", "slice_value", "column_name", "drift_type")
STATISTIC_COLUMNS = (*DIRECT_STATISTICS, *TEST_STATISTICS)
FALLBACK = ("js_distance", "chi_squared_pvalue", "ks_pvalue")
_NUMERIC_SPARK = ("tinyint", "smallint", "int", "integer", "bigint", "long", "short", "byte", "float", "double", "real", "decimal")
_NUMERIC_STATS = ("ks_statistic", "wasserstein_distance")
_CATEGORICAL_STATS = ("chi_squared_statistic", "tv_distance", "l_infinity_distance")
_KEY = ["__start", "column_name", "drift_type"]


def read_drift_metrics(
    path: str | Path,
    *,
    granularity: Granularity | str | None = None,
    slice: tuple[str, str] | str | None = None,
    model_id: str | None = None,
    thresholds: Mapping[str, Any] | str | None = None,
    zone: str = "UTC",
    profile_metrics: str | Path | None = None,
) -> DriftReport:
    """The drift metrics table at ``path`` (Delta folder, parquet file or folder) as a DriftReport.

    One slice (default: the whole table; ``slice=("key", "value")`` or ``"key=value"``), one model
    (default ``'*'``, all models, for an InferenceLog monitor), one granularity (the one asked,
    else the table's only one). Windows are labelled in ``zone`` (Databricks' are UTC). Raises
    :class:`~mlobs_notebook.errors.UnknownColumn` naming a missing required column and the file,
    :class:`~mlobs_notebook.errors.InputError` when the slice, model or granularity is not there.
    """
    what = "drift metrics"
    frame = read_table(path, what)
    check_columns(frame, REQUIRED, what, path)
    present = [c for c in STATISTIC_COLUMNS if c in frame.columns]
    if not present:
        raise UnknownColumn(f"{path}: the drift metrics table has none of Databricks' drift statistics "
                            f"({', '.join(STATISTIC_COLUMNS)}; {DOCS}). Its columns: {', '.join(frame.columns)}")
    frame = utc_window(frame, "window", what, path).with_columns(
        pl.col("drift_type").str.strip_chars().str.to_uppercase()
    )
    notes = [f"drift read from the Databricks drift metrics table {path}; no statistic was recomputed"]
    table_level = frame.filter(pl.col("column_name").str.starts_with(":"))
    frame = frame.filter(~pl.col("column_name").str.starts_with(":") & pl.col("drift_type").is_in(["BASELINE", "CONSECUTIVE"]))
    if table_level.height:
        notes.append(f"{table_level.height} whole-table (':table') rows left out")
    picked = select_rows(frame, known=set(DRIFT_METRICS_SCHEMA), key=_KEY, what=what, path=path,
                         granularity=granularity, slice=parse_slice(slice), model_id=model_id)
    notes += picked.notes
    table = _table(picked.rows, picked.granularity, zone)
    profile = _profile(profile_metrics, picked.granularity, slice, model_id, zone) if profile_metrics else None
    if profile is not None:
        table = _with_counts(table, profile)
        notes.append(f"row counts and null rates from the profile metrics table {profile_metrics}")
    table, levels, judged_notes = _judge(table, thresholds)
    notes += judged_notes
    notes.append("no bins: the drift metrics table holds no distributions, so no histograms")
    statistics = tuple(s for s in statistic_names() if table[s].drop_nulls().len())
    empty_profile = pl.DataFrame(schema={"source": pl.String, "window_start": pl.Datetime("us", zone),
                                         "window_end": pl.Datetime("us", zone), **PROFILE_SCHEMA})
    return DriftReport(
        table=table, bins=pl.DataFrame(schema=bins_schema(zone)),
        profile=profile if profile is not None else empty_profile,
        notes=tuple(notes), granularity=picked.granularity, zone=zone, statistics=statistics, levels=levels,
    )


def _local(column: str, zone: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(zone)


def _table(rows: pl.DataFrame, step: Granularity | None, zone: str) -> pl.DataFrame:
    schema = table_schema(zone)
    values: dict[str, pl.Expr] = {
        "window_start": _local("__start", zone),
        "window_end": _local("__end", zone),
        "granularity": pl.lit(str(step) if step is not None else None, pl.String),
        "column_name": pl.col("column_name"),
        "data_type": pl.col("data_type") if "data_type" in rows.columns else pl.lit(None, pl.String),
        "drift_type": pl.col("drift_type"),
    }
    for name in ("count_delta", "avg_delta", "percent_null_delta", *DIRECT_STATISTICS):
        if name in rows.columns:
            values[name] = pl.col(name)
    for name, (statistic, pvalue) in TEST_STATISTICS.items():
        if name in rows.columns:
            values[statistic] = pl.col(name).struct.field("statistic")
            values[pvalue] = pl.col(name).struct.field("pvalue")
    out = rows.sort("column_name", "drift_type", "__start", nulls_last=False).select(
        **values, **{c: pl.lit(None, t) for c, t in schema.items() if c not in values and c != "kind"}
    )
    out = out.with_columns(kind=_kinds(out))
    return out.select(pl.col(c).cast(t) for c, t in schema.items())


def _kinds(table: pl.DataFrame) -> pl.Series:
    kinds: dict[str, str] = {}
    for (column,), rows in table.group_by("column_name"):
        spark = str(rows["data_type"].drop_nulls().first() or "").lower()
        if any(rows[s].drop_nulls().len() for s in _NUMERIC_STATS):
            kinds[str(column)] = "numeric"
        elif any(rows[s].drop_nulls().len() for s in _CATEGORICAL_STATS):
            kinds[str(column)] = "categorical"
        else:
            kinds[str(column)] = "numeric" if spark.startswith(_NUMERIC_SPARK) else "categorical"
    return table["column_name"].replace_strict(kinds, return_dtype=pl.String)


def _judge(
    table: pl.DataFrame, thresholds: Mapping[str, Any] | str | None
) -> tuple[pl.DataFrame, dict[str, dict[str, dict[str, Threshold]]], list[str]]:
    """Judge the monitor's statistics with our thresholds (nothing is recomputed). Learned
    thresholds need the baseline's own windows, which a monitor table does not hold."""
    if isinstance(thresholds, str):
        raise InputError(
            f"thresholds={thresholds!r}: a Databricks drift metrics table holds no baseline windows to "
            "learn thresholds from; give the thresholds as numbers, or compute the drift with "
            "compute_drift(..., thresholds='learned')"
        )
    kinds = dict(table.select("column_name", "kind").unique(maintain_order=True).iter_rows())
    levels = resolve_thresholds(thresholds, kinds, resolve(None))
    notes: list[str] = []
    fell_back: dict[str, list[str]] = {}
    parts = []
    for column in kinds:
        rows = table.filter(pl.col("column_name") == column)
        mine = {name: t for name, t in levels[column].items() if isinstance(t, Threshold)}
        if thresholds is None and not rows["population_stability_index"].drop_nulls().len():
            fallback = next((s for s in FALLBACK if rows[s].drop_nulls().len()), None)
            if fallback is not None:
                mine = {**mine, fallback: default_threshold(get_statistic(fallback))}
                mine.pop("population_stability_index", None)
                fell_back.setdefault(fallback, []).append(column)
        levels[column] = dict(mine)
        values = {name: rows[name].cast(pl.Float64).fill_null(np.nan).to_numpy() for name in mine}
        # the table holds no sample sizes per statistic: a window's row count stands for both sides
        counts = rows["count"].fill_null(np.iinfo(np.int64).max).to_numpy()
        flags, drifted, status = judge(values, {name: counts for name in mine}, mine, counts, 0)
        flag_series = [pl.Series(flag_column(name), flag, dtype=pl.Boolean) for name, flag in flags.items()]
        parts.append(rows.with_columns(
            pl.Series("drifted", drifted, dtype=pl.Boolean), pl.Series("status", status, dtype=pl.String), *flag_series,
        ))
    for name, judged in fell_back.items():
        notes.append(f"no PSI in the table for {', '.join(judged)} (Databricks computes it for numeric columns): "
                     f"judged by {name} {default_threshold(get_statistic(name)).rule.removeprefix('x ')}")
    table = pl.concat(parts, how="diagonal_relaxed").select(table.columns) if parts else table
    return table, fixed(levels), notes


def _profile(
    path: str | Path, step: Granularity | None, slice: Any, model_id: str | None, zone: str
) -> pl.DataFrame:
    what = "profile metrics"
    frame = read_table(path, what)
    check_columns(frame, ("window", "log_type", "granularity", "slice_key", "slice_value", "column_name", "count"), what, path)
    frame = utc_window(frame, "window", what, path).filter(~pl.col("column_name").str.starts_with(":"))
    baseline = frame.filter(pl.col("log_type").str.to_uppercase() == "BASELINE")
    windows = frame.filter(pl.col("log_type").str.to_uppercase() == "INPUT")
    known = set(PROFILE_METRICS_SCHEMA)
    picked = select_rows(windows, known=known, key=["__start", "column_name"], what=what, path=path,
                         granularity=step, slice=parse_slice(slice), model_id=model_id)
    base = select_rows(baseline, known=known, key=["column_name"], what=what, path=path,
                       slice=parse_slice(slice), model_id=model_id).rows if baseline.height else baseline
    both = pl.concat([base.with_columns(source=pl.lit("baseline")), picked.rows.with_columns(source=pl.lit("current"))],
                     how="diagonal_relaxed")

    def column(name: str, dtype: Any) -> pl.Expr:
        return pl.col(name).cast(dtype) if name in both.columns else pl.lit(None, dtype)

    nulls = column("num_nulls", pl.Int64)
    if "percent_null" in both.columns:
        nulls = pl.coalesce(nulls, (pl.col("percent_null") * pl.col("count") / 100).round().cast(pl.Int64))
    return both.select(
        source="source", window_start=_local("__start", zone), window_end=_local("__end", zone),
        column_name="column_name", kind=pl.lit(None, pl.String), data_type=column("data_type", pl.String),
        count=column("count", pl.Int64), null_count=nulls, non_finite_count=pl.lit(None, pl.Int64),
        mean=column("avg", pl.Float64), std=column("stddev", pl.Float64), min=column("min", pl.Float64),
        max=column("max", pl.Float64),
        **{name: pl.lit(None, pl.Float64) for name in PROFILE_SCHEMA if name.startswith("p") and name[1:].isdigit()},
    )


def _with_counts(table: pl.DataFrame, profile: pl.DataFrame) -> pl.DataFrame:
    """Each window's row count and null rate from the profile; the reference's from the deltas."""
    current = profile.filter(pl.col("source") == "current").select(
        "window_start", "column_name", pl.col("count").alias("__count"),
        (pl.col("null_count") / pl.col("count")).alias("__rate"),
    )
    joined = table.drop("count", "current_null_rate").join(current, on=["window_start", "column_name"], how="left")
    return joined.with_columns(
        count=pl.col("__count"), current_null_rate=pl.col("__rate"),
        reference_count=pl.col("__count") - pl.col("count_delta"),
        reference_null_rate=pl.col("__rate") - pl.col("percent_null_delta") / 100,
    ).select(table.columns)
