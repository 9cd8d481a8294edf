"""The Spark engine: ``compute_drift(..., engine="spark")`` on Spark DataFrames.

Everything that grows with the data runs in Spark; the driver receives aggregates only.

- Windows: the time column read by the rules of ``times`` (``spark_time.py``), windows labelled
  by ``windows.py`` from the earliest and latest instants.
- Binned statistics, counts, null rates and means: per-window group-by aggregations
  (``spark_counts.py``). Their counts equal the polars engine's exactly, and the statistics are
  computed from them by the same code (``blocks.py``), so they are the same to the last bit.
- The baseline: a Spark DataFrame is profiled in Spark, with exact quantile edges
  (``spark_profile.py``), or, when small, read into polars and profiled there (one job); a
  polars or pandas frame, or a fitted profile, is profiled by polars.
- KS and Wasserstein: exact by a distributed sort while one column moves at most
  ``max_exact_rows`` rows, else from quantile sketches with the error bound in the report's
  notes (``spark_sorted.py``). Per-window quantiles in the report's profile are not computed.

Settings held for the computation: ``spark.sql.codegen.maxFields`` is raised so that Spark
compiles the wide aggregations (above its default of 100 fields it silently interprets them,
4-5x slower); it is put back afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.assemble import Block, assemble
from mlobs_notebook.drift.counts import Counts
from mlobs_notebook.drift.engines import DriftProgress, is_spark_frame, missing_time_column
from mlobs_notebook.drift.engines.blocks import column_blocks
from mlobs_notebook.drift.engines.spark_counts import count_spark, finite_value, numeric_batches
from mlobs_notebook.drift.engines.spark_profile import fit_spark_profile
from mlobs_notebook.drift.engines.spark_sorted import (
    SKETCH_ACCURACY,
    SKETCH_QUANTILES,
    baseline_grid,
    exact_rows,
    exact_statistics,
    pairs,
    sketch_statistics,
    window_grids,
)
from mlobs_notebook.drift.engines.spark_support import (
    as_spark,
    column,
    polars_schema,
    require_pyspark,
    session_for,
    session_settings,
    spark_errors,
)
from mlobs_notebook.drift.engines.spark_time import read_spark_time, spark_windows
from mlobs_notebook.drift.kinds import as_polars
from mlobs_notebook.drift.profile import BaselineProfile
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.schema import compare_schemas
from mlobs_notebook.drift.statistics import resolve
from mlobs_notebook.drift.thresholds import LEARNED, fixed, resolve_thresholds
from mlobs_notebook.drift.windows import window_notes
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity

__all__ = ["compute_drift_spark"]

_SETTINGS = {"spark.sql.codegen.maxFields": "10000"}
# A Spark baseline of at most this many values (rows x columns) is read into polars and fitted
# there in one job; a larger one is profiled in Spark (spark_profile.py). Both fit alike.
SMALL_BASELINE_VALUES = 5_000_000


def compute_drift_spark(
    baseline: Any,
    current: Any,
    *,
    time_column: str | None,
    granularity: str | Granularity | None,
    time_format: str | None,
    time_zone: str | None,
    columns: Sequence[str] | None,
    statistics: Sequence[str] | None,
    thresholds: Mapping[str, Any] | str | None,
    kinds: Mapping[str, str] | None,
    bins: int,
    consecutive: bool,
    min_category_count: float,
    min_window_rows: int,
    max_exact_rows: int | None,
    spark: Any,
    progress: DriftProgress | None,
) -> DriftReport:
    """``compute_drift`` on Spark; the arguments and the report are ``compute_drift``'s."""
    require_pyspark()
    chosen = resolve(statistics)
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    requested = list(columns) if columns is not None else None
    session = session_for(spark, current, baseline)
    data = as_spark(current, session, "current data")
    schema = polars_schema(data)
    if time_column is not None and time_column not in schema:
        raise missing_time_column(time_column, list(schema))
    step = Granularity.parse(granularity) if granularity is not None else None
    with session_settings(session, _SETTINGS):
        time = (
            read_spark_time(data, time_column, time_format=time_format, time_zone=time_zone)
            if time_column is not None else None
        )
        profile, baseline_names = _profile(baseline, requested, kinds, bins, time_column)
        compared, findings = compare_schemas(profile, schema, requested, baseline_names, time_column)
        wanted = resolve_thresholds(thresholds, {c: profile.kinds_[c] for c in compared}, chosen)
        if any(level == LEARNED for by in wanted.values() for level in by.values()):
            raise InputError("learned thresholds are learned on the baseline's own windows by the polars engine; "
                             "with engine='spark' give the thresholds (or use engine='polars')")
        selected = data.select(*[column(c) for c in [*compared, *([time_column] if time_column else [])]])
        framed, windows = spark_windows(selected, time, step)
        numeric = [c for c in compared if profile.kinds_[c] == "numeric"]
        categorical = [c for c in compared if profile.kinds_[c] == "categorical"]
        counts = count_spark(framed, windows.count, {c: profile.edges_[c] for c in numeric}, categorical)
        notes = window_notes(windows, counts.rows, time_column, min_window_rows)
        if progress is not None:
            progress(0, len(compared), windows.count)
        sorted_stats = [s for s in chosen if s.input == "sorted"]
        compared_pairs: dict[str, tuple[Any, Any]] = {}
        sketched: list[_Sketched] = []
        done = 0
        for batch in numeric_batches(numeric) if sorted_stats else iter(()):
            found, sketches = _sorted(profile, framed, batch, counts, windows.count, consecutive, max_exact_rows)
            compared_pairs |= found
            sketched += sketches
            done += len(batch)
            if progress is not None:
                progress(done, len(compared), windows.count)
        if sketched:
            notes.append(_sketch_note(sketched, max_exact_rows))
    levels = fixed(wanted)
    blocks: list[Block] = []
    for c in compared:
        kind = profile.kinds_[c]
        stats = [s for s in chosen if kind in s.kinds and (s.input == "counts" or (s in sorted_stats and c in compared_pairs))]
        windowed, following = compared_pairs.get(c, (None, None))
        blocks += column_blocks(c, profile, counts, windowed, following, stats, consecutive, min_category_count)
    if progress is not None:
        progress(len(compared), len(compared), windows.count)
    return assemble(
        blocks, windows=windows, profile=profile, counts=counts, quantiles={},
        dtypes={c: str(schema[c]) for c in compared}, levels=levels, min_rows=min_window_rows,
        findings=tuple(findings), notes=tuple(notes), statistics=tuple(s.name for s in chosen),
    )


def _profile(
    baseline: Any, requested: list[str] | None, kinds: Mapping[str, str] | None, bins: int, time_column: str | None,
) -> tuple[BaselineProfile, list[str]]:
    if isinstance(baseline, BaselineProfile):
        if not hasattr(baseline, "columns_"):
            raise InputError("the BaselineProfile is not fitted; build it with fit_baseline(frame)")
        return baseline, [*baseline.columns_, *baseline.skipped_]
    if is_spark_frame(baseline):
        names = [c for c in baseline.columns if c != time_column]
        wanted = [c for c in requested if c in names] if requested is not None else names
        with spark_errors("counting the baseline"):
            small = baseline.limit(SMALL_BASELINE_VALUES // max(len(wanted), 1) + 1).count() * len(wanted) <= SMALL_BASELINE_VALUES
        if not small:
            return fit_spark_profile(baseline, requested, kinds, bins, time_column)
        # a small baseline comes to the driver in one job and is fitted by polars, the same code
        with spark_errors("reading the baseline"):
            values = pl.DataFrame(pl.from_arrow(baseline.select(*[column(c) for c in wanted]).toArrow()))
        profile = BaselineProfile(columns=wanted, kinds=kinds, bins=bins).fit(values)
        profile.spark_source_ = baseline  # the exact comparisons read it in Spark
        return profile, names
    frame = as_polars(baseline, "baseline")
    names = [c for c in frame.collect_schema().names() if c != time_column]
    wanted = [c for c in requested if c in names] if requested is not None else names
    return BaselineProfile(columns=wanted, kinds=kinds, bins=bins).fit(frame), names


def _baseline_values(profile: BaselineProfile, column_name: str) -> np.ndarray | None:
    """The baseline's sorted finite values, when not in Spark (None when they are)."""
    if profile.spark_source_ is not None:
        return None
    return profile.reference(column_name).values


@dataclass(frozen=True)
class _Sketched:
    """A column whose KS and Wasserstein come from sketches: why, and their bounds."""

    column: str
    moved: int
    ks_bound: float
    distance_bound: float


def _sorted(
    profile: BaselineProfile, framed: Any, batch: list[str], counts: Counts, windows: int, consecutive: bool,
    max_exact_rows: int | None,
) -> tuple[dict[str, tuple[Any, Any]], list[_Sketched]]:
    """KS and Wasserstein of a batch of numeric columns: exact where the sort is small enough."""
    from pyspark.sql import functions as F
    rows = int(counts.rows.sum())
    missing = [c for c in batch if c not in profile.distinct_]
    if missing and max_exact_rows is not None and profile.spark_source_ is not None:  # HyperLogLog estimates
        with spark_errors("counting the baseline's distinct values"):
            found = profile.spark_source_.agg(*[F.approx_count_distinct(finite_value(c)).alias(c) for c in missing]).collect()[0]
        profile.distinct_ |= {c: int(found[c]) for c in missing}
    moved = {c: exact_rows(windows, profile.distinct_.get(c, profile.n_rows_), rows) for c in batch}
    exact = [c for c in batch if max_exact_rows is None or moved[c] <= max_exact_rows]
    results: dict[str, tuple[Any, Any]] = {}
    if exact:
        source = profile.spark_source_ if profile.spark_source_ is not None else _upload(profile, exact, framed.sparkSession)
        for c, (ks, distance, n0, n1, ks_next, distance_next, earlier, later) in exact_statistics(
            framed, source, exact, windows, consecutive
        ).items():
            base = pairs(ks, distance, n0, n1, _ddof0(profile.counts_.moments[c]["std"][0], n0))
            following = None
            if consecutive and windows > 1:
                following = pairs(ks_next, distance_next, earlier, later, _ddof0(counts.moments[c]["std"][:-1], earlier))
            results[c] = (base, following)
    sketched = [c for c in batch if c not in exact]
    bounds: list[tuple[float, float]] = []
    if sketched:
        found, bounds = _sketched(profile, framed, sketched, counts, windows, consecutive)
        results |= found
    return results, [_Sketched(c, moved[c], ks, distance) for c, (ks, distance) in zip(sketched, bounds, strict=True)]


def _upload(profile: BaselineProfile, names: list[str], session: Any) -> Any:
    """The baseline's finite values of ``names`` as a Spark frame (one column each, padded with
    nulls), from the sorted values the profile holds or reads again."""
    import pyarrow as pa

    values = {c: profile.reference(c).values for c in names}
    length = max((len(v) for v in values.values()), default=0)
    table = pa.table({
        c: pa.array(np.concatenate([v, np.full(length - len(v), np.nan)]), mask=np.arange(length) >= len(v))
        for c, v in values.items()
    })
    return session.createDataFrame(table)


def _ddof0(std: Any, n: Any) -> np.ndarray:
    """Standard deviation with ddof 0 from ddof 1 and the count (what ``ecdf`` normalises by)."""
    std, n = np.asarray(std, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, std * np.sqrt((n - 1) / np.where(n > 0, n, 1)), np.where(n == 1, 0.0, np.nan))


def _sketched(
    profile: BaselineProfile, framed: Any, names: list[str], counts: Counts, windows: int, consecutive: bool
) -> tuple[dict[str, tuple[Any, Any]], list[tuple[float, float]]]:
    """Sketched KS and Wasserstein of ``names``, and each column's largest (KS, Wasserstein) bound."""
    grids = window_grids(framed, names, windows)
    results: dict[str, tuple[Any, Any]] = {}
    bounds = []
    for c in names:
        grid, sizes = grids[c]
        moments, base_moments = counts.moments[c], profile.counts_.moments[c]
        grid[:, 0], grid[:, -1] = moments["min"], moments["max"]  # exact ends
        reference, n, base_sketched = baseline_grid(profile.spark_source_, c, _baseline_values(profile, c))
        reference[0], reference[-1] = base_moments["min"][0], base_moments["max"][0]
        found = [sketch_statistics(reference, grid[w], n, sizes[w], (base_sketched, True)) for w in range(windows)]
        if consecutive and windows > 1:
            found += [sketch_statistics(grid[w - 1], grid[w], sizes[w - 1], sizes[w], (True, True)) for w in range(1, windows)]
        ks, distance, ks_bound, distance_bound = (np.array(v, dtype=np.float64).reshape(-1) for v in zip(*found, strict=True))
        base = pairs(ks[:windows], distance[:windows], np.full(windows, n), sizes, _ddof0(base_moments["std"][0], n))
        following = None
        if consecutive and windows > 1:
            following = pairs(ks[windows:], distance[windows:], sizes[:-1], sizes[1:], _ddof0(moments["std"][:-1], sizes[:-1]))
        results[c] = (base, following)
        bounds.append((float(np.nanmax(ks_bound, initial=0.0)), float(np.nanmax(distance_bound, initial=0.0))))
    return results, bounds


def _sketch_note(sketched: list[_Sketched], max_exact_rows: int | None) -> str:
    """One note for every sketched column: which, why, and the error bounds."""
    names = ", ".join(s.column for s in sketched)
    distances = "; ".join(f"{s.column} within {s.distance_bound:.4g}" for s in sketched)
    return (
        f"ks_statistic, ks_pvalue and the Wasserstein distances of {names} come from quantile sketches: "
        f"their exact sort would move up to {max(s.moved for s in sketched):,} rows per column, over "
        f"max_exact_rows={max_exact_rows:,}. Spark's percentile_approx at {SKETCH_QUANTILES + 1:,} levels "
        f"per window, accuracy {SKETCH_ACCURACY:,} (rank error at most {1 / SKETCH_ACCURACY:g} of the rows). "
        f"Error bounds: ks_statistic within {max(s.ks_bound for s in sketched):.4f} of the exact value; "
        f"wasserstein_distance (in the feature's units): {distances}. Raise max_exact_rows for exact values."
    )
