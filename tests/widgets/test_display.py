"""What a panel sends to the frontend, recorded by IPython's own display publisher: the outputs
in order when it is displayed, then in-place updates by display id when a control changes, a
figure replacing a figure preceded by a blank of its height (JupyterLab's plotly renderer draws
once per output)."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from mlobs_notebook.widgets import DriftExplorer, _static
from mlobs_notebook.widgets._static import PLOTLY_MIMETYPE

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def shell():
    saved = dict(_static._state)
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()
    _static._state.update(saved)


def test_displayed_outputs_then_updates_in_place(shell, demo_drift):
    _static.include_plotlyjs("inline")
    explorer = DriftExplorer(demo_drift)
    with capture_output() as shown:
        explorer._ipython_display_()
    kinds = [o.data.get(WIDGET_VIEW) and "controls" or (PLOTLY_MIMETYPE in o.data and "figure") or "html"
             for o in shown.outputs]  # fmt: skip
    assert kinds == ["controls", "html", "html", "figure", "figure", "figure", "html"]  # plotly.js, summary, ...
    assert "data-mlobs-plotlyjs" in shown.outputs[1].data["text/html"]
    ids = [o.transient["display_id"] for o in shown.outputs[2:]]
    assert ids == [d.display_id for d in explorer.displays.values()]

    with capture_output() as changed:
        explorer.feature.value = "plan"
    updates = [(o.transient["display_id"], o.update, o.data) for o in changed.outputs]
    assert all(update for _id, update, _data in updates)
    histogram = explorer.displays["histogram"]
    sent = [data for display_id, _u, data in updates if display_id == histogram.display_id]
    height = histogram.data[PLOTLY_MIMETYPE]["layout"]["height"]
    assert sent == [{"text/html": f'<div style="height:{height}px"></div>', "text/plain": ""}, histogram.data]
    summary = [data for display_id, _u, data in updates if display_id == explorer.displays["summary"].display_id]
    assert len(summary) == 1 and "feature plan" in summary[0]["text/html"]  # html replaces html at once
    assert explorer.displays["ranking"].display_id not in {display_id for display_id, _u, _d in updates}

    with capture_output() as again:  # a second panel in the same kernel: no second plotly.js
        DriftExplorer(demo_drift)._ipython_display_()
    assert not any("data-mlobs-plotlyjs" in o.data.get("text/html", "") for o in again.outputs)
