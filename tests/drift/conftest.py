"""Frames shared by the drift tests: small, seeded, with nulls and several kinds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest


def make_frame(rows: int, seed: int, shift: float = 0.0, start: dt.datetime | None = None) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, rows)
    y = rng.exponential(1.0 + shift, rows)
    y_nulls = rng.random(rows) < 0.05
    start = start or dt.datetime(2024, 1, 1)
    return pl.DataFrame(
        {
            "x": x,
            "y": pl.Series(y).scatter(np.flatnonzero(y_nulls), None),
            "color": rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2]),
            "code": rng.integers(0, 4, rows),
            "ts": pl.datetime_range(start, start + dt.timedelta(minutes=10 * (rows - 1)), "10m", eager=True),
        }
    )


@pytest.fixture(scope="session")
def frame_factory():
    return make_frame


@pytest.fixture(scope="session")
def baseline() -> pl.DataFrame:
    return make_frame(3000, seed=1)


@pytest.fixture(scope="session")
def current() -> pl.DataFrame:
    return make_frame(2000, seed=2, shift=0.3)
