"""The same evidence at two granularities gives the same verdict (../shared/cases/investigate/hourly_verdict).

A feature shifts at 06:00 on 2 January; an upstream job's definition changed at 05:00 that day;
the metric falls from 3 January. At ``1h`` the onset keeps its hour (06:00) all the way to the
verdict, so the 05:00 change is inside the suspect window; at ``1d`` the onset is 2 January.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from mlobs_notebook.correlate import MetricDrop, drift_onsets, drift_series
from mlobs_notebook.diagnose import UpstreamChange, diagnose
from mlobs_notebook.drift import compute_drift

SHIFT = datetime(2026, 1, 2, 6)
CHANGE = UpstreamChange("etl.sessionize", "r1", datetime(2026, 1, 2, 5, tzinfo=UTC), "job_definition",
                        "job definition changed", 1, True)
DROP = MetricDrop("auc", 0.9, 0.02, datetime(2026, 1, 3, tzinfo=UTC), 0.8, 0.8, 30, "threshold")


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(0)
    baseline = pl.DataFrame({"x": rng.normal(size=20_000)})
    n = 5 * 24 * 200  # five days, 200 rows an hour
    ts = [datetime(2026, 1, 1) + timedelta(seconds=18 * i) for i in range(n)]
    shift = np.array([0.0 if t < SHIFT else 1.0 for t in ts])
    return baseline, pl.DataFrame({"t": ts, "x": rng.normal(size=n) + shift})


@pytest.mark.parametrize(("granularity", "onset"), [("1h", datetime(2026, 1, 2, 6, tzinfo=UTC)),
                                                    ("1d", datetime(2026, 1, 2, tzinfo=UTC))])
def test_pipeline_bug_at_both_granularities_with_the_onset_kept(frames, granularity, onset):
    baseline, current = frames
    report = compute_drift(baseline, current, time_column="t", granularity=granularity)
    [found] = drift_onsets(drift_series(report))
    assert found.onset == onset
    diagnosis = diagnose([found], DROP, {"x": [CHANGE]}, granularity=report.granularity)
    assert diagnosis.verdict == "pipeline_bug", diagnosis.evidence
    assert diagnosis.suspects[0].run_id == "r1"
    assert diagnosis.suspect_windows["x"][1] == report.granularity.add(onset, 1)


def test_an_hourly_onset_truncated_to_its_day_would_miss_the_change(frames):
    """What the case reproduced: the same onset without its hour reads as data drift."""
    baseline, current = frames
    [found] = drift_onsets(drift_series(compute_drift(baseline, current, time_column="t", granularity="1h")))
    midnight = found.onset.replace(hour=0)
    truncated = type(found)(found.feature, midnight, found.drifted_windows, found.windows, found.peak_value,
                            found.value_at_onset, found.statistic)
    assert diagnose([truncated], DROP, {"x": [CHANGE]}, granularity="1h").verdict == "data_drift"
