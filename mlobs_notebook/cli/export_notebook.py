"""``mlobs export-notebook IN.ipynb OUT.html``: a notebook as one self-contained HTML file.

The file is nbconvert's JupyterLab page (``HTMLExporter``, https://nbconvert.readthedocs.io)
through the template ``templates/nbconvert/mlobs``, made to open offline like the postmortem
``Investigation.write()`` writes: plotly.js once, inline (the copies a notebook's outputs carry
are dropped, one goes in the head), figures inline, and nothing fetched from the network (no
require.js, no MathJax, no widget manager). Widget views (a panel's controls) are dropped: in a
file they do nothing, and the panel's figures and tables follow them as HTML outputs. With
``--execute`` the notebook first runs top to bottom in a new kernel (nbclient), in its folder.
The file is written atomically.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from mlobs_notebook.errors import InputError, OutputUnwritable

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "nbconvert"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export-notebook",
        help="write a notebook as one self-contained HTML file (plotly.js once, offline)",
        description=(
            "Convert a notebook with its outputs to one HTML file that opens offline: every "
            "panel's figures and tables as last drawn, plotly.js inline once, nothing fetched "
            "from the network. --execute runs the notebook first. Exit 2 for bad input or a "
            "cell that fails."
        ),
    )
    parser.add_argument("notebook", metavar="IN.ipynb", help="the notebook")
    parser.add_argument("out", metavar="OUT.html", help="the HTML file to write")
    parser.add_argument("--execute", action="store_true", help="run every cell first, in a new kernel, in the notebook's folder")
    parser.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="longest a cell may run with --execute (default 600)")
    parser.add_argument("--kernel", default=None, metavar="NAME", help="kernel to run with --execute (default: the notebook's)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    source, target = Path(args.notebook).expanduser().absolute(), Path(args.out).expanduser().absolute()
    written, figures = export_notebook(source, target, execute=args.execute, timeout=args.timeout,
                                       kernel=args.kernel)  # fmt: skip
    size = Path(written).stat().st_size
    print(f"{written}: {figures} figure output(s), {size / 1e6:.1f} MB")
    if not figures and not args.execute:
        print(f"note: {source.name} holds no figures; pass --execute to run it first", file=sys.stderr)
    return 0


def export_notebook(source: Path, target: Path, *, execute: bool = False, timeout: int = 600,
                    kernel: str | None = None) -> tuple[str, int]:  # fmt: skip
    """Write ``source`` (a notebook) to ``target`` as self-contained HTML; returns the path
    written and how many outputs hold a figure. Raises :class:`InputError` for a notebook that
    cannot be read or a cell that fails under ``execute``, :class:`OutputUnwritable` for a
    folder that is missing or not writable."""
    nb = _read(source)
    if target.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"cannot export to {target}: use a .html file name")
    if not target.parent.is_dir():
        raise OutputUnwritable(f"cannot write {target}: folder {target.parent} does not exist")
    if execute:
        _execute(nb, source, timeout, kernel)
    figures = prepare(nb)
    html = render(nb, source.stem, plotlyjs=figures > 0)
    from mlobs_notebook.postmortem.write import atomic_write

    try:
        atomic_write(target, html)
    except PermissionError as exc:
        raise OutputUnwritable(f"cannot write {target}: {exc.strerror}") from exc
    return str(target), figures


def _read(source: Path) -> Any:
    import nbformat

    if not source.is_file():
        raise InputError(f"no notebook at {source}")
    try:
        return nbformat.read(source, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and OS errors alike
        raise InputError(f"{source} is not a readable notebook: {str(exc).splitlines()[0]}") from exc


def _execute(nb: Any, source: Path, timeout: int, kernel: str | None) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel or "",
                            resources={"metadata": {"path": str(source.parent)}})  # fmt: skip
    try:
        client.execute()
    except CellTimeoutError as exc:
        raise InputError(f"{source}: a cell ran longer than {timeout} s (--timeout): {exc}") from exc
    except CellExecutionError as exc:
        failed = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", ()))), None)
        raise InputError(f"{source} cell {failed}: {exc.ename}: {exc.evalue}") from exc


PLOTLYJS_SCRIPT = re.compile(r"<script[^>]*\bdata-mlobs-plotlyjs=[^>]*>.*?</script>", re.S)


def prepare(nb: Any) -> int:
    """Ready ``nb`` for a file, in place: plotly.js copies out of the outputs (the page carries
    one), widget views and the widget state out; returns how many outputs hold a figure."""
    from mlobs_notebook.widgets._static import FIGURE_MIMETYPE

    figures = 0
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                continue
            if "text/html" in data:
                data["text/html"] = PLOTLYJS_SCRIPT.sub("", "".join(data["text/html"]))
                if not data["text/html"].strip() and not str(data.get("text/plain", "")).strip():
                    continue  # the output that only carried plotly.js
                figures += FIGURE_MIMETYPE in data["text/html"]
            kept.append(output)
        cell.outputs = kept
    return figures


def render(nb: Any, name: str, *, plotlyjs: bool = True) -> str:
    """``nb`` as nbconvert's JupyterLab page, with plotly.js once in the head (template ``mlobs``)."""
    from nbconvert import HTMLExporter

    from mlobs_notebook.widgets._static import plotlyjs_html

    exporter = HTMLExporter(template_name="mlobs", extra_template_basedirs=[str(TEMPLATES)])
    body, _resources = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": name}, "mlobs_plotlyjs": plotlyjs_html() if plotlyjs else ""})  # fmt: skip
    return str(body)
