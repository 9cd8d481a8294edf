"""What any renderer of text/html gets from a panel: figures as JSON with a loader, tables, and
plotly.js once, from the page (never inside a figure's output)."""

from __future__ import annotations

import json
import re
import sys
import types

import plotly.offline as po
import pytest
from panels_support import DRIFTED, bins_row

from mlobs_notebook.errors import InputError
from mlobs_notebook.plots import drift_ranking
from mlobs_notebook.widgets import (
    DriftExplorer,
    _static,
    display_mode,
    include_plotlyjs,
    use_static,
    use_widgets,
)
from mlobs_notebook.widgets._static import (
    FIGURE_MIMETYPE,
    PLOTLY_MIMETYPE,
    figure_bundle,
    take_plotlyjs,
)

PLOTLY_BANNER = "plotly.js v"  # the first comment of the plotly.js bundle


@pytest.fixture(autouse=True)
def restore_modes():
    saved = dict(_static._state)
    yield
    _static._state.update(saved)


def figures_in(html):
    found = re.findall(rf'<script type="{re.escape(FIGURE_MIMETYPE)}">(.*?)</script>', html, flags=re.S)
    return [json.loads(text) for text in found]


def test_a_figure_output_carries_plotly_mimetype_and_the_html_view(demo_drift):
    explorer = DriftExplorer(demo_drift)
    data = explorer.displays["histogram"].data
    assert set(data) == {PLOTLY_MIMETYPE, "text/html", "text/plain"}
    [spec] = figures_in(data["text/html"])
    assert spec["data"] == data[PLOTLY_MIMETYPE]["data"]
    assert spec["data"][1]["customdata"] == bins_row(demo_drift, DRIFTED, explorer.window.value)["current_counts"]
    assert "mlobs-nojs" in data["text/html"]  # what a viewer without scripts (GitHub) says instead
    assert PLOTLY_BANNER not in data["text/html"] and "cdn.plot.ly" not in data["text/html"]


def test_the_static_view_holds_the_figures_and_tables_as_last_drawn(demo_drift):
    explorer = DriftExplorer(demo_drift)
    explorer.feature.value = "tenure_days"
    html = explorer.to_html()
    figures = figures_in(html)
    assert len(figures) == 3  # ranking, statistic over windows, histogram
    assert figures[2]["layout"]["title"]["text"].startswith("tenure_days")
    assert "<table" in html and DRIFTED in html and "feature tenure_days" in html
    assert PLOTLY_BANNER not in html
    assert explorer.to_html(plotlyjs=True).count(PLOTLY_BANNER) == 1


def test_plotlyjs_inline_is_given_once_per_kernel():
    include_plotlyjs("inline")
    first = take_plotlyjs()
    assert first is not None and first["text/html"].count(PLOTLY_BANNER) == 1
    assert f'data-mlobs-plotlyjs="{po.get_plotlyjs_version()}"' in first["text/html"]
    assert take_plotlyjs() is None
    include_plotlyjs("inline")  # choosing again starts over
    assert take_plotlyjs() is not None
    include_plotlyjs("none")
    assert take_plotlyjs() is None


def test_cdn_mode_loads_plotly_per_figure_and_is_colabs_default(demo_drift, monkeypatch):
    fig = drift_ranking(demo_drift)
    assert "cdn.plot.ly" not in figure_bundle(fig)["text/html"]
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    _static._state["plotlyjs"] = None
    assert _static.plotlyjs_mode() == "cdn"
    html = figure_bundle(fig)["text/html"]
    assert f"https://cdn.plot.ly/plotly-{po.get_plotlyjs_version()}.min.js" in html
    assert take_plotlyjs() is None  # each frame loads its own: no copy in the notebook
    include_plotlyjs("inline")  # a choice wins over the default
    assert _static.plotlyjs_mode() == "inline"


def test_figure_json_cannot_close_its_script_tag(demo_drift):
    fig = drift_ranking(demo_drift)
    fig.update_layout(title_text="</script><b>x</b>")
    html = figure_bundle(fig)["text/html"]
    assert "</script><b>" not in html and "<b>x" not in html
    assert figures_in(html)[0]["layout"]["title"]["text"] == "</script><b>x</b>"


def test_display_modes_and_a_bad_plotlyjs_mode():
    assert display_mode() == "widgets"
    use_static()
    assert display_mode() == "static"
    use_widgets()
    assert display_mode() == "widgets"
    with pytest.raises(InputError, match="inline, none, cdn"):
        include_plotlyjs("embedded")
