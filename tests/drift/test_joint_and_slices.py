"""Multivariate drift (reconstruction error against an independent PCA by SVD; the domain
classifier on a shuffled column), slices (PSI inside a slice against a hand computation) and
weekly seasonality (weekday-matched baselines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.drift import compute_drift
from mlobs_notebook.drift.multivariate import multivariate_drift
from mlobs_notebook.drift.seasonal import seasonal_drift, weekly_seasonal_columns
from mlobs_notebook.drift.slices import (
    carrier,
    categorical_slices,
    parse_slicing_exprs,
    slice_drift,
)
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


def _frame(days: int, rows: int, seed: int, shuffle_from: int | None = None, start: datetime = START) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for day in range(days):
        x = rng.normal(size=rows)
        y = x + 0.4 * rng.normal(size=rows)  # y follows x closely
        if shuffle_from is not None and day >= shuffle_from:
            y = rng.permutation(y)
        parts.append(pl.DataFrame({
            "x": x, "y": y, "z": rng.normal(size=rows), "kind": rng.choice(["a", "b", "c"], rows),
            "window_start": [start + timedelta(days=day)] * rows,
        }))
    return pl.concat(parts).with_columns(pl.col("window_start").cast(pl.Datetime("us", "UTC")))


@pytest.fixture(scope="module")
def shuffled():
    baseline = _frame(12, 400, 1, start=START - timedelta(days=12))
    current = _frame(10, 400, 2, shuffle_from=6)
    return baseline, current, multivariate_drift(baseline, current, ["x", "y", "z", "kind"])


def test_a_shuffled_column_moves_the_joint_distribution_and_not_its_marginal(shuffled):
    baseline, current, result = shuffled
    table = result.table
    assert table["drifted"].to_list() == [False] * 6 + [True] * 4
    assert table["classifier_auroc"][:6].max() < 0.58 < 0.62 < table["classifier_auroc"][6:].min()
    assert table["reconstruction_alert"][6:].all()
    assert result.leaned_on[0][0] in ("x", "y") and {f for f, _ in result.leaned_on} <= {"x", "y"}
    # the marginals hold: per-feature PSI stays far below its drift level in every window
    marginal = compute_drift(baseline.drop("window_start"), current.with_columns(t=pl.col("window_start")),
                             time_column="t", granularity="1d")
    assert not marginal.table.filter(pl.col("drift_type") == "BASELINE")["drifted"].any()


def test_reconstruction_error_is_nannymls_definition(shuffled):
    baseline, current, result = shuffled
    shares = baseline["kind"].value_counts(normalize=True)
    share = dict(zip(shares["kind"].to_list(), shares["proportion"].to_list(), strict=True))

    def encode(frame):
        kind = np.array([share[k] for k in frame["kind"].to_list()])
        return np.column_stack([frame["x"], frame["y"], frame["z"], kind])

    base = encode(baseline)
    mean, std = base.mean(axis=0), base.std(axis=0)
    _, s, vt = np.linalg.svd((base - mean) / std, full_matrices=False)
    explained = np.cumsum(s**2) / np.sum(s**2)
    k = int(np.searchsorted(explained, 0.65) + 1)  # PCA(n_components=0.65): the fewest reaching 65%
    assert result.components == k
    components = vt[:k]
    for i, start in enumerate(current["window_start"].unique().sort()):
        z = (encode(current.filter(pl.col("window_start") == start)) - mean) / std
        residual = z - z @ components.T @ components
        assert result.table["reconstruction_error"][i] == pytest.approx(np.linalg.norm(residual, axis=1).mean(), rel=1e-6)
    errors = [np.linalg.norm(((encode(p) - mean) / std) - ((encode(p) - mean) / std) @ components.T @ components, axis=1).mean()
              for _, p in baseline.group_by("window_start", maintain_order=True)]
    assert result.table["reconstruction_upper_threshold"][0] == pytest.approx(np.mean(errors) + 3 * np.std(errors), rel=1e-6)


def test_no_joint_drift_between_samples_of_one_distribution():
    result = multivariate_drift(_frame(10, 300, 3), _frame(8, 300, 4), ["x", "y", "z"])
    assert not result.table["drifted"].any() and result.leaned_on == ()
    few = multivariate_drift(_frame(3, 50, 3), _frame(2, 50, 4), ["x"])
    assert not few.table["drifted"].any() and "two features" in few.notes[0]


def test_infinities_and_nan_read_as_missing_in_the_joint_distribution():
    """Real feature tables hold inf and NaN (a division by zero upstream): the joint step imputes
    them as it imputes nulls, instead of failing inside scikit-learn."""
    baseline, current = _frame(10, 300, 3), _frame(8, 300, 4)
    rng = np.random.default_rng(5)
    spoiled = current.with_columns(
        x=pl.when(pl.Series(rng.random(current.height) < 0.05)).then(float("inf")).otherwise(pl.col("x")),
        z=pl.when(pl.Series(rng.random(current.height) < 0.05)).then(float("nan")).otherwise(pl.col("z")),
    )
    assert spoiled["x"].is_infinite().sum() > 0
    base_spoiled = baseline.with_columns(y=pl.when(pl.int_range(pl.len()) == 0).then(-float("inf")).otherwise(pl.col("y")))
    result = multivariate_drift(base_spoiled, spoiled, ["x", "y", "z"])
    errors = result.table["reconstruction_error"].to_numpy()
    assert len(errors) == 8 and np.isfinite(errors).all()


def _psi(b: np.ndarray, c: np.ndarray, edges: np.ndarray) -> float:
    pb = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1) / len(b)
    pc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=len(edges) + 1) / len(c)
    pb, pc = np.where(pb == 0, 1e-4, pb), np.where(pc == 0, 1e-4, pc)
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def test_the_slice_that_carries_a_drift_is_named():
    baseline = _frame(6, 500, 5)
    current = _frame(6, 500, 6).with_columns(
        x=pl.when(pl.col("kind") == "b").then(0.0).otherwise(pl.col("x"))  # one segment's values zeroed
    )
    slices = categorical_slices(baseline, ["kind", "x"])  # x is numeric: no slices from it
    assert [s.name for s in slices] and all(s.name.startswith("kind = ") for s in slices)
    found = slice_drift(baseline, current, "x", slices)
    top = carrier(found)
    assert top is not None and top.slice == "kind = 'b'" and top.carries and not top.vanished
    edges = np.unique(np.quantile(baseline["x"].to_numpy(), np.arange(1, 10) / 10))
    inside = baseline.filter(pl.col("kind") == "b")["x"].to_numpy(), current.filter(pl.col("kind") == "b")["x"].to_numpy()
    assert top.psi == pytest.approx(_psi(*inside, edges), rel=1e-9)
    assert top.rest_psi < 0.1 and top.current_mean == 0.0
    assert "carried by the slice kind = 'b'" in top.sentence()
    gone = current.filter(pl.col("kind") != "c")
    assert carrier(slice_drift(baseline, gone, "z", slices)).slice == "kind = 'c'"
    assert "lost its rows" in carrier(slice_drift(baseline, gone, "z", slices)).sentence()


def test_slicing_expressions_as_databricks_has_them():
    frame = _frame(2, 200, 7)
    names = [s.name for s in parse_slicing_exprs(["kind", "x > 1", "kind = 'a' AND z < 0"], frame)]
    assert set(names[:3]) == {"kind = 'a'", "kind = 'b'", "kind = 'c'"}
    assert names[3:] == ["x > 1", "kind = 'a' AND z < 0"]
    with pytest.raises(InputError, match="no_such_column"):
        parse_slicing_exprs(["no_such_column > 3"], frame)


def test_weekly_seasonality_is_found_and_each_day_is_compared_with_its_weekday():
    rng = np.random.default_rng(8)

    def weeks(start: datetime, days: int) -> pl.DataFrame:
        rows = []
        for day in range(days):
            when = start + timedelta(days=day)
            weekend = when.weekday() >= 5
            n = 400
            rows.append(pl.DataFrame({
                "visits": rng.poisson(9 if weekend else 3, n).astype(float), "amount": rng.normal(size=n),
                "t": [when + timedelta(hours=int(h)) for h in rng.integers(0, 24, n)],
            }))
        frame = pl.concat(rows).with_columns(pl.col("t").cast(pl.Datetime("us", "UTC")))
        return frame.with_columns(window_start=pl.col("t").dt.truncate("1d"))

    baseline, current = weeks(START - timedelta(days=21), 21), weeks(START, 14)
    assert weekly_seasonal_columns(baseline, ["visits", "amount"], Granularity(1, "d")) == ("visits",)
    assert weekly_seasonal_columns(baseline, ["visits"], Granularity(1, "h")) == ()
    pooled = compute_drift(baseline.drop("window_start", "t"), current.drop("window_start"), time_column="t", granularity="1d")
    matched = seasonal_drift(baseline, current, "t", Granularity(1, "d"), pooled)

    def weekend_drift(report):
        rows = report.table.filter((pl.col("drift_type") == "BASELINE") & (pl.col("column_name") == "visits"))
        return rows.filter(pl.col("window_start").dt.weekday() >= 6)["drifted"].to_list()

    assert all(weekend_drift(pooled)) and not any(weekend_drift(matched))
    assert matched.table.height == pooled.table.height and "same weekday" in matched.notes[-1]
    consecutive = pl.col("drift_type") == "CONSECUTIVE"
    assert matched.table.filter(consecutive).equals(pooled.table.filter(consecutive))


def test_the_held_out_auc_is_scikit_learns():
    from sklearn.metrics import roc_auc_score

    from mlobs_notebook.drift.multivariate import _auc_against

    rng = np.random.default_rng(12)
    negatives, positives = np.round(rng.normal(size=700), 1), np.round(rng.normal(0.4, 1, size=300), 1)  # ties
    expected = roc_auc_score(np.r_[np.zeros(700), np.ones(300)], np.r_[negatives, positives])
    assert _auc_against(np.sort(negatives), positives) == pytest.approx(expected, abs=1e-12)
