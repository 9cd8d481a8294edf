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
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.assemble import Block, assemble
from mlobs_notebook.drift.binned import pool_rare
from mlobs_notebook.drift.counts import count_frame
from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, WindowedPairs, sorted_quantiles
from mlobs_notebook.drift.kinds import as_polars
from mlobs_notebook.drift.profile import QUANTILES, BaselineProfile
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.schema import compare_schemas
from mlobs_notebook.drift.statistics import Statistic, resolve
from mlobs_notebook.drift.thresholds import resolve_thresholds
from mlobs_notebook.drift.windows import WINDOW, assign_windows
from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.times import Granularity, read_time_column

__all__ = ["DEFAULT_MIN_CATEGORY_COUNT", "DEFAULT_MAX_EXACT_ROWS", "compute_drift"]

# Categories rarer than this (scaled to the smaller sample) are pooled for PSI and JS; with E
# expected rows per category PSI reads about 1/E on identical distributions, so 20 keeps the
# noise near 0.05, under the 0.1 warn level. See binned.pool_rare.
DEFAULT_MIN_CATEGORY_COUNT = 20
# Above this many rows a LazyFrame's KS and Wasserstein are skipped. They hold one numeric
# column of the current data in memory at a time, about 20 to 40 bytes a row.
DEFAULT_MAX_EXACT_ROWS = 100_000_000


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
    thresholds: Mapping[str, Any] | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = 10,
    consecutive: bool = True,
    min_category_count: float = DEFAULT_MIN_CATEGORY_COUNT,
    max_exact_rows: int | None = DEFAULT_MAX_EXACT_ROWS,
) -> DriftReport:
    """Drift of ``current`` against ``baseline`` (a frame or a fitted :class:`BaselineProfile`).

    With ``time_column`` and ``granularity`` (``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``: see
    :class:`~mlobs_notebook.times.Granularity`) every window is compared with the baseline
    (``BASELINE`` rows) and, with ``consecutive=True``, with the window before it
    (``CONSECUTIVE`` rows). Windows are labelled in the time column's zone; text times are read
    as ISO 8601 or with ``time_format`` (see :func:`mlobs_notebook.times.read_time_column`),
    and ``time_zone`` windows them in another zone. ``kinds`` and ``bins`` apply when the baseline is a
    frame (a fitted profile carries its own). See ``thresholds.py`` for ``thresholds``.
    """
    chosen = resolve(statistics)
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    requested = list(columns) if columns is not None else None
    data = as_polars(current, "current data")
    lazy_input = isinstance(data, pl.LazyFrame)
    schema = data.collect_schema()
    if time_column is not None and time_column not in schema:
        raise UnknownColumn(
            f"time column {time_column!r} is not in the current data. Columns: {', '.join(schema)}"
        )
    step = Granularity.parse(granularity) if granularity is not None else None
    time = (
        read_time_column(data, time_column, time_format=time_format, time_zone=time_zone)
        if time_column is not None else None
    )
    profile, baseline_names = _profile(baseline, requested, kinds, bins, time_column)
    compared, findings = compare_schemas(profile, schema, requested, baseline_names, time_column)
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
    )
    notes = []
    if windows.note:
        notes.append(windows.note)
    if windows.null_time_rows:
        notes.append(f"{windows.null_time_rows} row(s) with a null {time_column!r} were left out")
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
    held = _NumericColumns(framed, numeric, windows.count, streaming=False) if numeric and not lazy_input else None
    levels = resolve_thresholds(thresholds, compared)

    def one_column(c: str) -> tuple[list[Block], np.ndarray | None]:
        kind = profile.kinds_[c]
        stats = [s for s in chosen if kind in s.kinds and (s.input == "counts" or s in sorted_stats)]
        windowed = following = quantiles = None
        if kind == "numeric" and (held is not None or sorted_stats):
            columns = held or _NumericColumns(framed, [c], windows.count, streaming=True)
            values = columns.values(c)
            if not lazy_input:
                counts.numeric[c], counts.moments[c] = columns.counts(c, values, profile.edges_[c])
            if sorted_stats:
                values, bounds = columns.segments(values)
                quantiles = np.array(
                    [sorted_quantiles(values[start:end], QUANTILES) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]
                ).reshape(-1, len(QUANTILES))
                reference = profile.references_[c]
                if windows.count == 1:  # one window: a single merge of the two samples
                    windowed = SortedPair(reference, values)
                else:
                    windowed = WindowedPairs(reference, values, bounds)
                    following = ConsecutivePairs(values, bounds) if consecutive else None
        blocks = _column_blocks(c, profile, counts, windowed, following, stats, consecutive, min_category_count)
        return blocks, quantiles

    # numpy's sorts and the compiled loops release the GIL: columns run side by side on every
    # core; a LazyFrame's columns one after another, so one is in memory at a time.
    one_at_a_time = lazy_input and bool(sorted_stats)
    workers = 1 if one_at_a_time else max(1, min(len(compared), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(one_column, compared))
    blocks = [block for column_blocks, _ in done for block in column_blocks]
    quantiles = {c: table for c, (_, table) in zip(compared, done, strict=True) if table is not None}
    return assemble(
        blocks,
        windows=windows,
        profile=profile,
        counts=counts,
        quantiles=quantiles,
        dtypes={c: str(schema[c]) for c in compared},
        levels=levels,
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
) -> tuple[BaselineProfile, list[str]]:
    if isinstance(baseline, BaselineProfile):
        if not hasattr(baseline, "columns_"):
            raise InputError("the BaselineProfile is not fitted; build it with fit_baseline(frame)")
        return baseline, [*baseline.columns_, *baseline.skipped_]
    frame = as_polars(baseline, "baseline")
    names = [c for c in frame.collect_schema().names() if c != time_column]
    wanted = [c for c in requested if c in names] if requested is not None else names
    return BaselineProfile(columns=wanted, kinds=kinds, bins=bins).fit(frame), names


class _NumericColumns:
    """The numeric columns of the windowed frame, in memory and in window order.

    The frame is ordered by window once (shared by every column), so window i is the slice
    ``bounds[i]:bounds[i + 1]`` of every column.
    """

    def __init__(self, framed: pl.LazyFrame, numeric: list[str], windows: int, streaming: bool) -> None:
        self.data = framed.select(WINDOW, *numeric).collect(engine="streaming" if streaming else "auto")
        self.windows = windows
        window = self.data[WINDOW].to_numpy()
        # in-memory windowed frames arrive sorted by window (see compute_drift): no reordering
        unsorted = windows > 1 and bool(np.any(window[1:] < window[:-1]))
        self.order = np.argsort(window, kind="stable") if unsorted else None
        self.window = window[self.order] if self.order is not None else window
        self.bounds = np.searchsorted(self.window, np.arange(windows + 1)).astype(np.int64)

    def values(self, column: str) -> np.ndarray:
        """The column as float64 in window order (null as NaN), a copy the caller may sort."""
        values = self.data[column].cast(pl.Float64).to_numpy()
        # a copy either way: polars may lend its own (read-only) memory
        return values[self.order] if self.order is not None else np.array(values)

    def counts(self, column: str, values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(bin counts (W, bins + 1), moments) of the column, as ``counts.count_frame`` gives."""
        from mlobs_notebook.drift.counts_kernels import window_counts

        bins, missing, non_finite, mean, std, low, high = window_counts(values, self.bounds, edges)
        series = self.data[column]
        if series.null_count():  # nulls read as NaN: missing, but not non-finite
            null = series.is_null().to_numpy()
            if self.order is not None:
                null = null[self.order]
            non_finite = non_finite - np.bincount(self.window[null], minlength=self.windows)
        moments = {"missing": missing, "non_finite": non_finite, "mean": mean, "std": std, "min": low, "max": high}
        return bins, {k: v.astype(np.float64) for k, v in moments.items()}

    def segments(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, bounds): every window's finite values, sorted within the window and laid end
        to end (window i in ``values[bounds[i]:bounds[i + 1]]``).

        Each window's slice of ``values`` is sorted in place (numpy's vectorised sort, ~10 ms
        for 1M values in all); -inf, +inf and NaN (null) are dropped.
        """
        for start, end in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            values[start:end].sort()
        keep = np.isfinite(values)
        if keep.all():
            return values, self.bounds
        bounds = np.zeros(self.windows + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.window[keep], minlength=self.windows), out=bounds[1:])
        return values[keep], bounds


def _category_matrices(
    column: str, profile: BaselineProfile, counts: Any
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Baseline and current counts over one vocabulary: baseline categories by frequency, then
    categories new in the current data by frequency, then null."""
    base = profile.counts_.categorical[column]
    cur = counts.categorical[column]
    known = profile.categories_[column]
    totals = cur.matrix.sum(axis=0)
    new = sorted((v for v in cur.values if v not in set(known)), key=lambda v: (-totals[cur.values.index(v)], v))
    vocabulary = [*known, *new]
    position = {v: i for i, v in enumerate(vocabulary)}
    reference = np.zeros((1, len(vocabulary) + 1), dtype=np.int64)
    reference[0, [position[v] for v in base.values]] = base.matrix[0]
    reference[0, -1] = base.nulls[0]
    current = np.zeros((counts.windows, len(vocabulary) + 1), dtype=np.int64)
    if cur.values:
        current[:, [position[v] for v in cur.values]] = cur.matrix
    current[:, -1] = cur.nulls
    return vocabulary, reference, current


def _apply(
    stats: list[Statistic], reference: np.ndarray, current: np.ndarray, categorical: bool, min_count: float
) -> dict[str, np.ndarray]:
    values: dict[str, np.ndarray] = {}
    cache: dict[tuple[Any, bool], Any] = {}
    for s in stats:
        if s.input != "counts":
            continue
        pooled = categorical and s.pools_rare_categories
        key = (s.compute, pooled)
        if key not in cache:
            ref, cur = pool_rare(reference, current, min_count) if pooled else (reference, current)
            cache[key] = s.compute(ref, cur)
        result = cache[key]
        values[s.name] = np.asarray(result if s.output is None else result[s.output], dtype=np.float64)
    return values


def _apply_sorted(stats: list[Statistic], pairs: SortedPair | WindowedPairs | ConsecutivePairs) -> dict[str, np.ndarray]:
    """Sorted statistics of every window: one call over all windows (each statistic shares the
    pairs' single compiled pass)."""
    values: dict[str, np.ndarray] = {}
    for s in stats:
        if s.input == "sorted":
            result = s.compute(pairs)
            values[s.name] = np.atleast_1d(np.asarray(result if s.output is None else result[s.output], dtype=np.float64))
    return values


def _column_blocks(
    column: str,
    profile: BaselineProfile,
    counts: Any,
    windowed: SortedPair | WindowedPairs | None,
    following: ConsecutivePairs | None,
    stats: list[Statistic],
    consecutive: bool,
    min_count: float,
) -> list[Block]:
    categorical = profile.kinds_[column] == "categorical"
    if categorical:
        labels, reference, current = _category_matrices(column, profile, counts)
    else:
        labels = None
        reference = profile.counts_.numeric[column]
        current = counts.numeric[column]
    blocks = [
        Block(
            column=column,
            drift_type="BASELINE",
            windows=np.arange(counts.windows),
            reference=np.broadcast_to(reference, current.shape),
            current=current,
            values={
                **_apply(stats, reference, current, categorical, min_count),
                **(
                    _apply_sorted(stats, windowed)
                    if windowed is not None
                    else {}
                ),
            },
            labels=labels,
        )
    ]
    if consecutive and counts.windows > 1:
        previous, later = current[:-1], current[1:]
        values = _apply(stats, previous, later, categorical, min_count)
        if following is not None:
            values.update(_apply_sorted(stats, following))
        blocks.append(
            Block(column, "CONSECUTIVE", np.arange(1, counts.windows), previous, later, values, labels)
        )
    return blocks
