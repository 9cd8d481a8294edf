"""One suite run over every registered statistic (like scikit-learn's estimator checks)."""

from __future__ import annotations

import numpy as np
import pytest

from mlobs_notebook.drift import get_statistic, statistic_names
from mlobs_notebook.drift.ecdf import ConsecutivePairs, SortedPair, SortedReference, WindowedPairs
from mlobs_notebook.drift.statistics import KINDS, Statistic
from mlobs_notebook.errors import UnknownStatistic

NAMES = statistic_names()


def _evaluate(statistic: Statistic, reference: np.ndarray, current: np.ndarray) -> float:
    """The statistic on two raw samples (NaN is null), through its own input shape: sorted
    finite values, or counts per value with the null bin last."""
    if statistic.input == "sorted":
        result = statistic.compute(SortedPair(np.sort(reference[~np.isnan(reference)]), np.sort(current[~np.isnan(current)])))
        return float(result if statistic.output is None else result[statistic.output])
    values = np.unique(np.concatenate([reference, current]))
    values = values[~np.isnan(values)]
    ref = np.array([[*(np.sum(reference == v) for v in values), np.isnan(reference).sum()]])
    cur = np.array([[*(np.sum(current == v) for v in values), np.isnan(current).sum()]])
    result = statistic.compute(ref, cur)
    return float(np.asarray(result if statistic.output is None else result[statistic.output])[0])


def test_the_registry_holds_the_issue_statistics() -> None:
    assert set(NAMES) >= {
        "population_stability_index",
        "js_distance",
        "ks_statistic",
        "ks_pvalue",
        "wasserstein_distance",
        "wasserstein_normalized",
        "chi_squared_statistic",
        "chi_squared_pvalue",
        "tv_distance",
        "l_infinity_distance",
        "percent_null_delta",
        "unseen_category_share",
    }


def test_the_registry_order_is_databricks_column_order_then_ours() -> None:
    databricks = ["percent_null_delta", "population_stability_index", "js_distance", "ks_statistic",
                  "wasserstein_distance", "chi_squared_statistic", "tv_distance", "l_infinity_distance"]  # fmt: skip
    positions = [NAMES.index(name) for name in databricks]
    assert positions == sorted(positions) and NAMES[-1] == "unseen_category_share"


def test_unknown_statistic_lists_the_valid_names() -> None:
    with pytest.raises(UnknownStatistic) as info:
        get_statistic("psi_typo")
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", NAMES)
class TestEveryStatistic:
    def test_metadata(self, name: str) -> None:
        s = get_statistic(name)
        assert s.name == name
        assert s.kinds and set(s.kinds) <= set(KINDS)
        assert s.input in ("counts", "sorted")
        assert s.identical_value == (0.0 if s.higher_is_drift else 1.0)
        if s.warn_threshold is not None:
            # warn comes before drift in the direction of drift
            assert (s.warn_threshold <= s.drift_threshold) == s.higher_is_drift
        assert s.description

    def test_identical_samples_give_the_no_drift_value(self, name: str) -> None:
        s = get_statistic(name)
        sample = np.random.default_rng(0).integers(0, 7, 400).astype(float)
        assert _evaluate(s, sample, sample.copy()) == pytest.approx(s.identical_value, abs=1e-12)

    def test_a_clear_shift_moves_it_past_its_drift_threshold(self, name: str) -> None:
        s = get_statistic(name)
        rng = np.random.default_rng(1)
        shifted = rng.integers(3, 9, 2000).astype(float)
        shifted[:400] = np.nan  # the null rate moves too: 0% -> 20%
        value = _evaluate(s, rng.integers(0, 5, 2000).astype(float), shifted)
        assert np.isfinite(value)
        if np.isfinite(s.drift_threshold):
            assert s.beyond(value, s.drift_threshold)
        else:  # unbounded statistics are judged through their companion; they still move
            assert value > s.identical_value

    def test_symmetric_when_declared(self, name: str) -> None:
        s = get_statistic(name)
        if not s.symmetric:
            pytest.skip(f"{name} is declared asymmetric")
        rng = np.random.default_rng(2)
        a, b = rng.integers(0, 6, 300).astype(float), rng.integers(1, 7, 500).astype(float)
        assert _evaluate(s, a, b) == pytest.approx(_evaluate(s, b, a), rel=1e-12)

    def test_an_empty_side_is_undefined_not_an_error(self, name: str) -> None:
        s = get_statistic(name)
        if s.input == "sorted":
            result = s.compute(SortedPair(np.zeros(0), np.arange(5.0)))
            assert np.isnan(result[s.output])
        else:
            result = s.compute(np.array([[0, 0, 0]]), np.array([[3, 1, 2]]))
            value = np.asarray(result if s.output is None else result[s.output])
            assert value.shape == (1,) and np.isnan(value[0])

    def test_vectorised_over_windows_like_one_at_a_time(self, name: str) -> None:
        s = get_statistic(name)
        if s.input == "sorted":
            self._sorted_over_windows(s)
            return
        rng = np.random.default_rng(3)
        ref = rng.integers(1, 50, 8)
        windows = rng.integers(0, 50, (5, 8))
        pick = (lambda r: r) if s.output is None else (lambda r: r[s.output])
        together = pick(s.compute(ref, windows))
        for i in range(5):
            assert together[i] == pytest.approx(pick(s.compute(ref, windows[i]))[0], rel=1e-12)

    @staticmethod
    def _sorted_over_windows(s: Statistic) -> None:
        """All windows against the baseline, and each against the one before, in one call each,
        like the same pairs one at a time."""
        rng = np.random.default_rng(4)
        reference = np.sort(rng.normal(0, 1, 300))
        parts = [np.sort(rng.normal(shift, 1, size)) for shift, size in ((0, 40), (0.5, 25), (-1, 60), (0, 0), (2, 30))]
        values = np.concatenate(parts)
        bounds = np.concatenate([[0], np.cumsum([len(p) for p in parts])])

        def pick(result: object) -> np.ndarray:
            return np.asarray(result if s.output is None else result[s.output], dtype=float)

        together = pick(s.compute(WindowedPairs(SortedReference(reference), values, bounds)))
        following = pick(s.compute(ConsecutivePairs(values, bounds)))
        assert together.shape == (5,) and following.shape == (4,)
        for i, part in enumerate(parts):
            alone = pick(s.compute(SortedPair(reference, part)))
            np.testing.assert_allclose(together[i], alone, rtol=1e-12, equal_nan=True)
        for i, (earlier, later) in enumerate(zip(parts[:-1], parts[1:], strict=True)):
            alone = pick(s.compute(SortedPair(earlier, later)))
            np.testing.assert_allclose(following[i], alone, rtol=1e-12, equal_nan=True)
