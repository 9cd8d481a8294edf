"""Helpers shared by the binned statistics: count matrices in, proportions out.

A count matrix has one row per window and one column per bin (numeric: the baseline bins plus
the null bin; categorical: the categories plus null). The reference may have one row, which is
broadcast against every window (baseline drift), or one row per window (consecutive drift).
"""

from __future__ import annotations

import numpy as np

__all__ = ["OTHER", "as_count_pair", "pool_rare", "proportions"]

# Label of the pooled bin of rare categories (see ``pool_rare``).
OTHER = "__other__"


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
        return np.where(totals > 0, counts / np.where(totals > 0, totals, 1), np.nan)


def pool_rare(
    reference: np.ndarray, current: np.ndarray, min_count: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge sparse categories into one extra ``__other__`` bin, per window.

    Sparse counts alone inflate PSI: k categories seen about E times each in a window give a PSI
    of roughly 1/E with no drift at all (a 1,000-category column in 10,000-row windows reads
    ~0.08). A category is pooled when it is rare in both samples: its share times the smaller
    sample's size is below ``min_count`` on each side. The rule is symmetric, so identical samples
    still pool identically and score 0, and a category that is new and frequent in the current
    window is never pooled away.
    """
    ref, cur = as_count_pair(reference, current)
    if min_count <= 0:
        return ref, cur
    n_ref = ref.sum(axis=1, keepdims=True)
    n_cur = cur.sum(axis=1, keepdims=True)
    smaller = np.minimum(n_ref, n_cur)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_expected = np.where(n_ref > 0, ref / np.where(n_ref > 0, n_ref, 1), 0) * smaller
        cur_expected = np.where(n_cur > 0, cur / np.where(n_cur > 0, n_cur, 1), 0) * smaller
    rare = (ref_expected < min_count) & (cur_expected < min_count)
    other_ref = np.where(rare, ref, 0).sum(axis=1, keepdims=True)
    other_cur = np.where(rare, cur, 0).sum(axis=1, keepdims=True)
    return (
        np.hstack([np.where(rare, 0, ref), other_ref]),
        np.hstack([np.where(rare, 0, cur), other_cur]),
    )
