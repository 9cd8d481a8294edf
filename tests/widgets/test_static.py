"""Where no widget frontend exists, panels show their figures and tables as static HTML."""

from __future__ import annotations

import json
import re

import plotly.io as pio
import plotly.offline as po
import pytest
from panels_support import DRIFTED, bins_row, target

from mlobs_notebook.plots import drift_ranking
from mlobs_notebook.widgets import (
    DriftExplorer,
    LineageExplorer,
    display_mode,
    use_static,
    use_widgets,
)
from mlobs_notebook.widgets._static import FIGURE_MIMETYPE

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY_BANNER = "plotly.js v"  # the first comment of the plotly.js bundle


@pytest.fixture(autouse=True)
def restore_modes():
    renderer = pio.renderers.default
    yield
    use_widgets()
    pio.renderers.default = renderer


def figures_in(html):
    found = re.findall(rf'<script type="{re.escape(FIGURE_MIMETYPE)}">(.*?)</script>', html, flags=re.S)
    return [json.loads(text.replace("<\\/", "</")) for text in found]


def test_widget_bundle_carries_the_static_fallback(demo_drift):
    explorer = DriftExplorer(demo_drift)
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {WIDGET_VIEW, "text/html", "text/plain"}
    assert bundle[WIDGET_VIEW]["model_id"] == explorer.model_id
    html = bundle["text/html"]
    assert "widget-view" not in html and "jupyter-widgets" not in html
    figures = figures_in(html)
    assert len(figures) == 3  # ranking, histogram, statistic over windows
    hist = figures[1]["data"]
    row = bins_row(demo_drift, DRIFTED, explorer.window.value)
    assert hist[1]["customdata"] == row["current_counts"]
    assert "<table" in html and DRIFTED in html  # the ranking as a table too (GitHub shows no JS)
    assert "DriftExplorer: feature user_session_count_7d" in bundle["text/plain"]
    assert PLOTLY_BANNER not in html  # the CDN by default: no plotly.js in the output


def test_static_fallback_follows_the_panel_state(demo_drift):
    explorer = DriftExplorer(demo_drift)
    explorer.feature.value = "tenure_days"
    hist = figures_in(explorer.to_html())[1]
    assert hist["layout"]["title"]["text"].startswith("tenure_days")


def test_use_static_drops_the_widget_view_and_embeds_plotly_once(demo_drift, world, demo_lineage):
    use_static(plotlyjs="inline")
    assert display_mode() == "static"
    explorer = DriftExplorer(demo_drift)
    first = explorer._repr_mimebundle_()
    second = LineageExplorer(demo_lineage, target(world), DRIFTED)._repr_mimebundle_()
    assert set(first) == set(second) == {"text/html", "text/plain"}
    assert first["text/html"].count(PLOTLY_BANNER) == 1
    assert PLOTLY_BANNER not in second["text/html"]
    # figures inside the widget Outputs never carry plotly.js (it would live in widget state)
    [inside] = explorer.outputs["histogram"].outputs
    assert PLOTLY_BANNER not in inside["data"]["text/html"]
    assert figures_in(inside["data"]["text/html"])[0]["data"] == inside["data"]["application/vnd.plotly.v1+json"]["data"]
    lineage = figures_in(second["text/html"])
    assert [t["name"] for t in lineage[0]["data"]][-3:] == ["datasets", "jobs", "columns"]
    use_widgets()
    assert WIDGET_VIEW in DriftExplorer(demo_drift)._repr_mimebundle_()


def test_bare_figures_get_an_html_renderer_in_a_kernel_only(demo_drift, monkeypatch, capsys):
    from mlobs_notebook.widgets import _static

    before = pio.renderers.default
    use_static(plotlyjs="inline")  # no kernel here: plotly's set-up script would be printed
    assert pio.renderers.default == before
    monkeypatch.setattr(_static, "_in_kernel", lambda: True)
    use_static()
    assert pio.renderers.default == "plotly_mimetype+notebook_connected"
    bare = drift_ranking(demo_drift)._repr_mimebundle_()
    assert "text/html" in bare and PLOTLY_BANNER not in bare["text/html"]
    assert PLOTLY_BANNER not in capsys.readouterr().out  # the connected set-up loads, not embeds


def test_cdn_loader_names_the_installed_plotly_js(demo_drift):
    html = DriftExplorer(demo_drift).to_html()
    assert f"https://cdn.plot.ly/plotly-{po.get_plotlyjs_version()}.min.js" in html
    assert html.count("__mlobsPlotly = new Promise") == 1


def test_figure_json_cannot_close_its_script_tag(demo_drift):
    from mlobs_notebook.widgets._static import static_html

    fig = drift_ranking(demo_drift)
    fig.update_layout(title_text="</script><b>x</b>")
    html = static_html("t", [fig])
    assert "</script><b>" not in html
    assert figures_in(html)[0]["layout"]["title"]["text"] == "</script><b>x</b>"


def test_unknown_plotlyjs_mode_is_refused():
    from mlobs_notebook.errors import InputError

    with pytest.raises(InputError, match="'cdn' or 'inline'"):
        use_static(plotlyjs="embedded")
