"""Panels displayed by a real kernel (nbclient): the output a notebook file keeps holds the
widget view and the static fallback; after use_static() only the static view."""

from __future__ import annotations

import json
import re
import sys

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"

CELLS = [
    """
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
    "from mlobs_notebook.widgets import DriftExplorer\nexplorer = DriftExplorer(report)\nexplorer",
    'explorer.feature.value = "c"\n'
    f'trace = explorer.outputs["histogram"].outputs[0]["data"]["{PLOTLY}"]["data"][1]\n'
    'print(json.dumps(dict(zip(trace["x"], trace["customdata"]))))',
    "from mlobs_notebook.widgets import use_static\nuse_static()\nexplorer",
]


@pytest.mark.slow
def test_a_kernel_keeps_the_widget_and_its_static_fallback(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in CELLS]
    nb.cells[2].source = "import json\n" + nb.cells[2].source
    # the venv's python as the kernel, whatever kernelspecs the machine has
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.km_kwargs = {"kernel_cmd": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
    client.execute()
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors

    [live] = [o for o in nb.cells[1].outputs if o.output_type == "execute_result"]
    assert WIDGET_VIEW in live.data and "text/html" in live.data and "text/plain" in live.data
    figures = re.findall(r'<script type="application/vnd.mlobs.figure\+json">', live.data["text/html"])
    assert len(figures) == 3 and "widget-view" not in live.data["text/html"]

    # the change arrived as Output state, computed in the kernel from the report's bins
    # (the latest window holds rows i % 4 == 3: 200 rows, all "d")
    assert json.loads(nb.cells[2].outputs[0].text) == {"a": 0, "b": 0, "c": 0, "d": 200, "null": 0}

    outputs = nb.cells[3].outputs
    [static] = [o for o in outputs if o.output_type == "execute_result"]
    assert WIDGET_VIEW not in static.data
    assert "c: baseline vs current" in static.data["text/html"]
    # plotly's connected renderer was set up once, by a small script, not the plotly.js bundle
    setup = [o for o in outputs if o.output_type == "display_data"]
    assert sum(len(json.dumps(o.data)) for o in setup) < 20_000
