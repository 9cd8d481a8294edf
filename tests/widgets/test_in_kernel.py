"""Panels displayed by a real kernel (nbclient): the outputs a notebook file keeps are the
controls' widget view, plotly.js once, and the figures and tables as HTML displays that a later
change of a control redraws in place; after use_static() no controls."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
FIGURE = '<script type="application/vnd.mlobs.figure+json">'
PLOTLY_BANNER = "plotly.js v"

CELLS = [
    """
import json
import polars as pl
from datetime import datetime, timedelta
from mlobs_notebook import compute_drift
days = [datetime(2026, 1, 1) + timedelta(days=d) for d in range(4)]
base = pl.DataFrame({"x": [float(i % 40) for i in range(800)], "c": ["a", "b", "c", "d"] * 200})
cur = pl.DataFrame({
    "t": [days[i % 4] for i in range(800)],
    "x": [float(i % 40) + (15 if i % 4 == 3 else 0) for i in range(800)],
    "c": ["a", "a", "b", "d"] * 200,
})
report = compute_drift(base, cur, time_column="t", granularity="1d")
""",
    'from mlobs_notebook.widgets import DriftExplorer\nexplorer = DriftExplorer(report, feature="x")\nexplorer',
    'explorer.feature.value = "c"\n'
    f'trace = explorer.displays["histogram"].data["{PLOTLY}"]["data"][1]\n'
    'print(json.dumps(dict(zip(trace["x"], trace["customdata"]))))',
    'from mlobs_notebook.widgets import use_static\nuse_static()\nDriftExplorer(report, feature="x")',
]


def _html(output) -> str:
    return output.get("data", {}).get("text/html", "")


@pytest.mark.slow
def test_a_kernel_keeps_the_controls_and_the_figures_as_last_drawn(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in CELLS]
    # the venv's python as the kernel, whatever kernelspecs the machine has
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.km_kwargs = {"kernel_cmd": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
    client.execute()
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors

    outputs = nb.cells[1].outputs
    assert all(o.output_type == "display_data" for o in outputs)  # no execute_result: _ipython_display_
    [controls] = [o for o in outputs if WIDGET_VIEW in o.data]
    assert controls.data["text/plain"].startswith("<DriftExplorer: feature ")
    figures = [o for o in outputs if PLOTLY in o.data]
    assert len(figures) == 3 and all(_html(o).count(FIGURE) == 1 for o in figures)
    assert outputs.index(controls) == 0 and outputs[1].data["text/html"].count(PLOTLY_BANNER) == 1

    # the change in cell 2 came back to cell 1's outputs by display id: the file keeps the last state
    # (the latest window holds rows i % 4 == 3: 200 rows, all "d")
    assert json.loads(nb.cells[2].outputs[0].text) == {"a": 0, "b": 0, "c": 0, "d": 200, "null": 0}
    titles = [o.data[PLOTLY]["layout"]["title"]["text"] for o in figures]
    assert any(t.startswith("c: baseline vs current") for t in titles)
    assert not any(t.startswith("x:") for t in titles)
    assert any("feature c, window" in _html(o) for o in outputs)

    static = nb.cells[3].outputs
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in static)
    assert sum(_html(o).count(FIGURE) for o in static) == 3
    everything = json.dumps([o for c in nb.cells for o in c.outputs])
    assert everything.count(PLOTLY_BANNER) == 1  # plotly.js once per kernel
