"""Every notebook exported the standard way, ``jupyter nbconvert --to html --execute``, and opened
in Debian's chromium with the network blocked (as behind a firewall): every panel's output holds
its figures, drawn, and nothing of ours is fetched (plotly.js is in the file once). nbconvert's
own page asks CDNs for require.js, MathJax and the widget manager; those requests fail offline and
are the only ones allowed. Notebook 02 is also kept as screenshots in ``test-artifacts/`` and must
stay under 10 MB. The notebook 02 postmortem (``inv.write()``) opens offline the same way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlobs_notebook.cli.export_notebook import PLOTLYJS_SCRIPT
from notebooks.test_notebooks import CELL_TIMEOUT, EXPECTED, NOTEBOOKS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = REPO / "test-artifacts" / "exported-notebook-02"
MAX_BYTES = 10_000_000
# plotly graphs drawn in a panel's output (the InvestigationPanel shows its first step: the model)
FIGURES = {"ModelPicker(": 1, "DriftExplorer(": 3, "LineageExplorer(": 1, "CorrelationPanel(": 3, "InvestigationPanel(": 1}
PANEL = re.compile(r"^(\w+Panel|\w+Explorer|ModelPicker)\(", re.M)
# what nbconvert's page itself asks for (lab template): none of it is ours, none of it is needed
NBCONVERT_CDN = ("cdnjs.cloudflare.com/ajax/libs/require.js", "cdnjs.cloudflare.com/ajax/libs/mathjax",
                 "unpkg.com/@jupyter-widgets/html-manager")  # fmt: skip
PLOTLYJS_TAG = "data-mlobs-plotlyjs"


@pytest.fixture(scope="module")
def exported(notebook_env, tmp_path_factory):
    """name -> the HTML file ``jupyter nbconvert --to html --execute`` wrote for it."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium, as .ci/run does)")
    out = tmp_path_factory.mktemp("exported")
    pages = {}
    for name in sorted(EXPECTED):
        run = subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
             f"--ExecutePreprocessor.timeout={CELL_TIMEOUT}", "--output-dir", str(out), str(NOTEBOOKS / name)],
            capture_output=True, text=True, timeout=4 * CELL_TIMEOUT,
        )  # fmt: skip
        assert run.returncode == 0, f"nbconvert failed on {name}:\n{run.stderr[-4000:]}"
        pages[name] = out / name.replace(".ipynb", ".html")
    return pages


def _open(page, path: Path) -> list[str]:
    """Load ``path`` with every request but file: ones aborted; the URLs that were asked for."""
    asked: list[str] = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (asked.append(route.request.url), route.abort()))  # fmt: skip
    page.goto(path.as_uri(), wait_until="load")
    # every figure of ours marks itself drawn (or says plotly.js is missing, which fails below)
    page.wait_for_function("document.querySelectorAll('.mlobs-figure:not([data-drawn])').length === 0",
                           timeout=60_000)  # fmt: skip
    return asked


def _panel_cells(page) -> list[tuple[str, object]]:
    """(the panel's constructor, the cell) for each code cell that displays a panel."""
    found = []
    for cell in page.locator(".jp-CodeCell").all():
        source = cell.locator(".jp-InputArea-editor").inner_text()
        call = next((c for c in FIGURES if re.search(rf"^{re.escape(c)}", source, re.M)), None)
        if call is None:
            assert not PANEL.search(source), f"a panel this test does not know: {source[:200]}"
            continue
        found.append((call, cell))
    return found


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_panel_of_an_exported_notebook_draws_its_figures_offline(name, exported, browser):
    path = exported[name]
    html = path.read_text()
    panels_expected = len(PANEL.findall("\n".join(c.source for c in _cells(name))))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        asked = _open(page, path)
        ours = [u for u in asked if not any(cdn in u for cdn in NBCONVERT_CDN)]
        assert ours == [], f"{name} asked the network for {ours}"
        assert errors == [], errors
        cells = _panel_cells(page)
        assert len(cells) == panels_expected
        for call, cell in cells:
            outputs = cell.locator(".jp-Cell-outputWrapper")
            drawn = outputs.locator(".js-plotly-plot").count()
            assert drawn == FIGURES[call], f"{name}: {call} drew {drawn} figure(s), not {FIGURES[call]}"
            assert outputs.locator(".mlobs-nojs").count() == 0
        text = page.locator("body").inner_text()
        for expected in EXPECTED[name]:
            assert expected in text, f"{name}: the page does not show {expected!r}"
        if name.startswith("02_"):
            _keep_screenshots(page, cells)
    finally:
        page.close()
    # plotly.js once in the file, whatever the number of figures
    assert html.count(PLOTLYJS_TAG) == (1 if panels_expected else 0)
    assert "cdn.plot.ly" not in PLOTLYJS_SCRIPT.sub("", html)  # (plotly.js names it for maps' topojson)
    if name.startswith("02_"):
        assert path.stat().st_size < MAX_BYTES, f"{name} exported to {path.stat().st_size:,} bytes"


def _cells(name: str):
    import nbformat

    return [c for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells if c.cell_type == "code"]


def _keep_screenshots(page, cells) -> None:
    """The exported notebook 02 as a reader sees it: its top, then each panel."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    page.screenshot(path=str(ARTIFACTS / "00-top.png"))
    for i, (call, cell) in enumerate(cells, 1):
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(ARTIFACTS / f"{i:02d}-{call.rstrip('(')}.png"))


def test_the_postmortem_of_notebook_02_opens_offline_too(exported, notebook_env, browser):
    postmortem = notebook_env / "postmortem-pipeline-bug.html"
    assert postmortem.exists(), "notebook 02 wrote no postmortem"
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        asked: list[str] = []
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (asked.append(route.request.url), route.abort()))  # fmt: skip
        page.goto(postmortem.as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
        assert asked == []
    finally:
        page.close()
