"""investigate() out of core and on Spark: the same investigation as in memory.

Streaming is forced by lowering the in-memory bounds, so the inputs stay LazyFrames, the
baseline profile keeps no sorted values and reads each column again when KS needs it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from investigation_worlds import LOANS, build

from mlobs_notebook.drift import profile as profile_module
from mlobs_notebook.errors import MlobsError
from mlobs_notebook.investigation import frames, investigate

EXACT = ["count", "reference_count", "population_stability_index", "js_distance", "current_null_rate", "status"]
CLOSE = ["avg_delta", "ks_statistic", "wasserstein_distance"]


# fewer rows a day than the LOANS world of test_investigation: the Spark run sorts every window
# against the baseline, and the drift is large enough to be found either way
SPEC = dataclasses.replace(LOANS, rows=500)


@pytest.fixture(scope="module")
def loans(tmp_path_factory, empty_store):
    world = build(SPEC, tmp_path_factory.mktemp("scale") / SPEC.name, empty_store)
    kwargs = {"alias": world.alias, "tracking_uri": world.tracking_uri, "metric": SPEC.metric,
              "eval_filter": "tags.stage = 'live'", "time_column": "event_time"}
    return world, kwargs, investigate(world.model, world.current, **kwargs)


def _same_drift(ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    assert ours.schema == theirs.schema and ours.height == theirs.height > 0
    for name in EXACT:
        assert ours[name].equals(theirs[name]), name
    for name in CLOSE:
        np.testing.assert_allclose(ours[name].to_numpy(), theirs[name].to_numpy(), rtol=1e-12, atol=1e-12, err_msg=name)


def test_streamed_out_of_core_equals_in_memory(loans, monkeypatch):
    world, kwargs, in_memory = loans
    monkeypatch.setattr(frames, "IN_MEMORY_BYTES", 0)
    monkeypatch.setattr(frames, "SIGNAL_ROWS", 500)
    monkeypatch.setattr(profile_module, "HELD_REFERENCE_BYTES", 0)
    monkeypatch.setattr(profile_module, "READ_BATCH_BYTES", 1)  # one column per read
    steps = []
    streamed = investigate(world.model, world.current, progress=lambda step, fraction: steps.append((step, fraction)), **kwargs)
    assert streamed.drift.baseline.references_ == {}  # nothing held: each column read again
    assert in_memory.drift.baseline.references_  # in memory, held
    assert streamed.verdict == in_memory.verdict == SPEC.scenario
    # the signals beyond per-feature drift read a bounded sample of each side, and say so
    assert any("every k-th row" in n and "500 rows a side" in n for n in streamed.notes)
    assert not any("every k-th row" in n for n in in_memory.notes)
    _same_drift(in_memory.drift.table, streamed.drift.table)
    windows = in_memory.drift.windows
    drift_steps = [s for s, _ in steps if s.startswith("drift: ")]
    assert drift_steps[0] == f"drift: 0/3 columns, {windows} windows" and drift_steps[-1] == f"drift: 3/3 columns, {windows} windows"
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_on_spark_the_same_investigation(loans, spark):
    world, kwargs, in_memory = loans
    on_spark = investigate(world.model, world.current, engine="spark", spark=spark, **kwargs)
    assert on_spark.verdict == in_memory.verdict
    _same_drift(in_memory.drift.table, on_spark.drift.table)
    assert on_spark.current_range == in_memory.current_range
    # a Spark DataFrame as the current data picks the Spark engine by itself
    frame = spark.read.parquet(world.current)
    assert investigate(world.model, frame, **kwargs).verdict == in_memory.verdict


def test_a_spark_frame_without_the_time_column_is_the_polars_error(loans, spark):
    world, kwargs, _ = loans
    frame = pl.scan_parquet(world.current).collect().drop("event_time")
    with pytest.raises(MlobsError) as polars_error:
        investigate(world.model, frame, **kwargs)
    with pytest.raises(MlobsError) as spark_error:
        investigate(world.model, spark.createDataFrame(frame.to_arrow()), **kwargs)
    assert type(spark_error.value) is type(polars_error.value)
    assert str(spark_error.value) == str(polars_error.value)
    assert "event_time" in str(polars_error.value)
