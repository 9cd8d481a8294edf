"""ProgressBar: one notebook output updated in place in a kernel, lines of text elsewhere."""

from __future__ import annotations

import io
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from mlobs_notebook.widgets.progress import ProgressBar


def test_outside_a_kernel_each_step_is_a_line_of_text():
    stream = io.StringIO()
    bar = ProgressBar("Investigating", stream=stream)
    assert bar.mode == "text"
    bar("model", 0.1)
    bar("drift", 0.6)
    bar("diagnose", 1.7)  # clamped
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Investigating [###") and "10%" in lines[0] and "model done" in lines[0]
    assert "60%" in lines[1] and lines[1].count("#") == 18
    assert "100%" in lines[2] and lines[2].endswith(f"({bar.steps[-1][2]:.1f} s)") and "done" in lines[2]
    assert [s for s, _f, _t in bar.steps] == ["model", "drift", "diagnose"] and bar.fraction == 1.0


def test_a_bad_mode_is_refused():
    with pytest.raises(ValueError, match="'display', 'terminal' or 'text'"):
        ProgressBar(mode="widget")


@pytest.mark.slow
def test_in_a_kernel_the_bar_is_one_output_updated_in_place(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from mlobs_notebook.widgets.progress import ProgressBar\n"
        "bar = ProgressBar('Loading <snapshot>')\n"
        "bar('read', 0.25)\nbar('drift', 0.75)\nbar('diagnose', 1.0)\n"
        "print(bar.mode)"
    ), nbformat.v4.new_code_cell(
        "running = ProgressBar('Investigating')\n"
        "running('current', 0.4)\nrunning('drift: 12/50 columns, 90 windows', 0.45)"
    )]  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.km_kwargs = {"kernel_cmd": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}
    client.execute()
    outputs = nb.cells[0].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 1, outputs
    html, text = displays[0].data["text/html"], displays[0].data["text/plain"]
    assert '<progress value="1.000" max="1"' in html and "Loading &lt;snapshot&gt;" in html
    assert "read" in html and "drift" in html and "diagnose" in html
    assert "100%" in text and "#" * 30 in text
    assert [o.text for o in outputs if o.output_type == "stream"] == ["display\n"]
    (running,) = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]  # mid-step: the counts show
    assert "drift: 12/50 columns, 90 windows" in running.data["text/html"] and "45%" in running.data["text/plain"]


def test_progress_inside_a_step_replaces_itself_and_the_step_replaces_it():
    stream = io.StringIO()
    bar = ProgressBar("Investigating", stream=stream)
    bar("current", 0.4)
    bar("drift: 0/50 columns, 90 windows", 0.4)
    bar("drift: 25/50 columns, 90 windows", 0.5)
    assert [s for s, _f, _t in bar.steps] == ["current", "drift: 25/50 columns, 90 windows"]
    assert stream.getvalue().splitlines()[-1].endswith(f"drift: 25/50 columns, 90 windows ({bar.steps[-1][2]:.1f} s)")
    bar("drift", 0.6)
    assert [s for s, _f, _t in bar.steps] == ["current", "drift"]
    assert "drift done" in stream.getvalue().splitlines()[-1]


def test_on_a_terminal_rich_draws_one_line_and_finishes_it():
    stream = io.StringIO()
    with ProgressBar("Investigating churn", mode="terminal", stream=stream) as bar:
        bar("model", 0.1)
        bar("drift: 3/10 columns, 7 windows", 0.46)
        assert bar._live is not None
    assert bar._live is None  # closed on leaving the block, also when the work fails
    bar("diagnose", 1.0)
    assert bar._live is None  # the last step closes it by itself
    text = stream.getvalue()
    assert "Investigating churn" in text and "100%" in text
