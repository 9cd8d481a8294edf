"""Stated properties of the statistics and the engine, checked with hypothesis."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlobs_notebook.drift import compute_drift, get_statistic
from mlobs_notebook.drift.assemble import STAT_COLUMNS
from mlobs_notebook.drift.statistics.js import js_distance
from mlobs_notebook.drift.statistics.psi import population_stability_index

counts = st.integers(2, 12).flatmap(
    lambda k: st.tuples(
        arrays(np.int64, k, elements=st.integers(0, 1000)),
        arrays(np.int64, k, elements=st.integers(0, 1000)),
    )
).filter(lambda pair: pair[0].sum() > 0 and pair[1].sum() > 0)

values = st.lists(
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 1.0, 2.5])),
    min_size=1,
    max_size=60,
)


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    x = draw(values)
    c = draw(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])), min_size=len(x), max_size=len(x)))
    return pl.DataFrame({"x": x, "c": c}, schema={"x": pl.Float64, "c": pl.String})


@given(counts)
def test_js_is_symmetric_and_within_0_1(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    forward, backward = js_distance(a, b)[0], js_distance(b, a)[0]
    assert 0.0 <= forward <= 1.0
    assert forward == backward or abs(forward - backward) < 1e-12


@given(counts)
def test_psi_is_never_negative(pair: tuple[np.ndarray, np.ndarray]) -> None:
    assert population_stability_index(*pair)[0] >= 0.0


@settings(max_examples=40, deadline=None)
@given(frames())
def test_identical_inputs_give_no_drift_on_every_statistic(frame: pl.DataFrame) -> None:
    report = compute_drift(frame, frame.clone())
    for row in report.table.iter_rows(named=True):
        for name in STAT_COLUMNS:
            value = row[name]
            if value is not None:
                assert abs(value - get_statistic(name).identical_value) < 1e-9, (name, row)
        expected = ("ok",) if row["count"] >= report.min_window_rows else ("too_small",)
        assert row["status"] in (*expected, None)


@settings(max_examples=30, deadline=None)
@given(frames(), frames(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_result(baseline: pl.DataFrame, current: pl.DataFrame, rnd) -> None:
    order = list(range(current.height))
    rnd.shuffle(order)
    first = compute_drift(baseline, current).table
    second = compute_drift(baseline.reverse(), current[order]).table
    assert first.columns == second.columns
    for a, b in zip(first.iter_rows(), second.iter_rows(), strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and y is not None:
                assert abs(x - y) <= 1e-9 * max(1.0, abs(x)), (x, y)
            else:
                assert x == y
