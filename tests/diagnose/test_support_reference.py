"""A reference level that moved: the metric fell inside the windows that set it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from mlobs_notebook.correlate import REFERENCE_POINTS, metric_drop
from mlobs_notebook.diagnose import moving_reference

START = datetime(2026, 3, 1, tzinfo=UTC)


def _series(values: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"window_start": [START + timedelta(days=i) for i in range(len(values))], "value": values})


def test_a_fall_inside_the_reference_windows_is_inconclusive_and_names_the_level_before():
    # the new user's world: AUC about 0.86 for a week, then 0.68 for the rest of the series
    before = [0.90, 0.86, 0.85, 0.78, 0.87, 0.88, 0.81]
    series = _series([*before, *[0.68] * 33])
    drop = metric_drop(series, "auc")
    assert not drop.dropped  # the symptom: the drop hides in the reference's tolerance
    found = moving_reference(series, "auc")
    assert found is not None
    level = float(np.median(before))
    noise = float(np.median(np.abs(np.array(before) - level))) * 1.4826
    assert found.flag.startswith(f"--baseline-value {level:.3f} --tolerance {max(0.02, 3 * noise):.3f}")
    # given that level and tolerance, the drop is found, from the day it happened
    given = metric_drop(series, "auc", baseline_value=level, tolerance=max(0.02, 3 * noise))
    assert given.dropped and given.onset == series["window_start"][7]


def test_a_noisy_but_level_reference_is_no_reason_to_withhold_a_verdict():
    rng = np.random.default_rng(11)
    quiet = 0
    for _ in range(200):
        series = _series(list(0.84 + rng.normal(0, 0.02, 40)))
        quiet += moving_reference(series, "auc") is None
    assert quiet >= 190  # a false "moving" at most 5% of the time (about 1.4% expected)


def test_a_loss_that_rose_inside_the_reference_is_read_the_other_way():
    series = _series([0.30] * 7 + [0.45] * 33)
    assert moving_reference(series, "log_loss", higher_is_better=False) is not None
    assert moving_reference(series, "log_loss", higher_is_better=True) is None


def test_too_short_a_series_is_left_to_the_minimum_rule():
    series = _series([0.9] * 5 + [0.6] * (REFERENCE_POINTS - 6))
    assert moving_reference(series, "auc") is None
