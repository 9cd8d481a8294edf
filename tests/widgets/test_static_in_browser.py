"""The static view in a real browser (Debian's chromium through Playwright): figures drawn from
the embedded JSON, the no-JavaScript hint removed, no network needed (plotly.js inline)."""

from __future__ import annotations

import shutil

import pytest
from panels_support import DRIFTED, target

from mlobs_notebook.widgets import DriftExplorer, LineageExplorer, use_static, use_widgets

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.mark.browser
def test_static_panels_draw_their_figures_offline(tmp_path, demo_drift, demo_lineage, world):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    use_static(plotlyjs="inline")
    try:
        drift = DriftExplorer(demo_drift)._repr_mimebundle_()["text/html"]
        lineage = LineageExplorer(demo_lineage, target(world), DRIFTED)._repr_mimebundle_()["text/html"]
    finally:
        use_widgets()
    page_file = tmp_path / "static.html"
    page_file.write_text(f"<!doctype html><html><body>{drift}{lineage}</body></html>")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 4", timeout=30_000)
            assert page.locator(".mlobs-nojs").count() == 0
            assert errors == []
            titles = page.eval_on_selector_all(".gtitle", "els => els.map(e => e.textContent)")
            assert any(t.startswith(f"{DRIFTED}: baseline vs current") for t in titles)
            assert any(t.startswith("upstream of") for t in titles)
            page.screenshot(path=str(tmp_path / "static.png"), full_page=True)
        finally:
            browser.close()
