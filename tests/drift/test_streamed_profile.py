"""A LazyFrame baseline is fitted streaming: numeric columns read a few at a time, their sorted
values dropped when they would not fit, and read again when KS and Wasserstein need them. The
profile and the report are the in-memory ones."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.drift import compute_drift, fit_baseline
from mlobs_notebook.drift import profile as profile_module
from mlobs_notebook.errors import InputError


@pytest.fixture
def streamed(monkeypatch):
    monkeypatch.setattr(profile_module, "HELD_REFERENCE_BYTES", 0)
    monkeypatch.setattr(profile_module, "READ_BATCH_BYTES", 1)  # one column per read


def _baseline(rows: int = 5000) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=rows), 1)
    x[rng.random(rows) < 0.03] = np.inf
    return pl.DataFrame({
        "x": pl.Series(x).scatter(np.flatnonzero(rng.random(rows) < 0.05), None),
        "y": rng.exponential(size=rows),
        "few": rng.integers(0, 4, rows),  # 4 values: a category code
        "many": rng.integers(0, 1000, rows),  # a quantity
        "color": rng.choice(["a", "b", "c"], rows),
    })


def test_a_streamed_profile_is_the_in_memory_profile(streamed, tmp_path):
    baseline = _baseline()
    path = tmp_path / "baseline.parquet"
    baseline.write_parquet(path)
    in_memory, lazy = fit_baseline(baseline), fit_baseline(pl.scan_parquet(path))
    assert lazy.references_ == {} and in_memory.references_
    assert lazy.kinds_ == in_memory.kinds_ == {"x": "numeric", "y": "numeric", "few": "categorical",
                                               "many": "numeric", "color": "categorical"}
    assert lazy.profile_.equals(in_memory.profile_)
    for c in ("x", "y", "many"):
        np.testing.assert_array_equal(lazy.edges_[c], in_memory.edges_[c])
        np.testing.assert_array_equal(lazy.counts_.numeric[c], in_memory.counts_.numeric[c])
        np.testing.assert_array_equal(lazy.reference(c).values, in_memory.reference(c).values)  # read again
    current = baseline.with_columns(pl.col("y") * 1.1)
    assert compute_drift(lazy, current).table.equals(compute_drift(in_memory, current).table)


def test_a_profile_without_values_says_where_to_compute():
    profile = fit_baseline(_baseline(100))
    profile.references_ = {}
    with pytest.raises(InputError, match="no source to read them from"):
        profile.reference("x")
    profile.spark_source_ = object()
    with pytest.raises(InputError, match="engine='spark'"):
        profile.reference("x")
