"""Session fixtures shared by every test module.

``demo_world`` builds the default demo world (pipeline_bug, seed 7, 90 days) once per test
session into a temporary folder and hands out its Manifest; tests read it and never write to it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# MLflow and friends stay offline and quiet in tests.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test (saying why) when the folder is not beside the repo."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared is laid beside the repo in CI and dev)")
    return path


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory):
    from mlobs_notebook.demo import build_world

    return build_world(tmp_path_factory.mktemp("demo") / "world")


@pytest.fixture(scope="session")
def spark():
    """A local[2] Spark session, started on first use and stopped when the test session ends.

    pyspark comes from the test extra and Java from Debian (``make test`` and ``.ci/run``
    install openjdk-17-jre-headless when it is missing). Two shuffle partitions and no adaptive
    execution: test frames are small, and each partition is a task.
    """
    from mlobs_notebook.drift.engines.spark_support import local_session

    session = local_session(
        "local[2]", app="mlobs-tests",
        # adaptive execution plans each shuffle as a job of its own: twice the jobs on test-sized data
        config={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.driver.memory": "1g",
                "spark.sql.adaptive.enabled": "false"},
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def world(request):
    """For the plots and panels tests: the session's demo world, or (to iterate quickly) an
    already built one named by MLOBS_PANELS_WORLD, which is only read, never written."""
    prebuilt = os.environ.get("MLOBS_PANELS_WORLD")
    if prebuilt:
        from mlobs_notebook.demo import Manifest

        return Manifest.load(prebuilt)
    return request.getfixturevalue("demo_world")


@pytest.fixture(scope="session")
def demo_drift(world):
    from panels_support import drift_report

    return drift_report(world)


@pytest.fixture(scope="session")
def demo_lineage(world):
    from panels_support import lineage

    return lineage(world)


SCENARIO_DAYS = 60
SCENARIO_ROWS = 3_000


@pytest.fixture(scope="session")
def scenario_worlds(tmp_path_factory):
    """Small worlds of the other scenarios (60 days, 3,000 rows a day), built once per session in
    ``<root>/<scenario>``, the layout notebook 03 reads from MLOBS_SCENARIO_DIR. Read-only."""
    from mlobs_notebook.demo import build_world

    root = tmp_path_factory.mktemp("scenarios")
    worlds = {
        scenario: build_world(root / scenario, scenario=scenario, days=SCENARIO_DAYS, rows_per_day=SCENARIO_ROWS)
        for scenario in ("data_drift", "model_drift", "healthy")
    }
    return root, worlds
