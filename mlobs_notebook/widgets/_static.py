"""How panels show up: as live widgets with a static fallback, or as static HTML only.

A panel's display bundle holds the widget view, a static HTML view and plain text. A frontend
with a widget manager (JupyterLab, Notebook 7, VS Code) draws the widget; one without (nbconvert
HTML without saved widget state, GitHub's renderer, a console) falls back to the HTML figures and
tables or the text, instead of an empty widget placeholder.

Static figures are plotly JSON in ``<script type="application/vnd.mlobs.figure+json">`` tags
drawn by one small loader per panel; plotly.js itself comes once per page: from the CDN
(default; loaded through require.js where a page has it, as nbconvert's pages do), or inline in
the first static view this process renders (``use_static(plotlyjs="inline")``, for offline
pages; later views reuse it).
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterable
from typing import Any, Literal

from mlobs_notebook.errors import InputError

__all__ = [
    "FIGURE_MIMETYPE",
    "display_mode",
    "figure_bundle",
    "static_html",
    "use_static",
    "use_widgets",
]

FIGURE_MIMETYPE = "application/vnd.mlobs.figure+json"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
_CONFIG = {"displaylogo": False, "responsive": True}
_state: dict[str, Any] = {"panels": "widgets", "plotlyjs": "cdn", "inlined": False}
_ids = itertools.count(1)

_LOADER = """<script type="text/javascript">
(function () {
  var root = document.getElementById(%(id)s);
  var w = window;
  if (!root) { return; }
  function draw(Plotly) {
    var hint = root.querySelector(".mlobs-nojs");
    if (hint) { hint.parentNode.removeChild(hint); }
    var specs = root.querySelectorAll('script[type="%(mime)s"]');
    for (var i = 0; i < specs.length; i++) {
      var spec = JSON.parse(specs[i].textContent);
      var div = document.createElement("div");
      // an empty div given to a responsive plot grows to the page; give it the figure's height
      div.style.width = "100%%";
      div.style.height = (spec.layout.height || 450) + "px";
      specs[i].parentNode.insertBefore(div, specs[i]);
      Plotly.newPlot(div, spec.data, spec.layout, spec.config);
    }
  }
  if (!w.__mlobsPlotly) {
    w.__mlobsPlotly = new Promise(function (ok, fail) {
      if (w.Plotly) { ok(w.Plotly); return; }
      if (typeof w.define === "function" && w.define.amd && typeof w.requirejs === "function") {
        w.requirejs.config({paths: {mlobs_plotly: %(url_no_ext)s}});
        w.requirejs(["mlobs_plotly"], function (P) { w.Plotly = w.Plotly || P; ok(P); }, fail);
        return;
      }
      var s = document.createElement("script");
      s.src = %(url)s;
      s.onload = function () { ok(w.Plotly); };
      s.onerror = fail;
      document.head.appendChild(s);
    });
  }
  w.__mlobsPlotly.then(draw, function () {
    root.insertAdjacentHTML("beforeend", "<p><i>plotly.js could not be loaded; figures are not drawn.</i></p>");
  });
})();
</script>"""


def use_static(plotlyjs: Literal["cdn", "inline"] = "cdn", *, plotly_renderer: bool = True) -> None:
    """Show panels as static HTML (figures and tables) with no widget view, e.g. for a notebook
    converted to HTML or rendered on GitHub. ``plotlyjs``: "cdn" loads plotly.js from its CDN
    once per page; "inline" embeds it once, in the first static view. With ``plotly_renderer``,
    bare figures get plotly's matching renderer too (``plotly_mimetype+notebook_connected`` or
    ``plotly_mimetype+notebook``): an HTML fallback without plotly.js in every figure. plotly
    sets these up by displaying a script, so this happens only inside a kernel (elsewhere the
    script would be printed)."""
    if plotlyjs not in ("cdn", "inline"):
        raise InputError(f"plotlyjs must be 'cdn' or 'inline', not {plotlyjs!r}")
    # a new choice starts a new page: the next static view carries plotly.js again if inline
    _state.update(panels="static", plotlyjs=plotlyjs, inlined=False)
    if plotly_renderer and _in_kernel():
        import plotly.io as pio

        pio.renderers.default = "plotly_mimetype+" + ("notebook_connected" if plotlyjs == "cdn" else "notebook")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def use_widgets() -> None:
    """Show panels as live widgets, with the static view as fallback in the same output (default)."""
    _state["panels"] = "widgets"


def display_mode() -> str:
    """"widgets" or "static"."""
    return _state["panels"]


def _plotly_json(fig: Any) -> dict[str, Any]:
    # through plotly's own encoder: numpy arrays, datetimes and NaN come out as JSON does
    spec = json.loads(fig.to_json())
    return {"data": spec.get("data", []), "layout": spec.get("layout", {}), "config": dict(_CONFIG)}


def figure_bundle(fig: Any) -> dict[str, Any]:
    """The display data of a figure inside a widget Output: plotly's mimetype (JupyterLab,
    Notebook 7, VS Code), the static HTML view for frontends without plotly's renderer (Colab),
    plotly.js from the CDN only (never inline in widget state), and a title as text."""
    title = fig.layout.title.text or "figure"
    return {
        PLOTLY_MIMETYPE: _plotly_json(fig),
        "text/html": static_html("", [fig], inline=False),
        "text/plain": f"<plotly figure: {title}>",
    }


def _figure_tag(fig: Any) -> str:
    # a "</script>" inside the JSON would end the tag early
    text = json.dumps(_plotly_json(fig), separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="{FIGURE_MIMETYPE}">{text}</script>'


def _plotlyjs_inline() -> str:
    import plotly.offline as po

    # a page with require.js would swallow plotly's UMD bundle as an anonymous module: hide define
    return f'<script type="text/javascript">(function(define){{{po.get_plotlyjs()}}}).call(window);</script>'


def static_html(title: str, parts: Iterable[Any], *, inline: bool = True) -> str:
    """A panel as static HTML: ``parts`` are HTML strings and plotly figures, in order.
    ``inline=False`` never embeds plotly.js, whatever ``use_static`` chose."""
    import plotly.offline as po

    div_id = f"mlobs-panel-{next(_ids)}"
    parts = list(parts)
    figures = sum(not isinstance(part, str) for part in parts)
    body = [part if isinstance(part, str) else _figure_tag(part) for part in parts]
    # viewers that run no scripts (GitHub) still say what is missing; the loader removes this
    hint = (f"<p class='mlobs-nojs'><i>{figures} figure(s) here are drawn by JavaScript, which this "
            "viewer does not run.</i></p>") if figures else ""  # fmt: skip
    prefix = ""
    if inline and _state["plotlyjs"] == "inline" and not _state["inlined"]:
        prefix = _plotlyjs_inline()
        _state["inlined"] = True
    url = f"https://cdn.plot.ly/plotly-{po.get_plotlyjs_version()}.min"
    loader = _LOADER % {"id": json.dumps(div_id), "mime": FIGURE_MIMETYPE,
                        "url": json.dumps(url + ".js"), "url_no_ext": json.dumps(url)}  # fmt: skip
    heading = f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>" if title else ""
    return f'{prefix}<div id="{div_id}" class="mlobs-panel">{heading}{hint}{"".join(body)}</div>{loader}'
