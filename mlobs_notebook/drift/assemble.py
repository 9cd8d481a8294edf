"""Per-column result blocks in, the report's three tables out (drift table, bins, profile)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.profile import PROFILE_SCHEMA, QUANTILES, BaselineProfile
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.statistics import statistic_names
from mlobs_notebook.drift.thresholds import judge
from mlobs_notebook.drift.windows import Windows

__all__ = [
    "FLAG_COLUMNS",
    "STAT_COLUMNS",
    "TABLE_SCHEMA",
    "Block",
    "assemble",
    "bins_schema",
    "flag_column",
    "table_schema",
    "window_keys_schema",
]

# Statistic columns in the registry's order (Databricks' drift metrics table first).
STAT_COLUMNS = statistic_names()


def flag_column(statistic: str) -> str:
    """The table column holding ``statistic``'s own drift flag."""
    return f"{statistic}_drifted"


FLAG_COLUMNS = [flag_column(name) for name in STAT_COLUMNS]


def window_keys_schema(zone: str = "UTC") -> dict[str, pl.DataType]:
    """The columns that name a row: its window (aware, in the data's zone), column and drift type."""
    return {
        "window_start": pl.Datetime("us", zone),
        "window_end": pl.Datetime("us", zone),
        "granularity": pl.String(),
        "column_name": pl.String(),
        "kind": pl.String(),
        "data_type": pl.String(),
        "drift_type": pl.String(),
    }


def table_schema(zone: str = "UTC") -> dict[str, pl.DataType]:
    """The drift table's columns, with windows in ``zone``."""
    return {**window_keys_schema(zone), **_MEASURES}


_MEASURES: dict[str, pl.DataType] = {
    "count": pl.Int64(),
    "reference_count": pl.Int64(),
    "count_delta": pl.Int64(),
    "avg_delta": pl.Float64(),
    "reference_null_rate": pl.Float64(),
    "current_null_rate": pl.Float64(),
    "non_finite_count": pl.Int64(),
    **{name: pl.Float64() for name in STAT_COLUMNS},
    **{name: pl.Boolean() for name in FLAG_COLUMNS},
    "drifted": pl.Boolean(),
    "status": pl.String(),
}
TABLE_SCHEMA = table_schema()


@dataclass(frozen=True)
class Block:
    """One column x drift type: rows for ``windows`` (indices into the window bounds)."""

    column: str
    drift_type: str
    windows: np.ndarray
    reference: np.ndarray  # (len(windows), bins) counts
    current: np.ndarray
    values: dict[str, np.ndarray]
    labels: list[str] | None  # categories for a categorical column, None for numeric
    sizes: dict[str, np.ndarray]  # per statistic: the smaller side's sample, per window


def _rate(missing: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, missing / np.where(count > 0, count, 1), np.nan)


def _block_columns(
    block: Block, profile: BaselineProfile, counts: Any, data_type: str, levels: dict[str, Any], min_rows: int
) -> dict[str, Any]:
    w = block.windows
    moments = counts.moments[block.column]
    count = counts.rows[w]
    base_moments = profile.counts_.moments[block.column]
    if block.drift_type == "BASELINE":
        ref_count = np.full(len(w), profile.n_rows_)
        ref_missing = np.full(len(w), base_moments["missing"][0])
        ref_mean = np.full(len(w), base_moments["mean"][0]) if "mean" in base_moments else None
    else:
        ref_count, ref_missing = counts.rows[w - 1], moments["missing"][w - 1]
        ref_mean = moments["mean"][w - 1] if "mean" in moments else None
    ref_rate, cur_rate = _rate(ref_missing, ref_count), _rate(moments["missing"][w], count)
    n = len(w)
    columns: dict[str, Any] = {
        "column_name": [block.column] * n,
        "kind": [profile.kinds_[block.column]] * n,
        "data_type": [data_type] * n,
        "drift_type": [block.drift_type] * n,
        "count": count,
        "reference_count": ref_count,
        "count_delta": count - ref_count,
        "avg_delta": moments["mean"][w] - ref_mean if ref_mean is not None else np.full(n, np.nan),
        "reference_null_rate": ref_rate,
        "current_null_rate": cur_rate,
        "non_finite_count": moments["non_finite"][w].astype(np.int64),
    }
    for name in STAT_COLUMNS:
        columns[name] = block.values.get(name, np.full(n, np.nan))
    by_statistic = levels[block.drift_type].get(block.column, {})
    flags, columns["drifted"], columns["status"] = judge(block.values, block.sizes, by_statistic, count, min_rows)
    for name in STAT_COLUMNS:
        columns[flag_column(name)] = flags.get(name, [None] * n)
    return columns


def _frame(columns: dict[str, Any], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    series = []
    for name, dtype in schema.items():
        value = columns[name]
        if isinstance(value, pl.Series):
            series.append(value.alias(name).cast(dtype))
        elif isinstance(value, np.ndarray) and value.ndim == 2:
            # a matrix becomes a fixed-size Array column first, then a List (no Python lists)
            series.append(pl.Series(name, value).cast(dtype))
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            # NaN marks "undefined" (an empty window, a constant reference); polars shows null.
            series.append(pl.Series(name, value, nan_to_null=True).cast(dtype))
        else:
            series.append(pl.Series(name, value, dtype=dtype))
    return pl.DataFrame(series)


def _window_keys(windows: Windows, indices: np.ndarray) -> dict[str, Any]:
    bounds = windows.bounds[indices.tolist()] if len(indices) else windows.bounds.clear()
    label = str(windows.granularity) if windows.granularity is not None else None
    return {
        "window_start": bounds["window_start"],
        "window_end": bounds["window_end"],
        "granularity": [label] * len(indices),
    }


def _bins_columns(block: Block, profile: BaselineProfile) -> dict[str, Any]:
    n = len(block.windows)

    def repeated(value: list[Any] | None, dtype: pl.DataType) -> pl.Series:
        return pl.Series([value], dtype=dtype).gather(np.zeros(n, dtype=np.int64))

    if block.labels is None:
        bin_edges = repeated(profile.bin_edges(block.column).tolist(), pl.List(pl.Float64))
        categories = repeated(None, pl.List(pl.String))
    else:
        bin_edges = repeated(None, pl.List(pl.Float64))
        categories = repeated([*block.labels, None], pl.List(pl.String))
    return {
        "column_name": [block.column] * n,
        "kind": [profile.kinds_[block.column]] * n,
        "data_type": [None] * n,
        "drift_type": [block.drift_type] * n,
        "bin_edges": bin_edges,
        "categories": categories,
        "baseline_counts": np.ascontiguousarray(block.reference, dtype=np.int64),
        "current_counts": np.ascontiguousarray(block.current, dtype=np.int64),
    }


def bins_schema(zone: str = "UTC") -> dict[str, pl.DataType]:
    """The bins table's columns, with windows in ``zone``."""
    return {
        **window_keys_schema(zone),
        "bin_edges": pl.List(pl.Float64),
        "categories": pl.List(pl.String),
        "baseline_counts": pl.List(pl.Int64),
        "current_counts": pl.List(pl.Int64),
    }


def _profile_frame(
    profile: BaselineProfile, counts: Any, quantiles: dict[str, Any], windows: Any, compared: list[str], dtypes: dict[str, str]
) -> pl.DataFrame:
    base = profile.profile_.filter(pl.col("column_name").is_in(compared)).with_columns(
        source=pl.lit("baseline"), window_start=pl.lit(None, pl.Datetime("us", windows.zone)),
        window_end=pl.lit(None, pl.Datetime("us", windows.zone)),
    )
    indices = np.arange(windows.count)
    parts = [base]
    for c in compared:
        m = counts.moments[c]
        columns: dict[str, Any] = {
            **_window_keys(windows, indices),
            "source": ["current"] * windows.count,
            "column_name": [c] * windows.count,
            "kind": [profile.kinds_[c]] * windows.count,
            "data_type": [dtypes[c]] * windows.count,
            "count": counts.rows,
            "null_count": m["missing"].astype(np.int64),
            "non_finite_count": m["non_finite"].astype(np.int64),
        }
        for stat in ("mean", "std", "min", "max"):
            columns[stat] = m.get(stat, np.full(windows.count, np.nan))
        # per-window quantiles come with the sorted values; out of core there are none
        table = quantiles.get(c, np.full((windows.count, len(QUANTILES)), np.nan))
        for i, q in enumerate(QUANTILES):
            columns[f"p{round(q * 100):02d}"] = table[:, i]
        schema: dict[str, pl.DataType] = {"window_start": pl.Datetime("us", windows.zone), "window_end": pl.Datetime("us", windows.zone),
                  "source": pl.String(), **PROFILE_SCHEMA}
        parts.append(_frame({k: v for k, v in columns.items() if k != "granularity"}, schema))
    order = ["source", "window_start", "window_end", *PROFILE_SCHEMA]
    return pl.concat([p.select(order) for p in parts])


def assemble(
    blocks: list[Block],
    *,
    windows: Any,
    profile: BaselineProfile,
    counts: Any,
    quantiles: dict[str, Any],
    dtypes: dict[str, str],
    levels: dict[str, Any],
    min_rows: int,
    findings: tuple[Any, ...],
    notes: tuple[str, ...],
    statistics: tuple[str, ...],
) -> DriftReport:
    tables, bins = [], []
    table_columns, bins_columns = table_schema(windows.zone), bins_schema(windows.zone)
    for block in blocks:
        keys = _window_keys(windows, block.windows)
        tables.append(_frame({**keys, **_block_columns(block, profile, counts, dtypes[block.column], levels, min_rows)}, table_columns))
        bin_columns = _bins_columns(block, profile)
        bin_columns["data_type"] = [dtypes[block.column]] * len(block.windows)
        bins.append(_frame({**keys, **bin_columns}, bins_columns))
    table = pl.concat(tables) if tables else pl.DataFrame(schema=table_columns)
    bins_frame = pl.concat(bins) if bins else pl.DataFrame(schema=bins_columns)
    return DriftReport(
        table=table,
        bins=bins_frame,
        profile=_profile_frame(profile, counts, quantiles, windows, list(dtypes), dtypes),
        schema_findings=findings,
        notes=notes,
        granularity=windows.granularity,
        zone=windows.zone,
        statistics=statistics,
        levels=levels,
        min_window_rows=min_rows,
        baseline=profile,
    )
