"""Edge cases are handled and reported, not raised."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy import stats

from mlobs_notebook.drift import compute_drift, fit_baseline
from mlobs_notebook.drift.binned import pool_rare
from mlobs_notebook.errors import InputError, UnknownColumn, UnknownStatistic


def _row(report, column: str, drift_type: str = "BASELINE") -> dict:
    rows = report.table.filter(pl.col("column_name") == column, pl.col("drift_type") == drift_type)
    assert rows.height == 1
    return rows.row(0, named=True)


def test_a_feature_that_turns_null_is_drift() -> None:
    base = pl.DataFrame({"x": np.arange(1000.0)})
    cur = pl.DataFrame({"x": [None] * 500}, schema={"x": pl.Float64})
    row = _row(compute_drift(base, cur), "x")
    assert row["current_null_rate"] == 1.0 and row["percent_null_delta"] == 100.0
    assert row["population_stability_index"] > 1 and row["status"] == "drift"
    assert row["ks_statistic"] is None and row["wasserstein_distance"] is None  # no values to compare


def test_all_null_baseline_column_is_compared_through_the_null_bin() -> None:
    base = pl.DataFrame({"x": [None] * 100}, schema={"x": pl.Float64})
    cur = pl.DataFrame({"x": np.linspace(0, 1, 100)})
    report = compute_drift(base, cur)
    assert report.baseline.bin_edges("x").tolist() == [-math.inf, math.inf]
    row = _row(report, "x")
    assert row["reference_null_rate"] == 1.0 and row["status"] == "drift"


def test_constant_column_has_a_bin_of_its_own_and_no_normalised_wasserstein() -> None:
    base = pl.DataFrame({"x": [3.5] * 200})
    report = compute_drift(base, pl.DataFrame({"x": [3.5] * 50 + [4.5] * 50}))
    assert report.baseline.bin_edges("x").tolist() == [-math.inf, 3.5, np.nextafter(3.5, math.inf), math.inf]
    row = _row(report, "x")
    assert row["wasserstein_distance"] == pytest.approx(0.5)
    assert row["wasserstein_normalized"] is None  # std 0
    same = _row(compute_drift(base, base), "x")
    assert same["population_stability_index"] == 0.0 and same["ks_statistic"] == 0.0


def test_infinities_are_counted_and_binned_at_the_ends() -> None:
    base = pl.DataFrame({"x": np.linspace(-1, 1, 100)})
    cur = pl.DataFrame({"x": [-math.inf, math.inf, math.inf, float("nan"), 0.5, None]})
    report = compute_drift(base, cur)
    row = _row(report, "x")
    assert row["non_finite_count"] == 4  # two +inf, one -inf, one NaN
    assert row["current_null_rate"] == pytest.approx(2 / 6)  # NaN and null are missing
    counts = report.bins.row(0, named=True)["current_counts"]
    assert compute_drift(base, cur.lazy()).bins.equals(report.bins)  # the streaming counts agree
    assert counts[0] == 1 and counts[-2] == 2 and counts[-1] == 2 and sum(counts) == 6
    # the exact tests see the finite values only: here just 0.5
    assert row["ks_statistic"] == pytest.approx(stats.ks_2samp(np.linspace(-1, 1, 100), [0.5]).statistic)


def test_unseen_categories_get_their_own_bins() -> None:
    base = pl.DataFrame({"c": ["a"] * 60 + ["b"] * 40})
    cur = pl.DataFrame({"c": ["a"] * 30 + ["z"] * 60 + [None] * 10})
    report = compute_drift(base, cur)
    bins = report.bins.row(0, named=True)
    assert bins["categories"] == ["a", "b", "z", None]
    assert bins["baseline_counts"] == [60, 40, 0, 0]
    assert bins["current_counts"] == [30, 0, 60, 10]
    row = _row(report, "c")
    assert row["l_infinity_distance"] == pytest.approx(0.6)
    assert row["tv_distance"] == pytest.approx(0.5 * (0.3 + 0.4 + 0.6 + 0.1))
    assert row["status"] == "drift"


def test_category_counts_match_an_independent_count() -> None:
    rng = np.random.default_rng(0)
    names = np.array([f"cat{i:04d}" for i in range(1000)])
    base_values = rng.choice(names, 30_000).tolist()
    cur_values = rng.choice(names[:900], 20_000).tolist() + [None] * 7
    report = compute_drift(pl.DataFrame({"c": base_values}), pl.DataFrame({"c": cur_values}))
    bins = report.bins.row(0, named=True)
    base_counter, cur_counter = Counter(base_values), Counter(cur_values)
    for category, b, c in zip(bins["categories"], bins["baseline_counts"], bins["current_counts"], strict=True):
        assert b == base_counter.get(category, 0), category
        assert c == cur_counter.get(category, 0), category
    assert set(bins["categories"]) == set(base_counter) | set(cur_counter)


def test_sparse_categories_are_pooled_so_identical_distributions_do_not_warn() -> None:
    rng = np.random.default_rng(1)
    names = [f"v{i}" for i in range(1000)]
    base = pl.DataFrame({"c": rng.choice(names, 1_000_000)})
    window = pl.DataFrame({"c": rng.choice(names, 10_000)})
    pooled = _row(compute_drift(base, window), "c")["population_stability_index"]
    raw = _row(compute_drift(base, window, min_category_count=0), "c")["population_stability_index"]
    assert raw > 0.05  # the sparse-count artefact the pooling exists for
    assert pooled < 0.01
    shifted = pl.DataFrame({"c": rng.choice(names[:500], 10_000)})
    assert _row(compute_drift(base, shifted), "c")["status"] == "drift"


def test_pooling_keeps_a_new_frequent_category() -> None:
    ref = np.array([[1000, 1000, 0]])
    cur = np.array([[10, 10, 1980]])
    pooled_ref, pooled_cur = pool_rare(ref, cur, 20)
    assert pooled_cur[0, 2] == 1980 and pooled_ref[0, 2] == 0


def test_missing_columns_and_changed_types_are_schema_findings() -> None:
    base = pl.DataFrame({"a": [1.5, 2.5, 3.5] * 10, "b": ["x", "y", "z"] * 10, "gone": [1.5] * 30})
    cur = pl.DataFrame({"a": ["1", "2", "3"] * 10, "b": ["x", "y", "y"] * 10, "new": [1] * 30})
    report = compute_drift(base, cur)
    findings = {f.column: f for f in report.schema_findings}
    assert findings["a"].finding == "type_changed" and not findings["a"].compared
    assert findings["gone"].finding == "missing_in_current"
    assert findings["new"].finding == "missing_in_baseline"
    assert report.table["column_name"].unique().to_list() == ["b"]
    widened = compute_drift(pl.DataFrame({"n": list(range(30))}), pl.DataFrame({"n": [float(i) for i in range(30)]}))
    (finding,) = widened.schema_findings
    assert finding.finding == "type_changed" and finding.compared
    assert _row(widened, "n")["population_stability_index"] == 0.0


def test_kinds_are_inferred_and_overridable() -> None:
    frame = pl.DataFrame(
        {"few": [1, 2, 3] * 10, "many": list(range(30)), "flag": [True, False] * 15, "s": ["a"] * 30}
    )
    profile = fit_baseline(frame)
    assert profile.kinds_ == {"few": "categorical", "many": "numeric", "flag": "categorical", "s": "categorical"}
    assert fit_baseline(frame, kinds={"few": "numeric"}).kinds_["few"] == "numeric"
    with pytest.raises(InputError, match="cannot be treated as numeric"):
        fit_baseline(frame, kinds={"s": "numeric"})
    with pytest.raises(InputError, match="unknown kind 'ordinal'"):
        fit_baseline(frame, kinds={"few": "ordinal"})


def test_pandas_input_gives_the_same_report(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    from_polars = compute_drift(baseline, current).table
    from_pandas = compute_drift(baseline.to_pandas(), current.to_pandas()).table
    assert from_pandas["population_stability_index"].to_list() == from_polars["population_stability_index"].to_list()


def test_a_lazy_frame_streams_to_the_same_counts(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    eager = compute_drift(baseline, current, time_column="ts", granularity="1d")
    lazy = compute_drift(baseline.lazy(), current.lazy(), time_column="ts", granularity="1d")
    assert lazy.bins.equals(eager.bins)
    # streaming sums in another order: means may differ in the last bit
    assert_frame_equal(lazy.table, eager.table, rel_tol=1e-12, abs_tol=1e-12)
    bounded = compute_drift(baseline, current.lazy(), time_column="ts", granularity="1d", max_exact_rows=100)
    assert bounded.table["ks_statistic"].null_count() == bounded.table.height
    assert bounded.bins.equals(eager.bins)
    assert any("ks_statistic" in note and "max_exact_rows=100" in note for note in bounded.notes)


def test_thresholds_per_statistic_and_per_column(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    default = compute_drift(baseline, current)
    strict = compute_drift(baseline, current, thresholds={"population_stability_index": 0.0001})
    assert set(strict.table["status"]) == {"drift"}
    assert set(default.table["status"]) != {"drift"}
    by_column = compute_drift(
        baseline, current, thresholds={"population_stability_index": None, "x": {"ks_pvalue": "default"}}
    )
    statuses = dict(zip(by_column.table["column_name"], by_column.table["status"], strict=True))
    assert statuses["x"] == "drift" and statuses["color"] == "ok"  # null rate and unseen share judge it
    quiet = {"population_stability_index": None, "percent_null_delta": None, "unseen_category_share": None}
    nothing = compute_drift(baseline, current, thresholds=quiet)
    assert nothing.table["status"].null_count() == nothing.table.height
    with pytest.raises(UnknownStatistic, match="population_stability_index"):
        compute_drift(baseline, current, thresholds={"psi": 0.2})
    with pytest.raises(UnknownStatistic, match="js_distance"):
        compute_drift(baseline, current, statistics=["jsd"])


def test_requested_columns(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    report = compute_drift(baseline, current, columns=["x", "color"], statistics=["js_distance"])
    assert sorted(report.table["column_name"].unique()) == ["color", "x"]
    assert report.table["population_stability_index"].null_count() == report.table.height
    assert report.table["js_distance"].null_count() == 0
    with pytest.raises(UnknownColumn, match="'nope'"):
        compute_drift(baseline, current, columns=["x", "nope"])


def test_baseline_bins_from_sorted_values_match_the_current_side_counting() -> None:
    # values sitting exactly on the decile edges, infinities, NaN and nulls
    values = [float(v % 7) for v in range(200)] + [math.inf, -math.inf, -math.inf, float("nan"), None]
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    report = compute_drift(frame, frame)
    bins = report.bins.row(0, named=True)
    assert bins["baseline_counts"] == bins["current_counts"]
    assert bins["current_counts"][0] >= 2 and bins["current_counts"][-1] == 2
    assert sum(bins["baseline_counts"]) == len(values)


def test_empty_current_data_is_said_in_the_status_and_a_note(baseline: pl.DataFrame) -> None:
    empty = baseline.clear()
    for report in (compute_drift(baseline, empty, time_column="ts", granularity="1d"), compute_drift(baseline, empty)):
        assert report.table.height == 4  # one row per column, for the one (empty) window
        assert set(report.table["count"]) == {0}
        assert set(report.table["status"]) == {"empty"}
        assert report.table["drifted"].null_count() == report.table.height
        assert report.table["population_stability_index"].null_count() == report.table.height
        assert any("no rows" in note for note in report.notes)
    nulls = baseline.head(5).with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("ts"))
    report = compute_drift(baseline, nulls, time_column="ts", granularity="1d")
    assert set(report.table["status"]) == {"empty"}
    assert any("5 row(s) with a null or empty 'ts'" in note for note in report.notes)


def test_rows_out_of_time_order_give_the_same_report(baseline: pl.DataFrame, current: pl.DataFrame) -> None:
    """Shuffled rows, in memory and as a LazyFrame (read one column at a time for KS and
    Wasserstein, each reordered by window on its own)."""
    ordered = compute_drift(baseline, current, time_column="ts", granularity="1d")
    shuffled = current.sample(fraction=1.0, shuffle=True, seed=5)
    assert shuffled["ts"].to_list() != current["ts"].to_list()
    for frame in (shuffled, shuffled.lazy()):
        report = compute_drift(baseline, frame, time_column="ts", granularity="1d")
        assert report.table.filter(pl.col("column_name").is_in(["x", "y"]))["ks_statistic"].null_count() == 0
        assert_frame_equal(report.table, ordered.table, rel_tol=1e-12, abs_tol=1e-12)
        assert_frame_equal(report.profile, ordered.profile, rel_tol=1e-12, abs_tol=1e-12)


def test_share_moving_between_rare_categories_is_not_pooled_away() -> None:
    rng = np.random.default_rng(3)
    names = np.array([f"v{i:04d}" for i in range(1000)])
    base = pl.DataFrame({"c": rng.choice(names, 200_000)})
    same = pl.DataFrame({"c": rng.choice(names, 500)})
    assert _row(compute_drift(base, same), "c")["status"] == "ok"  # sparse but unchanged: pooled
    piled = pl.DataFrame({"c": np.repeat(names[:50], 10)})  # 500 rows on 50 of the 1,000 categories
    row = _row(compute_drift(base, piled), "c")
    assert row["population_stability_index"] > 1 and row["status"] == "drift"
    # in a 15-row window every category is rare; all of it on the one that had 40% is a change
    colors = pl.DataFrame({"color": ["red", "green", "blue", "green", "red"] * 200})
    moved = _row(compute_drift(colors, pl.DataFrame({"color": ["red"] * 15})), "color")
    assert moved["status"] == "drift"
    assert stats.chisquare([15, 0, 0], [6, 6, 3]).pvalue < 1e-4  # what the pooling guard sees


def test_pooled_bins_keep_baseline_and_new_categories_apart() -> None:
    ref = np.array([[5000, 5000, 3, 2, 0, 0, 10]])  # two common, two rare known, two new, null
    cur = np.array([[50, 50, 0, 0, 2, 1, 0]])
    pooled_ref, pooled_cur = pool_rare(ref, cur, 20, known=4)
    assert pooled_ref[0].tolist() == [5000, 5000, 0, 0, 0, 0, 10, 5, 0]  # ..., null, __other__, __unseen__
    assert pooled_cur[0].tolist() == [50, 50, 0, 0, 0, 0, 0, 0, 3]


def test_heavy_ties_get_a_bin_of_their_own() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([np.zeros(700), rng.uniform(0, 1, 300)])
    edges = fit_baseline(pl.DataFrame({"x": values})).bin_edges("x")
    assert edges[1] == 0.0 and edges[2] == np.nextafter(0.0, 1.0)  # zero alone in [0, 0+)
    nudged = pl.DataFrame({"x": np.concatenate([np.full(700, 1e-6), rng.uniform(0, 1, 300)])})
    assert _row(compute_drift(pl.DataFrame({"x": values}), nudged), "x")["status"] == "drift"


def test_an_empty_baseline_is_an_error_naming_it(baseline: pl.DataFrame) -> None:
    from mlobs_notebook.errors import InputError

    with pytest.raises(InputError, match="the baseline has no rows"):
        compute_drift(baseline.clear(), baseline, time_column="ts", granularity="1d")
