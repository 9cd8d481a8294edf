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
def empty_store(tmp_path_factory):
    """An empty MLflow sqlite store (its schema takes ~9 s to create), copied by the worlds of
    tests/investigation_worlds.py and tests/incident_worlds.py."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("empty-store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()  # creates the schema
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


RAG_DAYS = 24
RAG_TRACES_PER_DAY = 30
RAG_SCENARIOS = ("rag_index_bug", "rag_topic_shift", "rag_prompt_change")


@pytest.fixture(scope="session")
def rag_worlds(tmp_path_factory):
    """The three rag_assistant worlds (24 days, 30 traces a day), each built and investigated by
    ``mlobs demo --scenario rag_*`` as a user runs it, two at a time (CI has two cores), in
    ``<root>/<scenario>``: the layout notebook 06 reads from MLOBS_RAG_DIR. Returns (root,
    manifests, what each command printed). Read-only."""
    import subprocess
    import sys
    import time

    from mlobs_notebook.demo import load_manifest

    prebuilt = os.environ.get("MLOBS_RAG_WORLDS")  # to iterate quickly: worlds this fixture built before
    if prebuilt:
        root = Path(prebuilt)
        return root, {s: load_manifest(root / s) for s in RAG_SCENARIOS}, {
            s: (root / f"{s}.log").read_text() for s in RAG_SCENARIOS}
    root = tmp_path_factory.mktemp("rag")
    pending, running, printed = list(RAG_SCENARIOS), {}, {}
    deadline = time.monotonic() + 1200
    while pending or running:
        while pending and len(running) < 2:
            scenario = pending.pop(0)
            out = open(root / f"{scenario}.log", "w+")  # noqa: SIM115 - closed below
            command = [sys.executable, "-m", "mlobs_notebook.cli", "demo", "--scenario", scenario, "--out",
                       str(root / scenario), "--days", str(RAG_DAYS), "--traces-per-day", str(RAG_TRACES_PER_DAY)]
            running[scenario] = (subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT), out)
        done = [s for s, (p, _) in running.items() if p.poll() is not None]
        if not done:
            if time.monotonic() > deadline:
                for p, _ in running.values():
                    p.kill()
                pytest.fail(f"mlobs demo of {', '.join(running)} still running after 20 minutes")
            time.sleep(0.5)
            continue
        scenario = done[0]
        process, out = running.pop(scenario)
        out.seek(0)
        printed[scenario] = out.read()
        out.close()
        assert process.returncode == 0, f"mlobs demo --scenario {scenario} failed:\n{printed[scenario][-3000:]}"
    return root, {s: load_manifest(root / s) for s in RAG_SCENARIOS}, printed
