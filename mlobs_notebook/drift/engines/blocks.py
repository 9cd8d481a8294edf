"""From counts and sorted comparisons to the report's blocks: the part every engine shares.

An engine produces the per-window counts (:class:`~mlobs_notebook.drift.counts.Counts`) and, for
the sorted statistics, one comparison per column (a :class:`~mlobs_notebook.drift.ecdf.SortedPair`
family object); the statistics and the blocks are computed here the same way whatever the
engine, so two engines that count alike give the same numbers to the last bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlobs_notebook.drift.assemble import Block
from mlobs_notebook.drift.binned import pool_rare
from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, WindowedPairs, _Comparison
from mlobs_notebook.drift.profile import BaselineProfile
from mlobs_notebook.drift.statistics import Statistic

__all__ = ["column_blocks"]

Pairs = SortedPair | WindowedPairs | ConsecutivePairs | _Comparison


def _category_matrices(
    column: str, profile: BaselineProfile, counts: Any
) -> tuple[list[str], int, np.ndarray, np.ndarray]:
    """(vocabulary, how many of it the baseline knows, baseline counts, current counts) over one
    vocabulary: baseline categories by frequency, then categories new in the current data by
    frequency, then null."""
    base = profile.counts_.categorical[column]
    cur = counts.categorical[column]
    known = profile.categories_[column]
    seen = set(known)
    totals = dict(zip(cur.values, cur.matrix.sum(axis=0).tolist(), strict=True))
    new = sorted((v for v in cur.values if v not in seen), key=lambda v: (-totals[v], v))
    vocabulary = [*known, *new]
    position = {v: i for i, v in enumerate(vocabulary)}
    reference = np.zeros((1, len(vocabulary) + 1), dtype=np.int64)
    reference[0, [position[v] for v in base.values]] = base.matrix[0]
    reference[0, -1] = base.nulls[0]
    current = np.zeros((counts.windows, len(vocabulary) + 1), dtype=np.int64)
    if cur.values:
        current[:, [position[v] for v in cur.values]] = cur.matrix
    current[:, -1] = cur.nulls
    return vocabulary, len(known), reference, current


def _apply(
    stats: list[Statistic], reference: np.ndarray, current: np.ndarray, known: int | None, min_count: float
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(values, sizes) of the counts statistics; ``known`` is None for a numeric column, else
    how many of the categories the baseline knows (rare ones are pooled for PSI and JS)."""
    values: dict[str, np.ndarray] = {}
    cache: dict[tuple[Any, bool], Any] = {}
    for s in stats:
        if s.input != "counts":
            continue
        pooled = known is not None and s.pools_rare_categories
        key = (s.compute, pooled)
        if key not in cache:
            ref, cur = pool_rare(reference, current, min_count, known) if pooled else (reference, current)
            cache[key] = s.compute(ref, cur)
        result = cache[key]
        values[s.name] = np.asarray(result if s.output is None else result[s.output], dtype=np.float64)
    rows = np.minimum(np.asarray(reference).sum(axis=-1), np.asarray(current).sum(axis=-1))
    rows = np.broadcast_to(rows, (len(current),))
    return values, dict.fromkeys(values, rows)


def _apply_sorted(
    stats: list[Statistic], pairs: Pairs, windows: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(values, sizes) of the sorted statistics of every window: one call over all windows (each
    statistic shares the pairs' single compiled pass); sizes count finite values."""
    values: dict[str, np.ndarray] = {}
    for s in stats:
        if s.input == "sorted":
            result = s.compute(pairs)
            values[s.name] = np.atleast_1d(np.asarray(result if s.output is None else result[s.output], dtype=np.float64))
    finite = np.broadcast_to(np.minimum(pairs.n, pairs.m), (windows,))
    return values, dict.fromkeys(values, finite)


def column_blocks(
    column: str,
    profile: BaselineProfile,
    counts: Any,
    windowed: Pairs | None,
    following: Pairs | None,
    stats: list[Statistic],
    consecutive: bool,
    min_count: float,
) -> list[Block]:
    """The BASELINE block of one column (and the CONSECUTIVE one with ``consecutive``).

    ``windowed`` compares every window with the baseline and ``following`` every window with the
    one before it, for the sorted statistics (None: those are not computed for this column).
    """
    known: int | None = None
    if profile.kinds_[column] == "categorical":
        labels, known, reference, current = _category_matrices(column, profile, counts)
    else:
        labels = None
        reference = profile.counts_.numeric[column]
        current = counts.numeric[column]
    values, sizes = _apply(stats, reference, current, known, min_count)
    if windowed is not None:
        more, more_sizes = _apply_sorted(stats, windowed, counts.windows)
        values.update(more)
        sizes.update(more_sizes)
    blocks = [
        Block(
            column=column,
            drift_type="BASELINE",
            windows=np.arange(counts.windows),
            reference=np.broadcast_to(reference, current.shape),
            current=current,
            values=values,
            labels=labels,
            sizes=sizes,
        )
    ]
    if consecutive and counts.windows > 1:
        previous, later = current[:-1], current[1:]
        values, sizes = _apply(stats, previous, later, known, min_count)
        if following is not None:
            more, more_sizes = _apply_sorted(stats, following, counts.windows - 1)
            values.update(more)
            sizes.update(more_sizes)
        blocks.append(
            Block(column, "CONSECUTIVE", np.arange(1, counts.windows), previous, later, values, labels, sizes)
        )
    return blocks
