"""In memory the numeric bin counts come from the values sorted for KS and Wasserstein; a
LazyFrame (or binned statistics only) bins them in polars. Both must count alike."""

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
def test_bins_from_sorted_values_equal_polars_bins(windowed: bool) -> None:
    baseline, current = _frame(3000, 1, 0.0).drop("ts"), _frame(2500, 2, 0.3)
    kwargs = {"time_column": "ts", "granularity": "1d"} if windowed else {}
    if not windowed:
        current = current.drop("ts")
    sorted_path = compute_drift(baseline, current, **kwargs).table
    polars_paths = [
        compute_drift(baseline, current, statistics=BINNED, **kwargs).table,
        compute_drift(baseline, current.lazy(), **kwargs).table,
    ]
    assert sorted_path.height == (3 + 2 if windowed else 1)  # 3 days against baseline, 2 consecutive
    assert sorted_path["population_stability_index"].drop_nulls().min() > 0
    for other in polars_paths:
        for column in [*BINNED, "count", "non_finite_count", "current_null_rate"]:
            np.testing.assert_allclose(
                sorted_path[column].to_numpy().astype(float), other[column].to_numpy().astype(float), atol=1e-12
            )
