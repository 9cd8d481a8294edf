"""``mlobs export-notebook``: a notebook as one HTML file that opens offline, with plotly.js once
whatever the outputs carried, no widget views, and clear errors for bad input."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from mlobs_notebook.cli import main
from mlobs_notebook.cli.export_notebook import PLOTLYJS_SCRIPT, export_notebook

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
PLOTLYJS_TAG = "data-mlobs-plotlyjs"
FIGURE = '<script type="application/vnd.mlobs.figure+json">'

CELLS = [
    """
import polars as pl
from datetime import datetime, timedelta
from mlobs_notebook import compute_drift
from mlobs_notebook.widgets import DriftExplorer
days = [datetime(2026, 1, 1) + timedelta(days=d) for d in range(4)]
base = pl.DataFrame({"x": [float(i % 40) for i in range(800)]})
cur = pl.DataFrame({"t": [days[i % 4] for i in range(800)],
                    "x": [float(i % 40) + (15 if i % 4 == 3 else 0) for i in range(800)]})
report = compute_drift(base, cur, time_column="t", granularity="1d")
""",
    "explorer = DriftExplorer(report)\nexplorer",
    "explorer.window.value = explorer.window.options[1][1]\nDriftExplorer(report)",
]


def _notebook(path, cells=CELLS):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A small notebook with two panels, exported with --execute: (notebook, html, stdout)."""
    folder = tmp_path_factory.mktemp("export")
    source = _notebook(folder / "panels.ipynb")
    out = folder / "panels.html"
    assert main(["export-notebook", str(source), str(out), "--execute", "--timeout", "300"]) == 0
    return source, out


@pytest.mark.slow
def test_the_file_holds_plotly_once_and_no_widget_or_network_script(executed):
    _source, out = executed
    html = out.read_text()
    assert html.count(PLOTLYJS_TAG) == 1 and html.count(FIGURE) == 6
    assert "widget-view+json" not in html and "widget-state+json" not in html
    assert "<script src=" not in html  # no require.js, MathJax or widget manager from a CDN
    assert "cdn.plot.ly" not in PLOTLYJS_SCRIPT.sub("", html)  # (plotly.js names it for maps' topojson)


@pytest.mark.slow
@pytest.mark.browser
def test_the_file_draws_every_figure_with_the_network_blocked(executed, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    _source, out = executed
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            asked: list[str] = []
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else (asked.append(route.request.url), route.abort()))  # fmt: skip
            page.goto(out.as_uri(), wait_until="load")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 6", timeout=60_000)
            assert asked == [] and errors == []
            # the first panel as last drawn: its window moved in the next cell
            first = page.locator(".jp-CodeCell").nth(1)
            assert "window 2026-01-01" in first.inner_text()
        finally:
            browser.close()


def test_plotly_js_once_whatever_the_outputs_carried(tmp_path):
    from mlobs_notebook.widgets._static import plotlyjs_html

    figure = {"text/html": f"<div>{FIGURE}{{}}</script></div>", "text/plain": "<figure>"}
    nb = nbformat.v4.new_notebook()
    cells = []
    for carried in (True, True, False):  # two kernels' copies, then none
        outputs = [nbformat.v4.new_output("display_data", data=figure)]
        if carried:
            outputs.insert(0, nbformat.v4.new_output("display_data", data={"text/html": plotlyjs_html(), "text/plain": ""}))
        cells.append(nbformat.v4.new_code_cell("panel", outputs=outputs))
    nb.cells = cells
    nbformat.write(nb, tmp_path / "twice.ipynb")
    written, figures = export_notebook(tmp_path / "twice.ipynb", tmp_path / "twice.html")
    html = (tmp_path / "twice.html").read_text()
    assert figures == 3 and html.count(PLOTLYJS_TAG) == 1
    assert html.index(PLOTLYJS_TAG) < html.index(FIGURE)  # in the head, before any figure
    # the outputs that only carried plotly.js are gone, the figures stay
    nb.cells[0].outputs = []
    nbformat.write(nb, tmp_path / "bare.ipynb")
    assert export_notebook(tmp_path / "bare.ipynb", tmp_path / "bare.html")[1] == 2


def test_bad_input_is_named(tmp_path, capsys):
    assert main(["export-notebook", str(tmp_path / "missing.ipynb"), str(tmp_path / "out.html")]) == 2
    assert f"no notebook at {tmp_path / 'missing.ipynb'}" in capsys.readouterr().err
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert main(["export-notebook", str(tmp_path / "broken.ipynb"), str(tmp_path / "out.html")]) == 2
    assert "broken.ipynb is not a readable notebook" in capsys.readouterr().err
    _notebook(tmp_path / "ok.ipynb")
    assert main(["export-notebook", str(tmp_path / "ok.ipynb"), str(tmp_path / "out.pdf")]) == 2
    assert "use a .html file name" in capsys.readouterr().err
    assert main(["export-notebook", str(tmp_path / "ok.ipynb"), str(tmp_path / "nowhere" / "out.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.html"))


@pytest.mark.slow
def test_a_failing_cell_names_the_cell_and_writes_nothing(tmp_path, capsys):
    source = _notebook(tmp_path / "fails.ipynb", ["x = 1", "1 / 0"])
    assert main(["export-notebook", str(source), str(tmp_path / "out.html"), "--execute"]) == 2
    err = capsys.readouterr().err
    assert "fails.ipynb cell 1: ZeroDivisionError: division by zero" in err, err
    assert not (tmp_path / "out.html").exists()
