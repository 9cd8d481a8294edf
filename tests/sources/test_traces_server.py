"""Traces read from a real ``mlflow server`` on 127.0.0.1 (integration): the API path, paged over
HTTP, gives the frame the SQL path gives on the same store."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys

import pytest
from polars.testing import assert_frame_equal

from mlobs_notebook.sources.traces import read_traces

pytest_plugins = ["tests.mlflow_fixtures"]
pytestmark = pytest.mark.integration

ATTRIBUTE = "rag_assistant:query.product"


@pytest.fixture(scope="module")
def server(rag_worlds, tmp_path_factory):
    from mlflow_fixtures import _free_port, _wait_healthy

    world = rag_worlds[1]["rag_prompt_change"]
    folder = tmp_path_factory.mktemp("traces-server")
    shutil.copyfile(f"{world.path}/mlflow.db", folder / "mlflow.db")
    url = f"http://127.0.0.1:{_free_port()}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root", (folder / "artifacts").as_uri(), "--host", "127.0.0.1",
        "--port", url.rsplit(":", 1)[1], "--workers", "1",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            _wait_healthy(url, process, timeout=180)
            yield url, world
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def test_the_api_over_http_reads_what_sql_reads(server):
    url, world = server
    over_http = read_traces(world.experiment, tracking_uri=url, span_attributes=[ATTRIBUTE], page_size=250)
    assert over_http.method == "api"
    local = read_traces(world.experiment, tracking_uri=world.tracking_uri, span_attributes=[ATTRIBUTE], method="sql")
    assert_frame_equal(over_http.features, local.features)
    assert_frame_equal(over_http.assessments.sort("assessment_id"), local.assessments.sort("assessment_id"))
    assert over_http.features["model_id"].n_unique() == 2  # both app versions served


def test_sql_is_refused_on_a_server_naming_why(server):
    from mlobs_notebook.errors import InputError

    url, world = server
    with pytest.raises(InputError, match="not a local sqlite file"):
        read_traces(world.experiment, tracking_uri=url, method="sql")
