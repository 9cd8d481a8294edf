"""Notebook 02 in a real JupyterLab, driven by Debian's chromium through Playwright.

The test starts JupyterLab on 127.0.0.1 (a free port, a token, ``--allow-root``) on a copy of
notebook 02 (the stored notebook stays without outputs), runs every cell with the
``runmenu:run-all`` command, waits for the panels, changes the DriftExplorer's feature and checks
in the page that the histogram was redrawn for it (the figures are display outputs the kernel
updates in place), moves the InvestigationPanel to its drift step and checks that its outputs now
hold the explorer's figures. Screenshots go to ``test-artifacts/browser/``.
The browser is /usr/bin/chromium (``apt-get install chromium``), never a downloaded one; the
server is stopped by its process id.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_root_cause_pipeline_bug.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
RUN_ALL_TIMEOUT_MS = 900_000  # the whole notebook, on a busy 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process id (it shuts its kernels down), then its process group
    (started with a new session: the kernels it spawned) if anything is left."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lab(demo_world, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium), "
                    "as .ci/run does")  # fmt: skip
    pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")
    pytest.importorskip("jupyterlab", reason="jupyterlab is in the 'test' extra")
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    settings = home / "settings"
    # no news or update checks: the test machine has no network, and no toast over the page
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    out = home / "postmortems"
    env = {
        **os.environ,
        "MLOBS_DEMO_DIR": demo_world.path,
        "MLOBS_OUTPUT_DIR": str(out),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
        "--ServerApp.port_retries=0",
    ]
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "out": out, "log": log, "proc": proc}
    finally:
        _stop(proc)


def _log(message: str, _t0: list = []) -> None:  # noqa: B006 - one clock for the test run
    _t0 or _t0.append(time.monotonic())
    print(f"[{time.monotonic() - _t0[0]:6.1f} s] {message}", flush=True)


def _histogram_title(explorer) -> str:
    # the DriftExplorer's histogram is the figure whose title reads "<feature>: baseline vs current"
    titles = explorer.locator(".js-plotly-plot .gtitle").all_text_contents()
    return next((t for t in titles if ": baseline vs current" in t), "")


def test_notebook_02_runs_in_jupyterlab_and_the_drift_explorer_responds(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000},
        )  # fmt: skip
        try:
            page = context.new_page()
            _log("opening the notebook")
            page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK}?token={lab['token']}")
            # the kernel is ready when the status bar says so
            page.locator("#jp-main-statusbar").get_by_text("Idle").first.wait_for(timeout=180_000)
            _log("kernel idle; running all cells")
            # not awaited: the command's promise ends with the last cell, which the wait below bounds
            page.evaluate("() => { window.jupyterapp.commands.execute('runmenu:run-all'); }")
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            last = notebook.locator(".jp-Cell.jp-CodeCell").last
            # the last cell (the InvestigationPanel) shows its step buttons when every cell has run
            last.locator(".widget-toggle-buttons").wait_for(timeout=RUN_ALL_TIMEOUT_MS)
            _log("last cell shows its panel")
            page.screenshot(path=str(ARTIFACTS / "01-after-run-all.png"))
            errors = notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = [t for t in errors.all_text_contents() if "Traceback" in t or "Error" in t]
            assert not tracebacks, tracebacks[0][:2000]

            _log("looking for the DriftExplorer")
            explorer_cell = notebook.locator(".jp-CodeCell", has_text="DriftExplorer(inv.drift").first
            explorer = explorer_cell.locator(".jp-Cell-outputArea")
            explorer.scroll_into_view_if_needed()
            feature = explorer.locator(".widget-dropdown", has_text="feature").locator("select").first
            page.wait_for_function(
                "el => [...el.querySelectorAll('.js-plotly-plot .gtitle')].some(t => t.textContent.includes(': baseline vs current'))",
                arg=explorer.element_handle(), timeout=120_000,
            )
            _log("histogram drawn")
            before = _histogram_title(explorer)
            assert before.startswith("user_session_count_7d:"), before
            explorer.screenshot(path=str(ARTIFACTS / "02-drift-explorer-user_session_count_7d.png"))

            options = feature.locator("option").all_text_contents()
            other = next(o for o in options if o.startswith("tenure_days"))
            _log("changing the feature")
            feature.select_option(label=other)
            page.wait_for_function(
                "el => [...el.querySelectorAll('.js-plotly-plot .gtitle')].some(t => t.textContent.startsWith('tenure_days: baseline vs current'))",
                arg=explorer.element_handle(), timeout=60_000,
            )
            _log("histogram redrawn")
            after = _histogram_title(explorer)
            assert after.startswith("tenure_days:") and after != before
            explorer.screenshot(path=str(ARTIFACTS / "03-drift-explorer-tenure_days.png"))

            _log("looking for the LineageExplorer")
            lineage_cell = notebook.locator(".jp-CodeCell", has_text="LineageExplorer(inv.lineage").first
            drawing = lineage_cell.locator(".jp-Cell-outputArea")
            drawing.scroll_into_view_if_needed()
            drawing.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            assert "sessionize" in drawing.inner_text()
            drawing.screenshot(path=str(ARTIFACTS / "04-lineage-explorer.png"))

            _log("looking for the CorrelationPanel")
            correlation = notebook.locator(".jp-CodeCell", has_text="CorrelationPanel(inv, feature=top)").first
            correlation = correlation.locator(".jp-Cell-outputArea")
            correlation.scroll_into_view_if_needed()
            correlation.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
            assert "lead time: 3 days" in correlation.inner_text()
            correlation.screenshot(path=str(ARTIFACTS / "05-correlation-panel.png"))

            _log("moving the stepper to its drift step")
            stepper = last.locator(".jp-Cell-outputArea")
            stepper.scroll_into_view_if_needed()
            # one title per figure drawn: the model step shows the metric, the drift step the explorer's three
            assert stepper.locator(".gtitle").count() == 1
            stepper.locator(".widget-toggle-buttons button", has_text="drift").click()
            stepper.get_by_text("3. drift").wait_for(timeout=60_000)
            page.wait_for_function("el => el.querySelectorAll('.gtitle').length === 3",
                                   arg=stepper.element_handle(), timeout=60_000)  # fmt: skip
            assert any(": baseline vs current" in t for t in stepper.locator(".gtitle").all_text_contents())
            stepper.screenshot(path=str(ARTIFACTS / "06-investigation-drift-step.png"))

            _log("writing the postmortem from the stepper's verdict step")
            stepper.locator(".widget-toggle-buttons button", has_text="verdict").click()
            stepper.get_by_role("button", name="write postmortem").click()
            stepper.get_by_text("postmortem written to").wait_for(timeout=120_000)
            assert stepper.locator(".gtitle").count() == 0 and "Recommendation" in stepper.inner_text()
            stepper.screenshot(path=str(ARTIFACTS / "07-investigation-verdict.png"))
        finally:
            context.close()
    assert (lab["out"] / "postmortem-pipeline-bug.html").exists(), "the notebook's postmortem was not written"
    assert (lab["out"] / "postmortem-from-panel.html").exists(), "the stepper's button wrote no postmortem"
