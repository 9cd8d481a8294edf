"""compute_drift: the baseline profile applied to every window of the current data, in one pass.

The counts behind the binned statistics (PSI, JS, chi-squared, TV, L-inf) and the moments are
exact at any input size: categories are counted by polars group-bys over (window, category);
numeric columns by one compiled pass per column in memory (``counts_kernels.py``), or by polars'
streaming engine for a LazyFrame. KS and Wasserstein need each window's values sorted: the frame
is ordered by window once and each window's slice is sorted in place, then compared against the
baseline's sorted values (see ``ecdf.py``). A LazyFrame's numeric columns are read for them one
at a time, so memory holds one column; above ``max_exact_rows`` rows those two are skipped, with
a note in the report.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.assemble import Block, assemble
from mlobs_notebook.drift.counts import count_frame
from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, WindowedPairs, sorted_quantiles
from mlobs_notebook.drift.engines import DriftProgress, choose_engine, missing_time_column
from mlobs_notebook.drift.engines.blocks import column_blocks
from mlobs_notebook.drift.engines.columns import NumericColumns
from mlobs_notebook.drift.engines.learned import baseline_windows, learned_note
from mlobs_notebook.drift.kinds import as_polars
from mlobs_notebook.drift.profile import QUANTILES, BaselineProfile
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.schema import SchemaFinding, compare_schemas
from mlobs_notebook.drift.statistics import Statistic, resolve
from mlobs_notebook.drift.thresholds import LEARNED, Threshold, fixed, learn, resolve_thresholds
from mlobs_notebook.drift.windows import WINDOW, assign_windows, window_notes
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity, TimeColumn, read_time_column

__all__ = ["DEFAULT_MAX_EXACT_ROWS", "DEFAULT_MIN_CATEGORY_COUNT", "DEFAULT_MIN_WINDOW_ROWS", "compute_drift"]

# Categories rarer than this (scaled to the smaller sample) are pooled for PSI and JS; with E
# expected rows per category PSI reads about 1/E on identical distributions, so 20 keeps the
# noise near 0.05, under the 0.1 warn level. See binned.pool_rare.
DEFAULT_MIN_CATEGORY_COUNT = 20
# Above this many rows a LazyFrame's KS and Wasserstein are skipped. They hold one numeric
# column of the current data in memory at a time, about 20 to 40 bytes a row.
DEFAULT_MAX_EXACT_ROWS = 100_000_000
# A statistic judges a window only when both samples hold at least this many values: the
# smallest table the chi-squared approximation trusts is two cells of 5 expected rows each
# (Cochran's rule), e.g. seen vs unseen, null vs not. Smaller windows read too_small.
DEFAULT_MIN_WINDOW_ROWS = 10


def compute_drift(
    baseline: Any,
    current: Any,
    *,
    time_column: str | None = None,
    granularity: str | Granularity | None = None,
    time_format: str | None = None,
    time_zone: str | None = None,
    columns: Sequence[str] | None = None,
    statistics: Sequence[str] | None = None,
    thresholds: Mapping[str, Any] | str | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 10,
    consecutive: bool = True,
    min_category_count: float = DEFAULT_MIN_CATEGORY_COUNT,
    min_window_rows: int = DEFAULT_MIN_WINDOW_ROWS,
    max_exact_rows: int | None = DEFAULT_MAX_EXACT_ROWS,
    engine: str | None = None,
    spark: Any = None,
    progress: DriftProgress | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``baseline`` (a frame or a fitted :class:`BaselineProfile`).

    With ``time_column`` and ``granularity`` (``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``: see
    :class:`~mlobs_notebook.times.Granularity`) every window is compared with the baseline
    (``BASELINE`` rows) and, with ``consecutive=True``, with the window before it
    (``CONSECUTIVE`` rows). Windows are labelled in the time column's zone; text times are read
    as ISO 8601 or with ``time_format`` (see :func:`mlobs_notebook.times.read_time_column`),
    and ``time_zone`` windows them in another zone. ``kinds`` and ``bins`` apply when the baseline is a
    frame (a fitted profile carries its own).

    ``thresholds``: see ``thresholds.py``. ``"learned"`` learns them NannyML's way from the
    baseline split into windows of the same granularity, so the baseline must be a frame with
    the time column (:class:`InputError` says so otherwise). A statistic judges a window only
    when both samples hold at least ``min_window_rows`` values (default 10); a smaller window's
    status is ``too_small``, and an empty one's ``empty``, each with a note.

    ``engine``: ``"polars"`` (this module: in memory, or out of core for a LazyFrame) or
    ``"spark"`` (``spark.py``: Spark DataFrames; ``spark`` is the SparkSession for frames that
    are not Spark's). By default Spark DataFrames go to Spark and anything else to polars.
    ``max_exact_rows`` bounds what the exact KS and Wasserstein may hold: with polars, the rows
    of a current LazyFrame (above it they are skipped, with a note); with Spark, the rows one
    column's distributed sort shuffles (above it they come from quantile sketches, with their
    error bound in a note). ``progress(columns_done, columns_total, windows)`` is called once
    the windows are counted and after each column.
    """
    if not isinstance(min_window_rows, int) or min_window_rows < 1:
        raise InputError(f"min_window_rows must be a positive integer, not {min_window_rows!r}")
    if choose_engine(engine, baseline, current) == "spark":
        from mlobs_notebook.drift.engines.spark import compute_drift_spark

        return compute_drift_spark(
            baseline, current, time_column=time_column, granularity=granularity, time_format=time_format,
            time_zone=time_zone, columns=columns, statistics=statistics, thresholds=thresholds, kinds=kinds,
            bins=bins, consecutive=consecutive, min_category_count=min_category_count,
            min_window_rows=min_window_rows, max_exact_rows=max_exact_rows, spark=spark, progress=progress,
        )
    chosen = resolve(statistics)
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    requested = list(dict.fromkeys(columns)) if columns is not None else None  # a name given twice is one column
    data = as_polars(current, "current data")
    schema = data.collect_schema()
    if time_column is not None and time_column not in schema:
        raise missing_time_column(time_column, list(schema))
    step = Granularity.parse(granularity) if granularity is not None else None
    time = (
        read_time_column(data, time_column, time_format=time_format, time_zone=time_zone)
        if time_column is not None else None
    )
    profile, baseline_names = _profile(baseline, requested, kinds, bins, time_column, schema)
    if profile.n_rows_ == 0:
        raise InputError("the baseline has no rows: there is nothing to compare the current data with; "
                         "check the baseline given (the training data, --baseline)")
    compared, findings = compare_schemas(profile, schema, requested, baseline_names, time_column)
    wanted = resolve_thresholds(thresholds, {c: profile.kinds_[c] for c in compared}, chosen)
    options: dict[str, Any] = {"consecutive": consecutive, "min_category_count": min_category_count,
                               "min_window_rows": min_window_rows, "max_exact_rows": max_exact_rows}  # fmt: skip
    if any(level == LEARNED for by in wanted.values() for level in by.values()):
        windows_of_baseline = baseline_windows(baseline, time_column, step, time_format, time_zone)
        learned_from = _compare(profile, windows_of_baseline, compared, time_column, step, time_format,
                                time_zone, chosen, fixed({}), [], **options)  # fmt: skip
        levels = learn(wanted, learned_from.table)
        note = learned_note(learned_from)
    else:
        levels, note = fixed(wanted), None
    report = _compare(profile, data, compared, time_column, step, time_format, time_zone, chosen, levels,
                      findings, time=time, progress=progress, **options)  # fmt: skip
    return replace(report, notes=(*report.notes, note)) if note else report


def _compare(
    profile: BaselineProfile,
    data: pl.DataFrame | pl.LazyFrame,
    compared: list[str],
    time_column: str | None,
    step: Granularity | None,
    time_format: str | None,
    time_zone: str | None,
    chosen: list[Statistic],
    levels: dict[str, dict[str, dict[str, Threshold]]],
    findings: list[SchemaFinding],
    *,
    consecutive: bool,
    min_category_count: float,
    min_window_rows: int,
    max_exact_rows: int | None,
    time: TimeColumn | None = None,
    progress: DriftProgress | None = None,
) -> DriftReport:
    """The drift report of ``data`` against the fitted profile, judged by ``levels``."""
    lazy_input = isinstance(data, pl.LazyFrame)
    schema = data.collect_schema()
    if time is None and time_column is not None:
        time = read_time_column(data, time_column, time_format=time_format, time_zone=time_zone)
    frame = data.lazy().select([*compared, *([time_column] if time_column else [])])
    framed, windows = assign_windows(frame, time, step, streaming=lazy_input)
    if not lazy_input and windows.count > 1:
        # A group-by on a key polars knows is sorted takes contiguous slices instead of hashing:
        # the per-window moments cost a third. Time-ordered data is sorted by window already.
        in_memory = framed.collect()
        if not in_memory[WINDOW].is_sorted():
            in_memory = in_memory.sort(WINDOW, maintain_order=True)
        framed = in_memory.with_columns(pl.col(WINDOW).set_sorted()).lazy()
    numeric = [c for c in compared if profile.kinds_[c] == "numeric"]
    categorical = [c for c in compared if profile.kinds_[c] == "categorical"]
    sorted_stats = [s for s in chosen if s.input == "sorted"]
    # In memory, the numeric columns are counted by a compiled pass per column (below, beside
    # the sorts); a LazyFrame is counted by polars' streaming engine.
    counts = count_frame(
        framed,
        windows.count,
        {c: profile.edges_[c] for c in numeric} if lazy_input else {},
        categorical,
        streaming=lazy_input,
        like=profile.dtypes_,
    )
    notes = window_notes(windows, counts.rows, time_column, min_window_rows)
    total = int(counts.rows.sum())
    if sorted_stats and numeric and lazy_input and max_exact_rows is not None and total > max_exact_rows:
        names = ", ".join(s.name for s in sorted_stats)
        notes.append(
            f"{names} skipped: the current LazyFrame has {total:,} rows, more than "
            f"max_exact_rows={max_exact_rows:,}; they need a column's every value sorted in memory. "
            "The binned statistics are exact."
        )
        sorted_stats = []
    # In memory every numeric column is at hand; a LazyFrame's are read one at a time when the
    # sorted statistics need them (one column's values in memory, whatever the width).
    held = NumericColumns(framed, numeric, windows.count, streaming=False) if numeric and not lazy_input else None
    done_columns = _Done(progress, len(compared), windows.count)

    def one_column(c: str) -> tuple[list[Block], np.ndarray | None]:
        kind = profile.kinds_[c]
        stats = [s for s in chosen if kind in s.kinds and (s.input == "counts" or s in sorted_stats)]
        windowed = following = quantiles = None
        if kind == "numeric" and (held is not None or sorted_stats):
            columns = held or NumericColumns(framed, [c], windows.count, streaming=True)
            values = columns.values(c)
            if not lazy_input:
                counts.numeric[c], counts.moments[c] = columns.counts(c, values, profile.edges_[c])
            if sorted_stats:
                values, bounds = columns.segments(values)
                quantiles = np.array(
                    [sorted_quantiles(values[start:end], QUANTILES) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
                ).reshape(-1, len(QUANTILES))
                reference = profile.reference(c)
                if windows.count == 1:  # one window: a single merge of the two samples
                    windowed = SortedPair(reference, values)
                else:
                    windowed = WindowedPairs(reference, values, bounds)
                    following = ConsecutivePairs(values, bounds) if consecutive else None
        blocks = column_blocks(c, profile, counts, windowed, following, stats, consecutive, min_category_count)
        done_columns.one()
        return blocks, quantiles

    # numpy's sorts and the compiled loops release the GIL: columns run side by side on every
    # core; a LazyFrame's columns one after another, so one is in memory at a time.
    one_at_a_time = lazy_input and bool(sorted_stats)
    workers = 1 if one_at_a_time else max(1, min(len(compared), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(one_column, compared))
    blocks = [block for of_column, _ in done for block in of_column]
    quantiles = {c: table for c, (_, table) in zip(compared, done, strict=True) if table is not None}
    return assemble(
        blocks,
        windows=windows,
        profile=profile,
        counts=counts,
        quantiles=quantiles,
        dtypes={c: str(schema[c]) for c in compared},
        levels=levels,
        min_rows=min_window_rows,
        findings=tuple(findings),
        notes=tuple(notes),
        statistics=tuple(s.name for s in chosen),
    )


def _profile(
    baseline: Any,
    requested: list[str] | None,
    kinds: Mapping[str, str] | None,
    bins: int,
    time_column: str | None,
    current: pl.Schema,
) -> tuple[BaselineProfile, list[str]]:
    if isinstance(baseline, BaselineProfile):
        if not hasattr(baseline, "columns_"):
            raise InputError("the BaselineProfile is not fitted; build it with fit_baseline(frame)")
        return baseline, [*baseline.columns_, *baseline.skipped_]
    frame = as_polars(baseline, "baseline")
    schema = frame.collect_schema()
    names = [c for c in schema.names() if c != time_column]
    wanted = [c for c in requested if c in names] if requested is not None else names
    # a column with no value in the baseline takes its kind from the current data's floats
    empty = {
        c: "numeric" for c in wanted
        if schema[c] == pl.Null and c in current and current[c].is_float() and c not in (kinds or {})
    }
    return BaselineProfile(columns=wanted, kinds={**empty, **(kinds or {})}, bins=bins).fit(frame), names


class _Done:
    """Counts the columns done for ``progress`` (columns finish on several threads)."""

    def __init__(self, progress: DriftProgress | None, total: int, windows: int) -> None:
        self.progress, self.total, self.windows, self.count = progress, total, windows, 0
        self.lock = threading.Lock()
        if progress is not None:
            progress(0, total, windows)

    def one(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.count += 1
            self.progress(self.count, self.total, self.windows)
