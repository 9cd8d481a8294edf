"""Every statistic with a scipy counterpart equals it, on random data of several shapes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlobs_notebook.drift.ecdf import SortedPair
from mlobs_notebook.drift.statistics.chi2 import chi_squared
from mlobs_notebook.drift.statistics.js import js_distance
from mlobs_notebook.drift.statistics.ks import ks_test
from mlobs_notebook.drift.statistics.wasserstein import wasserstein


def _samples(kind: str, n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "normal":
        return rng.normal(size=n), rng.normal(0.2, 1.5, size=m)
    if kind == "ties":  # few distinct values, many ties within and across samples
        return rng.integers(0, 6, n).astype(float), rng.integers(1, 8, m).astype(float)
    if kind == "offset":  # large magnitudes: cancellation would show here
        return 1e6 + rng.normal(size=n), 1e6 + rng.normal(0.5, 1, size=m)
    if kind == "disjoint":
        return rng.uniform(0, 1, n), rng.uniform(5, 6, m)
    if kind == "skewed":
        return rng.lognormal(0, 2, n), rng.lognormal(0.3, 2, m)
    raise AssertionError(kind)


SHAPES = [(1, 1), (1, 7), (13, 1), (50, 50), (200, 37), (5000, 300), (3000, 20000)]


@pytest.mark.parametrize("kind", ["normal", "ties", "offset", "disjoint", "skewed"])
@pytest.mark.parametrize(("n", "m"), SHAPES)
def test_ks_and_wasserstein_equal_scipy(kind: str, n: int, m: int) -> None:
    rng = np.random.default_rng(n * 31 + m)
    a, b = _samples(kind, n, m, rng)
    pair = SortedPair(np.sort(a), np.sort(b))
    d, p = ks_test(pair)
    w, _ = wasserstein(pair)
    expected = stats.ks_2samp(a, b)
    assert d == pytest.approx(expected.statistic, abs=1e-9)
    assert p == pytest.approx(stats.kstwobign.sf(expected.statistic * np.sqrt(n * m / (n + m))), abs=1e-12)
    if min(n, m) >= 300:  # the limiting distribution is close to scipy's finite-n one
        assert p == pytest.approx(stats.ks_2samp(a, b, method="asymp").pvalue, abs=2.5e-2)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-9)


def test_normalized_wasserstein_divides_by_reference_std() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 3, 500), rng.normal(1, 3, 400)
    w, normalized = wasserstein(SortedPair(np.sort(a), np.sort(b)))
    assert normalized == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a), rel=1e-9)


@pytest.mark.parametrize("k", [2, 3, 5, 40])
@pytest.mark.parametrize("seed", range(4))
def test_chi_squared_equals_chi2_contingency(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed * 100 + k)
    ref = rng.integers(0, 60, k)
    cur = rng.integers(0, 60, k)
    if seed == 3:  # a category absent on both sides is dropped, as scipy needs
        ref[0] = cur[0] = 0
    statistic, pvalue = chi_squared(ref, cur)
    table = np.array([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        assert statistic[0] == 0.0 and pvalue[0] == 1.0
        return
    expected = stats.chi2_contingency(table)
    assert statistic[0] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-9)
    assert pvalue[0] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


def test_chi_squared_vectorised_over_windows_matches_row_by_row() -> None:
    rng = np.random.default_rng(9)
    ref = rng.integers(1, 100, 6)
    windows = rng.integers(0, 100, (7, 6))
    statistic, pvalue = chi_squared(ref, windows)
    for i, row in enumerate(windows):
        expected = stats.chi2_contingency(np.array([ref, row])[:, (ref + row) > 0])
        assert statistic[i] == pytest.approx(expected.statistic, rel=1e-9)
        assert pvalue[i] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_js_distance_equals_scipy_base_2(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 30, 11).astype(float)
    cur = rng.integers(0, 30, 11).astype(float)
    cur[seed] = 0  # empty bins are not smoothed
    assert js_distance(ref, cur)[0] == pytest.approx(jensenshannon(ref, cur, base=2), abs=1e-9)


def test_sorted_quantiles_equal_numpy() -> None:
    from mlobs_notebook.drift.ecdf import sorted_quantiles

    rng = np.random.default_rng(11)
    for size in (1, 2, 7, 1000):
        values = np.sort(rng.normal(size=size))
        qs = [0.0, 0.05, 0.1, 0.25, 0.5, 0.9, 1.0]
        assert sorted_quantiles(values, qs) == pytest.approx(np.quantile(values, qs), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_all_windows_at_once_equal_scipy_per_window(ties: bool) -> None:
    from mlobs_notebook.drift.ecdf import SortedReference, WindowedPairs

    rng = np.random.default_rng(21 + ties)
    for _ in range(40):
        draw = (lambda k: rng.integers(0, 7, k).astype(float)) if ties else (lambda k: rng.normal(0.3, 1.5, k))
        reference = np.sort(draw(int(rng.integers(1, 80))))
        parts = [np.sort(draw(int(rng.integers(0, 30)))) for _ in range(int(rng.integers(1, 6)))]
        values = np.concatenate(parts)
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        pairs = WindowedPairs(SortedReference(reference), values, bounds)
        d, w = pairs.ks_statistic(), pairs.wasserstein()
        for i, part in enumerate(parts):
            if len(part) == 0:  # an empty window: undefined, not an error
                assert np.isnan(d[i]) and np.isnan(w[i])
                continue
            assert d[i] == pytest.approx(stats.ks_2samp(reference, part).statistic, abs=1e-12)
            assert w[i] == pytest.approx(stats.wasserstein_distance(reference, part), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_small_windows_against_a_large_reference_equal_scipy(ties: bool) -> None:
    """Windows far smaller than the reference, some shifted past either end of it: the
    resumed searches take long jumps and land outside the reference."""
    from mlobs_notebook.drift.ecdf import SortedReference, WindowedPairs

    rng = np.random.default_rng(31 + ties)
    draw = (lambda k, shift: rng.integers(0, 40, k) + shift) if ties else (lambda k, shift: rng.normal(shift, 1.0, k))
    reference = np.sort(draw(20_000, 0).astype(float))
    shifts = [0, 0, 3, -60, 60, 0.5, 0] if ties else [0, 0, 0.3, -9, 9, 1.5, 0]
    parts = [np.sort(draw(int(rng.integers(1, 60)), shift).astype(float)) for shift in shifts]
    values = np.concatenate(parts)
    bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    pairs = WindowedPairs(SortedReference(reference), values, bounds)
    d, w = pairs.ks_statistic(), pairs.wasserstein()
    for i, part in enumerate(parts):
        assert d[i] == pytest.approx(stats.ks_2samp(reference, part).statistic, abs=1e-12)
        assert w[i] == pytest.approx(stats.wasserstein_distance(reference, part), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_consecutive_windows_equal_scipy_pair_by_pair(ties: bool) -> None:
    from mlobs_notebook.drift.ecdf import ConsecutivePairs
    from mlobs_notebook.drift.statistics.wasserstein import wasserstein

    rng = np.random.default_rng(41 + ties)
    for _ in range(30):
        draw = (lambda k: rng.integers(0, 5, k).astype(float)) if ties else (lambda k: rng.normal(rng.normal(), 2.0, k))
        parts = [np.sort(draw(int(rng.integers(0, 40)))) for _ in range(int(rng.integers(2, 7)))]
        values = np.concatenate(parts)
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        pairs = ConsecutivePairs(values, bounds)
        d, w = pairs.ks_statistic(), pairs.wasserstein()
        _, normalized = wasserstein(pairs)
        assert len(d) == len(w) == len(parts) - 1
        for i, (earlier, later) in enumerate(zip(parts[:-1], parts[1:], strict=True)):
            if len(earlier) == 0 or len(later) == 0:
                assert np.isnan(d[i]) and np.isnan(w[i]) and np.isnan(normalized[i])
                continue
            expected = stats.wasserstein_distance(earlier, later)
            assert d[i] == pytest.approx(stats.ks_2samp(earlier, later).statistic, abs=1e-12)
            assert w[i] == pytest.approx(expected, rel=1e-9, abs=1e-12)
            if np.std(earlier) > 0:
                assert normalized[i] == pytest.approx(expected / np.std(earlier), rel=1e-9, abs=1e-12)
            else:
                assert np.isnan(normalized[i])
