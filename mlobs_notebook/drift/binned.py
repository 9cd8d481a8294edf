"""Helpers shared by the binned statistics: count matrices in, proportions out.

A count matrix has one row per window and one column per bin (numeric: the baseline bins plus
the null bin; categorical: the baseline's categories, then categories new to it, then null). The
reference may have one row, which is broadcast against every window (baseline drift), or one row
per window (consecutive drift).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["OTHER", "POOL_ALPHA", "UNSEEN", "as_count_pair", "pool_rare", "proportions"]

# Labels of the pooled bins (see ``pool_rare``): rare baseline categories, rare new ones.
OTHER = "__other__"
UNSEEN = "__unseen__"
# Rare categories are pooled only when a chi-squared test finds no change among them at this
# level (see ``pool_rare``).
POOL_ALPHA = 0.001
# Cochran's rule for the chi-squared approximation: expected counts of at least 5 per cell.
_MIN_EXPECTED = 5.0


def as_count_pair(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    cur = np.atleast_2d(np.asarray(current, dtype=np.float64))
    if ref.shape[-1] != cur.shape[-1]:
        raise ValueError(f"bin counts differ: reference has {ref.shape[-1]}, current {cur.shape[-1]}")
    ref, cur = np.broadcast_arrays(ref, cur)
    return ref, cur


def proportions(counts: np.ndarray) -> np.ndarray:
    """Rows divided by their totals; rows with no observations become NaN (statistic undefined)."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares: np.ndarray = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), np.nan)
    return shares


def pool_rare(
    reference: np.ndarray,
    current: np.ndarray,
    min_count: float,
    known: int | None = None,
    alpha: float = POOL_ALPHA,
) -> tuple[np.ndarray, np.ndarray]:
    """Merge sparse categories into two extra bins, ``__other__`` and ``__unseen__``, per window.

    Sparse counts alone inflate PSI: k categories seen about E times each in a window give a PSI
    of roughly 1/E with no drift at all (a 1,000-category column in 10,000-row windows reads
    ~0.08). A category is rare when its share times the smaller sample's size is below
    ``min_count`` on both sides. Pooling never hides a change:

    - the null bin (the last column) is never pooled;
    - categories the baseline never had (columns ``known`` onwards) go to their own bin,
      ``__unseen__``, never with the baseline's, so a window moving to new categories is seen
      at any size;
    - the rare baseline categories are pooled into ``__other__`` only where no test finds a
      change among them at level ``alpha`` (0.001): share moving between rare categories keeps
      them apart. Two tests: a chi-squared test of homogeneity over the rare categories grouped,
      in order of their total count on both sides, into groups with an expected count of about
      5 or more (Cochran's rule for the chi-squared approximation; fewer than two groups is too
      little to test); and, for a window piling onto one category, the binomial upper tail of
      each count on either side given the category's pooled share, Bonferroni-corrected over
      the categories and sides.

    The rule is symmetric, so identical samples pool identically and score 0. ``known``
    defaults to every column but the null bin. Returns matrices with two more columns.
    """
    ref, cur = as_count_pair(reference, current)
    if min_count <= 0:
        return ref, cur
    k = ref.shape[1]
    known = k - 1 if known is None else known
    n_ref = ref.sum(axis=1, keepdims=True)
    n_cur = cur.sum(axis=1, keepdims=True)
    smaller = np.minimum(n_ref, n_cur)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_expected = np.where(n_ref > 0, ref / np.where(n_ref > 0, n_ref, 1), 0) * smaller
        cur_expected = np.where(n_cur > 0, cur / np.where(n_cur > 0, n_cur, 1), 0) * smaller
    rare = (ref_expected < min_count) & (cur_expected < min_count)
    rare[:, k - 1] = False  # null
    unseen = rare.copy()
    unseen[:, :known] = False
    other = rare  # (rare is not used after this)
    other[:, known:] = False
    other &= ~_hides_change(ref, cur, other, alpha)[:, None]
    pooled = other | unseen
    return (
        np.hstack([np.where(pooled, 0, ref), _sum(ref, other), _sum(ref, unseen)]),
        np.hstack([np.where(pooled, 0, cur), _sum(cur, other), _sum(cur, unseen)]),
    )


def _sum(counts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total: np.ndarray = np.where(mask, counts, 0).sum(axis=1, keepdims=True)
    return total


def _hides_change(ref: np.ndarray, cur: np.ndarray, pool: np.ndarray, alpha: float) -> np.ndarray:
    """Per window: whether the categories in ``pool`` differ between the sides (chi-squared
    p-value below ``alpha`` over groups of them with expected counts of about 5 or more)."""
    windows = ref.shape[0]
    r, c = np.where(pool, ref, 0.0), np.where(pool, cur, 0.0)
    n_r, n_c = r.sum(axis=1), c.sum(axis=1)
    total = n_r + n_c
    if not pool.any():
        return np.zeros(windows, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        # expected count of each category on the smaller side, in the 2 x k table of the pool
        expected = np.where(total[:, None] > 0, (r + c) * np.minimum(n_r, n_c)[:, None] / total[:, None], 0)
    # Grouped in order of the table's column totals (r + c), which the test of homogeneity
    # conditions on, ties broken by a fixed scramble of the column positions: an order that
    # looked at one side's counts (even through the order of the columns) would manufacture
    # differences between the groups.
    scramble = ((np.arange(ref.shape[1], dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)) / 2.0**32
    order = np.argsort(np.where(pool, r + c + scramble, np.inf), axis=1)
    expected = np.take_along_axis(expected, order, axis=1)
    cumulative = np.cumsum(expected, axis=1)
    mass = cumulative[:, -1]
    groups = np.maximum(np.floor(mass / _MIN_EXPECTED), 1).astype(np.int64)
    middle = cumulative - expected / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        group = np.floor(np.where(mass[:, None] > 0, middle / mass[:, None], 0) * groups[:, None]).astype(np.int64)
    group = np.minimum(group, groups[:, None] - 1)
    width = int(groups.max())
    slot = (np.arange(windows)[:, None] * width + group).ravel()
    grouped_r = np.bincount(slot, np.take_along_axis(r, order, axis=1).ravel(), windows * width).reshape(windows, width)
    grouped_c = np.bincount(slot, np.take_along_axis(c, order, axis=1).ravel(), windows * width).reshape(windows, width)
    column = grouped_r + grouped_c
    with np.errstate(invalid="ignore", divide="ignore"):
        exp_r = column * (n_r / total)[:, None]
        exp_c = column * (n_c / total)[:, None]
        terms = np.where(column > 0, (grouped_r - exp_r) ** 2 / exp_r + (grouped_c - exp_c) ** 2 / exp_c, 0.0)
    dof = (column > 0).sum(axis=1) - 1
    statistic = np.nan_to_num(terms.sum(axis=1))
    testable = (dof >= 1) & (n_r > 0) & (n_c > 0)
    pvalue = stats.chi2.sf(statistic, np.maximum(dof, 1))
    hides: np.ndarray = (testable & (pvalue < alpha)) | _piles_up(r, c, pool, n_r, n_c, alpha)
    return hides


def _piles_up(
    r: np.ndarray, c: np.ndarray, pool: np.ndarray, n_r: np.ndarray, n_c: np.ndarray, alpha: float
) -> np.ndarray:
    """Per window: whether one side puts far more rows on one pooled category than its pooled
    share allows (binomial upper tail, Bonferroni over the categories and both sides)."""
    total = n_r + n_c
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[:, None] > 0, (r + c) / total[:, None], 0.0)
    tests = 2 * pool.sum(axis=1)
    smallest = np.ones(len(total))
    for counts, n in ((r, n_r), (c, n_c)):
        mean = n[:, None] * share
        # only counts 3 standard deviations above their mean can have a tail near alpha / tests
        w, k = np.nonzero(pool & (counts >= 2) & (counts > mean + 3 * np.sqrt(mean)))
        if len(w):
            tail = stats.binom.sf(counts[w, k] - 1, n[w], share[w, k])  # P(X >= count)
            np.minimum.at(smallest, w, tail)
    piled: np.ndarray = (n_r > 0) & (n_c > 0) & (smallest * np.maximum(tests, 1) < alpha)
    return piled
