"""require_significance: on small windows a PSI past 0.2 is mostly chance; a flag stays only where
the KS or chi-squared test rejects "same distribution" at alpha. Checked against scipy's tests
and on windows drawn from the baseline's own distribution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from mlobs_notebook.correlate import drift_onsets, drift_series
from mlobs_notebook.drift import compute_drift
from mlobs_notebook.drift.significance import DEFAULT_ALPHA, require_significance

WINDOWS = 60
ROWS = 30


def _frames(shift_from: int | None, seed: int = 3):
    rng = np.random.default_rng(seed)
    base = pl.DataFrame({"latency": rng.gamma(2.0, 200.0, 80), "product": rng.choice(["a", "b", "c"], 80, p=[.5, .3, .2])})
    rows = []
    for w in range(WINDOWS):
        shifted = shift_from is not None and w >= shift_from
        latency = rng.gamma(2.0, 200.0, ROWS) * (3.0 if shifted else 1.0)
        product = rng.choice(["a", "b", "c", "d"], ROWS, p=[.2, .1, .1, .6] if shifted else [.5, .3, .2, 0])
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=w)
        rows.append(pl.DataFrame({"latency": latency, "product": product,
                                  "t": [start + timedelta(minutes=i) for i in range(ROWS)]}))
    return base, pl.concat(rows)


def _baseline_rows(report):
    return report.table.filter(pl.col("drift_type") == "BASELINE").sort("column_name", "window_start")


def test_chance_flags_are_withdrawn_and_real_shifts_stay():
    base, current = _frames(shift_from=40)
    raw = compute_drift(base, current, time_column="t", granularity="1d", min_category_count=5)
    judged = _baseline_rows(require_significance(raw))
    before = _baseline_rows(raw)
    quiet = pl.col("window_start") < datetime(2026, 2, 10, tzinfo=UTC)
    assert before.filter(quiet)["drifted"].sum() > 5  # PSI alone: chance passes 0.2 on 30 rows
    assert judged.filter(quiet)["drifted"].sum() <= 1
    # a threefold latency and a new product are real: flagged (nearly) every window, onset on the day
    assert judged.filter(~quiet)["drifted"].mean() > 0.95
    onsets = {o.feature: o.onset for o in drift_onsets(drift_series(require_significance(raw)))}
    assert onsets == {"latency": datetime(2026, 2, 10, tzinfo=UTC), "product": datetime(2026, 2, 10, tzinfo=UTC)}


def test_the_p_values_read_are_scipys():
    """The KS p-value is the limiting Kolmogorov distribution (scipy's kstwobign) at scipy's
    statistic, never below scipy's finite-sample p-value by more than rounding (conservative)."""
    base, current = _frames(shift_from=None, seed=5)
    report = compute_drift(base, current, time_column="t", granularity="1d", min_category_count=5)
    rows = _baseline_rows(report).filter(pl.col("column_name") == "latency").head(5)
    reference = base["latency"].to_numpy()
    for row in rows.iter_rows(named=True):
        window = current.filter(pl.col("t").dt.truncate("1d") == row["window_start"])["latency"].to_numpy()
        test = stats.ks_2samp(reference, window, method="asymp")
        n, m = len(reference), len(window)
        assert row["ks_pvalue"] == pytest.approx(stats.kstwobign.sf(test.statistic * np.sqrt(n * m / (n + m))))
        assert row["ks_pvalue"] >= test.pvalue - 1e-9


def test_withdrawn_flags_become_warnings_and_the_note_counts_them():
    base, current = _frames(shift_from=None, seed=7)
    raw = compute_drift(base, current, time_column="t", granularity="1d", min_category_count=5)
    judged = require_significance(raw, alpha=DEFAULT_ALPHA)
    flipped = _baseline_rows(raw).filter(pl.col("drifted")).height - _baseline_rows(judged).filter(pl.col("drifted")).height
    assert flipped > 0
    was = raw.table.filter(pl.col("drifted")).select("window_start", "column_name", "drift_type")
    now = judged.table.join(was, on=["window_start", "column_name", "drift_type"])
    assert set(now.filter(~pl.col("drifted"))["status"]) == {"warn"}
    assert str(raw.table.filter(pl.col("drifted")).height - judged.table.filter(pl.col("drifted")).height) in judged.notes[-1]


def test_a_rise_of_nulls_stays_drift_though_the_values_left_are_alike():
    """percent_null_delta judges data quality, not a distance: the tests do not withdraw it."""
    rng = np.random.default_rng(9)
    base = pl.DataFrame({"amount": rng.normal(0, 1, 400)})
    rows = []
    for w in range(10):
        values = rng.normal(0, 1, ROWS)
        if w >= 5:
            values[: ROWS // 2] = np.nan  # half the window goes missing; what is left is unchanged
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=w)
        rows.append(pl.DataFrame({"amount": values, "t": [start + timedelta(minutes=i) for i in range(ROWS)]})
                    .with_columns(pl.col("amount").fill_nan(None)))
    report = compute_drift(base, pl.concat(rows), time_column="t", granularity="1d")
    gated = _baseline_rows(require_significance(report))
    late = gated.filter(pl.col("window_start") >= datetime(2026, 1, 6, tzinfo=UTC))
    assert late["percent_null_delta_drifted"].all() and late["drifted"].all()
    assert (late["ks_pvalue"] > DEFAULT_ALPHA).all()  # the KS alone would have withdrawn them
    # the null-rate test is the pooled two-proportion z-test: scipy's uncorrected 2x2 chi-squared
    from mlobs_notebook.drift.significance import _null_rate_pvalue

    row = late.row(0, named=True)
    n, m = row["reference_count"], row["count"]
    a, b = round(row["reference_null_rate"] * n), round(row["current_null_rate"] * m)
    expected = stats.chi2_contingency([[a, n - a], [b, m - b]], correction=False)[1]
    assert late.head(1).select(_null_rate_pvalue())[0, 0] == pytest.approx(expected, rel=1e-9)
    # a small window's null rate moving by chance is withdrawn like any chance flag
    calm = _baseline_rows(require_significance(report)).filter(pl.col("window_start") < datetime(2026, 1, 6, tzinfo=UTC))
    assert not calm["drifted"].fill_null(False).any()


def test_a_two_digit_year_read_by_percent_capital_y_is_refused():
    from mlobs_notebook.errors import InputError

    current = pl.DataFrame({"ts": ["03/20/24 00:04", "03/21/24 10:00"], "x": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"'ts' holds 0024-03-20, outside 1900-2200.*%y"):
        compute_drift(pl.DataFrame({"x": [1.0, 2.0]}), current, time_column="ts", time_format="%m/%d/%Y %H:%M",
                      granularity="1d")
    report = compute_drift(pl.DataFrame({"x": [1.0, 2.0]}), current, time_column="ts", time_format="%m/%d/%y %H:%M",
                           granularity="1d")
    assert report.table["window_start"].min().year == 2024
