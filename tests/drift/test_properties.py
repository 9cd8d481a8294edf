"""Stated properties of the statistics and the engine, checked with hypothesis."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlobs_notebook.drift import compute_drift, get_statistic
from mlobs_notebook.drift.assemble import STAT_COLUMNS
from mlobs_notebook.drift.engines.local import DEFAULT_MIN_WINDOW_ROWS
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


# --- kind 2: pooling never hides a whole-window shift, at any cardinality --------------------


@st.composite
def vocabularies(draw: st.DrawFn) -> tuple[pl.DataFrame, int]:
    """A baseline of 1 to 3,000 categories with skewed shares, and a seed for the window."""
    k = draw(st.integers(1, 3000))
    skew = draw(st.floats(0.0, 1.5))
    rows = draw(st.integers(max(k, 50), 30_000))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = np.arange(1, k + 1, dtype=float) ** -skew
    codes = rng.choice(k, rows, p=weights / weights.sum())
    return pl.DataFrame({"c": [f"c{i}" for i in codes]}), seed


@settings(max_examples=60, deadline=None)
@given(vocabularies(), st.integers(DEFAULT_MIN_WINDOW_ROWS, 3000), st.integers(1, 200))
def test_a_whole_window_of_unseen_categories_is_drift(base: tuple[pl.DataFrame, int], window: int, new: int) -> None:
    frame, seed = base
    rng = np.random.default_rng(seed + 1)
    current = pl.DataFrame({"c": [f"new{i}" for i in rng.integers(0, new, window)]})
    row = compute_drift(frame, current).table.row(0, named=True)
    assert row["js_distance"] == pytest.approx(1.0)  # disjoint supports: scipy's jensenshannon is 1
    assert row["unseen_category_share"] == 1.0
    assert row["status"] == "drift" and row["drifted"] is True


@settings(max_examples=30, deadline=None)
@given(vocabularies(), st.integers(1, DEFAULT_MIN_WINDOW_ROWS - 1))
def test_a_window_below_the_minimum_is_too_small_never_ok(base: tuple[pl.DataFrame, int], window: int) -> None:
    frame, seed = base
    current = frame.sample(window, seed=seed % 1000)
    row = compute_drift(frame, current).table.row(0, named=True)
    assert row["status"] == "too_small" and row["drifted"] is None


# --- kind 3: degenerate baseline bins still see a move either way ----------------------------


finite = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(finite, st.integers(DEFAULT_MIN_WINDOW_ROWS, 2000), st.integers(DEFAULT_MIN_WINDOW_ROWS, 2000),
       st.one_of(finite, st.sampled_from(["up", "down"])))  # fmt: skip
def test_a_constant_baseline_moved_either_way_is_drift(value: float, rows: int, window: int, moved: float | str) -> None:
    if isinstance(moved, str):  # the smallest move there is
        moved = float(np.nextafter(value, np.inf if moved == "up" else -np.inf))
    assume(moved != value)
    report = compute_drift(pl.DataFrame({"x": [value] * rows}), pl.DataFrame({"x": [moved] * window}))
    row = report.table.row(0, named=True)
    assert row["status"] == "drift" and row["population_stability_index_drifted"] is True
    same = compute_drift(pl.DataFrame({"x": [value] * rows}), pl.DataFrame({"x": [value] * window}))
    assert same.table.row(0, named=True)["status"] == "ok"


@settings(max_examples=60, deadline=None)
@given(st.floats(0.15, 0.9), st.sampled_from(["bottom", "top"]), st.sampled_from([-1.0, 1.0]),
       st.floats(1e-9, 0.5), st.integers(0, 2**32 - 1))  # fmt: skip
def test_heavy_ties_moved_either_way_are_drift(share: float, end: str, direction: float, step: float, seed: int) -> None:
    """A tied value holding 15% to 90% of the baseline (a floor of zeros, a capped maximum) moves
    by any step, into the body of the values or away from it."""
    rng = np.random.default_rng(seed)
    n = 2000
    ties = int(share * n)
    tied = 0.0 if end == "bottom" else 1.0
    body = rng.uniform(0.0, 1.0, n - ties)
    base = np.concatenate([np.full(ties, tied), body])
    cur = np.concatenate([np.full(ties, tied + direction * step), rng.uniform(0.0, 1.0, n - ties)])
    row = compute_drift(pl.DataFrame({"x": base}), pl.DataFrame({"x": cur})).table.row(0, named=True)
    assert row["status"] == "drift"
