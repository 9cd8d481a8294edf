"""How panels reach a page: figures as HTML that every renderer keeps, plotly.js once, and the
controls wherever a widget frontend exists.

A displayed panel is several notebook outputs (see ``_panel``): its controls (an ipywidgets view,
when controls are on), then one output per figure or HTML block, each an IPython display that
the controls update in place. A figure output carries plotly's own mimetype (JupyterLab and
VS Code draw it with their plotly renderer) and ``text/html``: the figure's JSON in a
``<script type="application/vnd.mlobs.figure+json">`` tag and a small loader that draws it with
the page's ``window.Plotly`` (nbconvert's HTML, Colab; GitHub runs no scripts and shows a hint).

plotly.js itself is never in a figure's output. Where it comes from is :func:`include_plotlyjs`:
"inline" (the default) puts it once per kernel, as an output of its own before the first panel's
figures, so a notebook executed from the top and exported (``jupyter nbconvert --to html
--execute``) draws offline with one copy; "none" leaves it out (smaller notebooks; ``mlobs
export-notebook`` adds it to the exported file); "cdn" makes each figure load it from plotly's
CDN, for Colab, which draws every output in a frame of its own (chosen by default there).
"""

from __future__ import annotations

import functools
import json
import sys
import uuid
from typing import Any

from mlobs_notebook import markup
from mlobs_notebook.errors import InputError

__all__ = [
    "FIGURE_MIMETYPE",
    "PLOTLYJS_ATTRIBUTE",
    "PLOTLY_MIMETYPE",
    "display_mode",
    "figure_bundle",
    "figure_html",
    "html_bundle",
    "include_plotlyjs",
    "plotlyjs_html",
    "plotlyjs_mode",
    "use_static",
    "use_widgets",
]

FIGURE_MIMETYPE = "application/vnd.mlobs.figure+json"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOTLYJS_ATTRIBUTE = "data-mlobs-plotlyjs"
"""The attribute marking the ``<script>`` that holds plotly.js (an exporter keeps one of them)."""
PLOTLYJS_MODES = ("inline", "none", "cdn")
_CONFIG = {"displaylogo": False, "responsive": True}
_MISSING = ("<p><i>plotly.js is not on this page, so this figure is not drawn: export the notebook "
            "with <code>mlobs export-notebook</code>, or run it from the top in a new kernel.</i></p>")  # fmt: skip
_state: dict[str, Any] = {"controls": True, "plotlyjs": None, "plotlyjs_shown": False}


def use_static() -> None:
    """Show panels without their controls: figures and tables only (e.g. a notebook meant to be
    read on GitHub, where a widget output is an empty box)."""
    _state["controls"] = False


def use_widgets() -> None:
    """Show panels with their controls above the figures (the default)."""
    _state["controls"] = True


def display_mode() -> str:
    """"widgets" (controls and figures) or "static" (figures only)."""
    return "widgets" if _state["controls"] else "static"


def include_plotlyjs(mode: str) -> None:
    """Where figures find plotly.js: "inline" (once per kernel, before the first panel's figures),
    "none" (never: the frontend's plotly renderer draws; an exporter adds it), "cdn" (each figure
    loads it from cdn.plot.ly, for Colab). Choosing "inline" again puts it in the next panel."""
    if mode not in PLOTLYJS_MODES:
        raise InputError(f"plotly.js mode must be one of {', '.join(PLOTLYJS_MODES)}, not {mode!r}")
    _state.update(plotlyjs=mode, plotlyjs_shown=False)


def plotlyjs_mode() -> str:
    """The mode in force: the one chosen, else "cdn" in Colab and "inline" elsewhere."""
    return _state["plotlyjs"] or ("cdn" if "google.colab" in sys.modules else "inline")


@functools.cache
def plotlyjs_html() -> str:
    """The installed plotly.js as one ``<script>`` (marked with ``PLOTLYJS_ATTRIBUTE``)."""
    import plotly.offline as po
    from markupsafe import Markup

    return markup.render("widgets/plotlyjs.html.j2", version=po.get_plotlyjs_version(),
                         source=Markup(po.get_plotlyjs()))  # fmt: skip


def take_plotlyjs() -> dict[str, str] | None:
    """The display data carrying plotly.js if this kernel has not shown it yet in "inline" mode
    (then it counts as shown), else None."""
    if plotlyjs_mode() != "inline" or _state["plotlyjs_shown"]:
        return None
    _state["plotlyjs_shown"] = True
    return {"text/html": plotlyjs_html(), "text/plain": ""}


def _plotly_json(fig: Any) -> dict[str, Any]:
    # through plotly's own encoder: numpy arrays, datetimes and NaN come out as JSON does
    spec = json.loads(fig.to_json())
    return {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": dict(_CONFIG)}


def _script_json(spec: dict[str, Any]) -> str:
    # JSON inside <script>: "<", ">" and "&" only occur in strings, where \u escapes read the same
    text = json.dumps(spec, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def figure_html(fig: Any, spec: dict[str, Any] | None = None) -> str:
    """A figure as HTML: its JSON and the loader that draws it with the page's plotly.js."""
    import plotly.offline as po
    from markupsafe import Markup

    cdn = f"https://cdn.plot.ly/plotly-{po.get_plotlyjs_version()}.min.js" if plotlyjs_mode() == "cdn" else None
    return markup.render(
        "widgets/figure.html.j2", id=f"mlobs-figure-{uuid.uuid4().hex[:12]}", mimetype=FIGURE_MIMETYPE,
        title=fig.layout.title.text or "figure", spec=Markup(_script_json(spec or _plotly_json(fig))),
        cdn=cdn, missing=_MISSING,
    )


def figure_bundle(fig: Any) -> dict[str, Any]:
    """The display data of a figure: plotly's mimetype (JupyterLab, VS Code), the HTML view
    (exported HTML, Colab, GitHub) and its title as text."""
    spec = _plotly_json(fig)
    return {
        PLOTLY_MIMETYPE: spec,
        "text/html": figure_html(fig, spec),
        "text/plain": f"<figure: {fig.layout.title.text or 'untitled'}>",
    }


def html_bundle(html: str, text: str = "") -> dict[str, str]:
    """The display data of an HTML block (``text`` for consoles)."""
    return {"text/html": html, "text/plain": text}
