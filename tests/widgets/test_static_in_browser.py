"""The static view in a real browser (Debian's chromium through Playwright): figures drawn from
the embedded JSON with the one plotly.js on the page, the no-JavaScript hint removed, no network;
without plotly.js the figures say so instead of failing silently."""

from __future__ import annotations

import shutil

import pytest
from panels_support import DRIFTED, target

from mlobs_notebook.widgets import DriftExplorer, LineageExplorer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.mark.browser
def test_static_panels_draw_their_figures_offline(tmp_path, demo_drift, demo_lineage, world):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    drift = DriftExplorer(demo_drift).to_html(plotlyjs=True)
    lineage = LineageExplorer(demo_lineage, target(world), DRIFTED).to_html()
    drawn = tmp_path / "static.html"
    drawn.write_text(f"<!doctype html><html><body>{drift}{lineage}</body></html>")
    bare = tmp_path / "no-plotlyjs.html"
    bare.write_text(f"<!doctype html><html><body>{lineage}</body></html>")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda request: requests.append(request.url))
            page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
            page.goto(drawn.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 4", timeout=30_000)
            assert page.locator(".mlobs-nojs").count() == 0
            assert errors == [] and [u for u in requests if not u.startswith("file:")] == []
            titles = page.eval_on_selector_all(".gtitle", "els => els.map(e => e.textContent)")
            assert any(t.startswith(f"{DRIFTED}: baseline vs current") for t in titles)
            assert any(t.startswith("upstream of") for t in titles)
            page.screenshot(path=str(tmp_path / "static.png"), full_page=True)

            page.goto(bare.as_uri())
            page.get_by_text("plotly.js is not on this page").wait_for(timeout=30_000)
            assert page.locator(".js-plotly-plot").count() == 0 and errors == []
        finally:
            browser.close()
