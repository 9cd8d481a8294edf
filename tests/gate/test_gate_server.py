"""The gate and the drift write-back over a real ``mlflow server`` on 127.0.0.1 (integration).

The server serves a copy of the gate world (tests/gate/conftest.py) and is stopped by killing its
process group. The same calls as on sqlite must give the same outcomes over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace

import pytest

from mlobs_notebook.cli import main

pytest_plugins = ["tests.mlflow_fixtures"]
pytestmark = pytest.mark.integration

MODEL = "churn_model"


@pytest.fixture(scope="module")
def gate_server(gate_template, tmp_path_factory):
    from mlflow_fixtures import _free_port, _wait_healthy

    folder = tmp_path_factory.mktemp("gate-server")
    shutil.copyfile(gate_template.path / "mlflow.db", folder / "mlflow.db")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--default-artifact-root", (folder / "artifacts").as_uri(),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
        try:
            _wait_healthy(url, process, timeout=180)  # a loaded 2-core CI box starts it slowly
            yield replace(gate_template, tracking_uri=url)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)




def _cli(world, *args):
    return main(["gate", "--tracking-uri", world.tracking_uri, "--model", MODEL, "--min", "0.9", *args])


def test_failing_run_over_http_exits_1_and_moves_nothing(gate_server, capsys):
    from gate.test_gate import registry_state

    before = registry_state(gate_server.tracking_uri)
    assert _cli(gate_server, "--run-id", gate_server.bad_run) == 1
    err = capsys.readouterr().err
    assert "REJECTED" in err and "FAIL metric" in err and "FAIL drift" in err
    assert registry_state(gate_server.tracking_uri) == before


def test_passing_run_over_http_is_promoted_once(gate_server, capsys):
    from gate.test_gate import aliases, registry_state

    assert _cli(gate_server, "--run-id", gate_server.good_run, "--no-regression") == 0
    assert "registered v3 as @staging; v1 keeps @previous_staging" in capsys.readouterr().out
    held = aliases(gate_server.tracking_uri)
    assert (held["staging"], held["previous_staging"], held["production"]) == (3, 1, 2)
    after = registry_state(gate_server.tracking_uri)

    assert _cli(gate_server, "--run-id", gate_server.good_run, "--no-regression") == 0
    assert "nothing changed" in capsys.readouterr().out
    assert registry_state(gate_server.tracking_uri) == after


def test_bad_input_over_http_exits_2(gate_server, capsys):
    cases = [
        (("--run-id", "0123456789abcdef0123456789abcdef"), "no run '0123456789abcdef0123456789abcdef'"),
        (("--run-id", gate_server.no_model_run), "logged no model"),
        (("--run-id", gate_server.good_run, "--metric", "f1"), "logged no metric 'f1'"),
    ]
    for args, expected in cases:
        assert _cli(gate_server, *args) == 2, args
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


def test_unreachable_server_is_bad_input_named_quickly(capsys):
    from mlflow_fixtures import _free_port

    url = f"http://127.0.0.1:{_free_port()}"
    assert main(["gate", "--tracking-uri", url, "--model", MODEL, "--min", "0.9",
                 "--run-id", "0" * 32]) == 2
    assert url in capsys.readouterr().err


def test_drift_metrics_over_http_read_back(gate_server):
    import numpy as np
    import polars as pl

    from mlobs_notebook.actions.writeback import log_drift, metric_key
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.sources.evaluations import metric_series

    frame = gate_server.template.training_frame
    current = frame.with_columns(  # day 2 shifts sessions_7d
        pl.col("sessions_7d") + (pl.col("user_id") % 2) * 5.0,
        (pl.datetime(2026, 4, 1) + pl.duration(days=pl.col("user_id") % 2)).alias("ts"),
    )
    report = compute_drift(frame, current, time_column="ts", granularity="1d")
    logged = log_drift(report, run_id=gate_server.good_run, tracking_uri=gate_server.tracking_uri)
    series = metric_series(gate_server.good_run, metric=metric_key("sessions_7d", "population_stability_index"),
                           run_id=gate_server.good_run, tracking_uri=gate_server.tracking_uri)
    expected = report.table.filter((pl.col("column_name") == "sessions_7d") & (pl.col("drift_type") == "BASELINE"))
    np.testing.assert_allclose(series["value"].to_numpy(), expected.sort("window_start")["population_stability_index"].to_numpy())
    assert log_drift(report, run_id=gate_server.good_run, tracking_uri=gate_server.tracking_uri).skipped
    assert not logged.skipped
