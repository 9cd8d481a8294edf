"""In memory the numeric bins and moments come from a compiled pass over each column
(counts_kernels.py); a LazyFrame is counted by polars group-bys. Both must count alike."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.drift import compute_drift

BINNED = ["population_stability_index", "js_distance", "chi_squared_statistic", "tv_distance", "l_infinity_distance"]


def _frame(rows: int, seed: int, shift: float) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    # rounded to 0.1 so values fall exactly on the quantile edges; every kind of non-finite value
    x = np.round(rng.normal(shift, 1.0, rows), 1)
    for value in (np.inf, -np.inf, np.nan):
        x[rng.random(rows) < 0.04] = value
    hours = rng.integers(0, 72, rows)
    return pl.DataFrame(
        {
            "x": pl.Series(x).scatter(np.flatnonzero(rng.random(rows) < 0.04), None),
            "ts": [dt.datetime(2024, 1, 1) + dt.timedelta(hours=int(h)) for h in hours],
        }
    )


@pytest.mark.parametrize("windowed", [False, True])
def test_compiled_counts_equal_polars_counts(windowed: bool) -> None:
    baseline, current = _frame(3000, 1, 0.0).drop("ts"), _frame(2500, 2, 0.3)
    kwargs = {"time_column": "ts", "granularity": "1d"} if windowed else {}
    if not windowed:
        current = current.drop("ts")
    in_memory = compute_drift(baseline, current, **kwargs)
    lazy = compute_drift(baseline, current.lazy(), **kwargs)
    binned_in_memory = compute_drift(baseline, current, statistics=BINNED, **kwargs)
    assert in_memory.table.height == (3 + 2 if windowed else 1)  # 3 days against baseline, 2 consecutive
    assert in_memory.table["population_stability_index"].drop_nulls().min() > 0
    for other in (lazy, binned_in_memory):
        for column in [*BINNED, "count", "non_finite_count", "current_null_rate"]:
            np.testing.assert_allclose(
                in_memory.table[column].to_numpy().astype(float), other.table[column].to_numpy().astype(float), atol=1e-12
            )
        assert in_memory.bins["current_counts"].to_list() == other.bins["current_counts"].to_list()
    # the per-window moments: the compiled pass against polars' aggregations
    mine, theirs = in_memory.profile, lazy.profile
    for column in ("count", "null_count", "non_finite_count"):
        assert mine[column].to_list() == theirs[column].to_list()
    for column in ("mean", "std", "min", "max"):
        np.testing.assert_allclose(mine[column].to_numpy(), theirs[column].to_numpy(), rtol=1e-12, atol=1e-12)


def test_baseline_moments_equal_an_independent_count() -> None:
    baseline = _frame(3000, 1, 0.0).drop("ts")
    row = compute_drift(baseline, baseline).profile.filter(pl.col("source") == "baseline").row(0, named=True)
    x = baseline["x"]
    values = x.drop_nulls().to_numpy()
    finite = values[np.isfinite(values)]
    assert row["null_count"] == x.null_count() + int(np.isnan(values).sum())
    assert row["non_finite_count"] == int((~np.isfinite(values)).sum())
    assert row["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert row["std"] == pytest.approx(finite.std(ddof=1), rel=1e-12)
    assert (row["min"], row["max"]) == (finite.min(), finite.max())
