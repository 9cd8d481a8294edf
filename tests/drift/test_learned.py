"""Thresholds learned from the baseline's own windows, NannyML's way, checked against the rule
computed independently (scipy per window, numpy's mean and population std)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlobs_notebook.drift import compute_drift, fit_baseline
from mlobs_notebook.errors import InputError, UnknownColumn

DAY = dt.timedelta(days=1)


def _days(start: dt.datetime, days: int, rows: int, seed: int, shift: float = 0.0, nulls: float = 0.05) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * rows
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < nulls] = np.nan
    return pl.DataFrame({
        "ts": [start + DAY * (i // rows) + dt.timedelta(minutes=i % rows) for i in range(n)],
        "x": x,
        "c": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2] if shift == 0 else [0.3, 0.3, 0.4]),
    }).with_columns(pl.col("x").fill_nan(None))  # fmt: skip


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    baseline = _days(dt.datetime(2024, 1, 1), 20, 300, seed=1)
    current = pl.concat([
        _days(dt.datetime(2024, 2, 1), 5, 300, seed=2),
        _days(dt.datetime(2024, 2, 6), 5, 300, seed=3, shift=0.5, nulls=0.3),
    ])  # fmt: skip
    return baseline, current


@pytest.fixture(scope="module")
def learned(frames: tuple[pl.DataFrame, pl.DataFrame]):
    baseline, current = frames
    return compute_drift(baseline, current, time_column="ts", granularity="1d", thresholds="learned",
                         statistics=["ks_statistic", "js_distance", "chi_squared_pvalue", "percent_null_delta"])  # fmt: skip


def _by_day(frame: pl.DataFrame, column: str) -> list[np.ndarray]:
    days = frame.with_columns(day=pl.col("ts").dt.truncate("1d")).partition_by("day", maintain_order=True)
    return [d[column].drop_nulls().to_numpy() for d in days]


def test_learned_ks_threshold_is_mean_plus_3_std_over_the_baseline_days(frames, learned) -> None:
    baseline, current = frames
    everything = baseline["x"].drop_nulls().to_numpy()
    values = np.array([stats.ks_2samp(day, everything).statistic for day in _by_day(baseline, "x")])
    upper = values.mean() + 3 * values.std(ddof=0)
    used = learned.thresholds.filter(pl.col("drift_type") == "BASELINE", pl.col("column_name") == "x",
                                     pl.col("statistic") == "ks_statistic").row(0, named=True)  # fmt: skip
    assert used["source"] == "learned" and used["baseline_windows"] == 20 and used["lower"] is None
    assert used["upper"] == pytest.approx(upper, rel=1e-9)
    assert used["baseline_std"] == pytest.approx(values.std(ddof=0), rel=1e-9)
    # each current day's own flag is its KS strictly above the threshold
    rows = learned.table.filter(pl.col("drift_type") == "BASELINE", pl.col("column_name") == "x")
    expected = [stats.ks_2samp(day, everything).statistic > upper for day in _by_day(current, "x")]
    assert rows["ks_statistic_drifted"].to_list() == expected
    assert expected[:5] == [False] * 5 and expected[5:] == [True] * 5


def test_consecutive_thresholds_are_learned_from_consecutive_baseline_days(frames, learned) -> None:
    baseline, _ = frames
    days = _by_day(baseline, "x")
    values = np.array([stats.ks_2samp(a, b).statistic for a, b in zip(days[:-1], days[1:], strict=True)])
    used = learned.threshold("x", "ks_statistic", "CONSECUTIVE")
    assert used is not None and used.baseline_windows == 19
    assert used.upper == pytest.approx(values.mean() + 3 * values.std(ddof=0), rel=1e-9)


def test_categorical_js_and_the_null_rate_get_their_own_thresholds(frames, learned) -> None:
    baseline, _ = frames
    shares = baseline["c"].value_counts().sort("c")["count"].to_numpy()
    days = baseline.with_columns(day=pl.col("ts").dt.truncate("1d")).partition_by("day", maintain_order=True)
    js = [jensenshannon(shares, d["c"].value_counts().sort("c")["count"].to_numpy(), base=2) for d in days]
    assert learned.threshold("c", "js_distance").upper == pytest.approx(np.mean(js) + 3 * np.std(js), rel=1e-9)
    # a signed statistic gets both bounds; p-values keep their fixed level, as NannyML's chi2
    rate = baseline["x"].null_count() / baseline.height
    deltas = np.array([100 * (d["x"].null_count() / d.height - rate) for d in days])
    null = learned.threshold("x", "percent_null_delta")
    assert null.upper == pytest.approx(deltas.mean() + 3 * deltas.std(), rel=1e-9, abs=1e-9)
    assert null.lower == pytest.approx(deltas.mean() - 3 * deltas.std(), rel=1e-9, abs=1e-9)
    chi2 = learned.threshold("c", "chi_squared_pvalue")
    assert chi2.source == "default" and chi2.lower == 0.05
    assert learned.threshold("x", "chi_squared_pvalue") is None  # does not apply to a numeric column
    rows = learned.table.filter(pl.col("drift_type") == "BASELINE", pl.col("column_name") == "x")
    assert rows["percent_null_delta_drifted"].to_list() == [False] * 5 + [True] * 5
    assert any("learned from 20 baseline window(s)" in note for note in learned.notes)


def test_given_thresholds_and_learned_ones_mix_per_statistic(frames) -> None:
    baseline, current = frames
    report = compute_drift(baseline, current, time_column="ts", granularity="1d",
                           thresholds={"ks_statistic": "learned", "population_stability_index": 0.5})  # fmt: skip
    assert report.threshold("x", "ks_statistic").source == "learned"
    psi = report.threshold("x", "population_stability_index")
    assert psi.source == "given" and psi.upper == 0.5 and psi.rule == "x >= 0.5"


def test_learned_thresholds_say_what_they_need(frames) -> None:
    baseline, current = frames
    with pytest.raises(UnknownColumn, match=r"(?s)learned thresholds split the baseline into 1d windows by 'ts'.*baseline does not have"):
        compute_drift(baseline.drop("ts"), current, time_column="ts", granularity="1d", thresholds="learned")
    with pytest.raises(InputError, match="not a fitted BaselineProfile"):
        compute_drift(fit_baseline(baseline.drop("ts")), current, time_column="ts", granularity="1d", thresholds="learned")
    with pytest.raises(InputError, match="give time_column and granularity"):
        compute_drift(baseline.drop("ts"), current.drop("ts"), thresholds="learned")
    with pytest.raises(InputError, match="at least 2 baseline windows"):
        compute_drift(baseline, current, time_column="ts", granularity="1mo", thresholds="learned")
    with pytest.raises(InputError, match="mapping or 'learned'"):
        compute_drift(baseline, current, thresholds="nannyml")
