"""Every notebook in notebooks/ runs top to bottom on a demo world built by the tests.

Notebooks are executed with nbmake's runner (``nbmake.nb_run.NotebookRun``, what
``pytest --nbmake`` runs per notebook) in-process, so that they share the session's demo world
(``MLOBS_DEMO_DIR``, see conftest.py) and so that the executed notebook comes back to be checked: nbclient can lose
a cell's outputs without failing when the kernel's output messages stall (jupyter/nbclient#312,
``raise_on_iopub_timeout`` is off by default), so each code cell must show the output it exists
for, not just run. Each cell is bounded by ``CELL_TIMEOUT`` (nbmake's ``--nbmake-timeout``).
By hand: ``MLOBS_DEMO_DIR=/path/to/world pytest --nbmake --nbmake-timeout=600 notebooks/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT = 600  # seconds per cell; notebooks 03 and 05 build small worlds in one cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
FIGURE = '<script type="application/vnd.mlobs.figure+json">'
PANEL_CALL = re.compile(r"^(InvestigationPanel|CorrelationPanel|DriftExplorer|LineageExplorer|ModelPicker)\(", re.M)

# text that must appear in the outputs of each notebook (beyond "every cell shows something")
EXPECTED = {
    "01_quickstart.ipynb": ["verdict: pipeline_bug", "user_session_count_7d", "postmortem-quickstart.html"],
    "02_root_cause_pipeline_bug.ipynb": [
        "verdict: pipeline_bug", "churn_features_daily.sessionize", "matches the recorded digest",
        "+WHERE started_at >= TIMESTAMP '{{ ds }}' - INTERVAL '1' DAY",
        "postmortem-pipeline-bug.html", "Investigating churn_predictor",
    ],
    "03_data_vs_model_drift.ipynb": [
        "data_drift   -> data_drift", "model_drift  -> model_drift", "healthy      -> healthy",
    ],
    "05_harder_incidents.ipynb": [
        "join_bug       -> pipeline_bug", "segment_break  -> pipeline_bug", "('join key',)",
        "the incident:    in its SQL: join key", "a reformatting:  only cosmetically",
        "carried by the slice plan = 'free'",
    ],
    "04_ci_gate_and_retraining.ipynb": [
        "no drift, the task succeeds", "check_drift FAILED -> the DAG retrains",
        "drifted: ['user_session_count_7d']", "skipped=True", "read back from MLflow",
        "failed: user_session_count_7d", "PASS, pointed at the run's existing v1 as @staging",
        "REJECTED, 1 check(s) failed; nothing was written", "-> exit 1", "@staging still on v1",
        "already holds @staging; nothing changed",
    ],
    "06_rag_index_bug.ipynb": [
        "read 780 traces by sql", "verdict: pipeline_bug", "build_index", "documents_retrieved",
        "+splitter = TokenWindowSplitter(size=6, overlap=0)", "rebuild what it wrote",
        "postmortem-rag-index-bug.html",
    ],
}

POSTMORTEMS = {
    "01_quickstart.ipynb": ["postmortem-quickstart.html"],
    "02_root_cause_pipeline_bug.ipynb": ["postmortem-pipeline-bug.html"],
    "06_rag_index_bug.ipynb": ["postmortem-rag-index-bug.html"],
}


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


def test_notebooks_are_stored_without_outputs():
    import nbformat

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} cell {i} holds outputs"


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(str(data.get(k, "")) for k in ("text/plain", "text/html"))


def check_executed(nb, name: str) -> None:
    """Every code cell ran, produced output and no error; panels came with their controls (a
    widget view) and their figures as HTML outputs; the notebook's expected text is there."""
    seen = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {i} ({cell.source.splitlines()[0] if cell.source else ''!r})"
        assert "shell.execute_reply" in cell.metadata.get("execution", {}), f"{where} never finished"
        assert cell.outputs, f"{where} produced no output (lost outputs: jupyter/nbclient#312?)"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{where} raised {errors[0].ename}: {errors[0].evalue}"
        if PANEL_CALL.search(cell.source):
            views = [o for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]
            assert views, f"{where} shows no controls"
            figures = [o for o in cell.outputs if PLOTLY in o.get("data", {})]
            assert figures and all(FIGURE in o.data["text/html"] for o in figures), f"{where} has no HTML figure"
        seen += [_text(o) for o in cell.outputs]
    text = "\n".join(seen)
    for expected in EXPECTED[name]:
        assert expected in text, f"{name}: no output contains {expected!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, notebook_env):
    from nbmake.nb_run import NotebookRun

    result = NotebookRun(NOTEBOOKS / name, default_timeout=CELL_TIMEOUT).execute()
    if result.error is not None:
        pytest.fail(f"{name} failed at cell {result.error.failing_cell_index}: {result.error.summary}\n"
                    f"{result.error.trace}")
    check_executed(result.nb, name)
    for postmortem in POSTMORTEMS.get(name, ()):
        written = notebook_env / postmortem
        assert written.exists() and "<html" in written.read_text()[:2000].lower(), f"{name} did not write {postmortem}"
