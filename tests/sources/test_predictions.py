"""The metric per window from a predictions log, checked against scikit-learn on each window's
labelled rows (computed here independently with pandas)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import sklearn.metrics as skm

from mlobs_notebook.errors import InputError, UnknownColumn, UnknownMetric
from mlobs_notebook.sources.predictions import PREDICTION_METRICS, prediction_series

START = datetime(2026, 3, 27, tzinfo=UTC)  # a DST change in Berlin on the 29th


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    rng = np.random.default_rng(4)
    n = 6_000
    seconds = np.sort(rng.integers(0, 6 * 86_400, n))
    times = [START + timedelta(seconds=int(s)) for s in seconds]
    label = rng.integers(0, 2, n)
    label[seconds < 86_400 - 3_600] = 1  # the first Berlin day holds one class only: no ROC AUC there
    score = np.clip(0.35 * label + 0.65 * rng.random(n), 0, 1)
    arrived = seconds < 5 * 86_400  # the last day's labels are not in yet
    return pl.DataFrame({"ts": times, "score": score, "label": label}).with_columns(
        pl.col("ts").dt.convert_time_zone("Europe/Berlin"),
        pl.when(pl.Series(arrived)).then(pl.col("label")).alias("label"),
    )


def _expected(log: pl.DataFrame, function, threshold: float | None = None, one_class: bool = True, **kwargs) -> dict:
    frame = log.drop_nulls("label").to_pandas()
    frame["day"] = frame["ts"].dt.date  # windows in the data's zone (Europe/Berlin)
    out = {}
    for day, g in frame.groupby("day"):
        if not one_class and g["label"].nunique() < 2:
            continue
        pred = (g["score"] >= threshold).astype(int) if threshold is not None else g["score"]
        out[day] = function(g["label"], pred, **kwargs)
    return out


@pytest.mark.parametrize("name", sorted(PREDICTION_METRICS))
def test_each_metric_is_scikit_learns_per_window(log, name):
    spec = PREDICTION_METRICS[name]
    kwargs = {"zero_division": 0} if spec.function in ("precision_score", "recall_score", "f1_score") else {}
    kwargs.update({"labels": [0, 1]} if spec.function == "log_loss" else {})
    expected = _expected(log, getattr(skm, spec.function), 0.4 if spec.needs == "class" else None,
                         one_class=spec.needs != "score", **kwargs)
    series, source = prediction_series(log.lazy(), prediction_column="score", label_column="label",
                                       time_column="ts", metric=name, threshold=0.4)
    got = {w.date(): v for w, v in series.select("window_start", "value").iter_rows()}
    if spec.needs == "score":  # the window of one class has no AUC, and says so
        assert START.date() not in got and any("one class of label only" in n for n in source.notes)
    assert got.keys() == expected.keys()
    assert all(got[d] == pytest.approx(expected[d], rel=1e-12, abs=1e-12) for d in got)
    assert source.higher_is_better is spec.higher_is_better


def test_windows_count_labelled_rows_in_the_datas_zone(log):
    series, source = prediction_series(log.lazy(), prediction_column="score", label_column="label",
                                       time_column="ts", metric="accuracy")
    assert str(series["window_start"].dtype.time_zone) == "Europe/Berlin"
    assert all(w.hour == 0 for w in series["window_start"])  # local midnights, across the DST change
    frame = log.to_pandas()
    frame["day"] = frame["ts"].dt.date
    counts = frame.groupby("day")["label"].count()
    assert series["labelled_rows"].to_list() == [int(counts[w.date()]) for w in series["window_start"]]
    assert source.labelled_rows == int(counts.sum()) and source.rows == log.height
    assert any("no labelled rows yet" in n for n in source.notes)


def test_bad_inputs_are_named(log):
    with pytest.raises(UnknownMetric, match="auc, pr_auc, log_loss"):
        prediction_series(log.lazy(), prediction_column="score", label_column="label", time_column="ts", metric="lift")
    with pytest.raises(UnknownColumn, match=r"no column 'proba' \(--prediction-column\). Its columns: ts, score, label"):
        prediction_series(log.lazy(), prediction_column="proba", label_column="label", time_column="ts")
    words = log.with_columns(pl.when(pl.col("label") == 1).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("label"))
    with pytest.raises(InputError, match="label column 'label' .* holds 'no', 'yes'.*binary label"):
        prediction_series(words.lazy(), prediction_column="score", label_column="label", time_column="ts")
