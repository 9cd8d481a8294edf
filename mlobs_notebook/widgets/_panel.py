"""The base of every panel: an ipywidgets box of controls, and named outputs it redraws in place.

A panel is displayed as several notebook outputs: its controls (the box itself, a widget view),
plotly.js once per kernel when that mode is on (``_static``), then one output per entry of
``blocks``, in order: a figure (``_show``) or an HTML block (``_show_html``). Each output is a
:class:`Display` the controls update in place, so every renderer that shows ``text/html``
(exported HTML, GitHub, VS Code, Colab) shows the figures and tables as last drawn, and a widget
frontend (JupyterLab, Notebook 7, VS Code) adds the working controls. The last figure of each
block is ``panel.figures[name]``; the last display data ``panel.displays[name].data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as widgets

from mlobs_notebook import markup
from mlobs_notebook.widgets._display import Display
from mlobs_notebook.widgets._static import (
    display_mode,
    figure_bundle,
    html_bundle,
    plotlyjs_html,
    take_plotlyjs,
)

__all__ = ["Panel", "block", "show_outputs", "table"]


def table(head: Sequence[str] | None, rows: Iterable[Sequence[Any]], caption: str = "", *,
          fold: bool = False) -> dict[str, Any]:  # fmt: skip
    """A table of a :func:`block`: ``head`` None for a key-value table; ``fold`` puts it under a
    ``<details>`` with ``caption`` as its summary."""
    return {"head": list(head) if head else None, "rows": [list(r) for r in rows], "caption": caption, "fold": fold}


def block(text: str = "", tables: Iterable[dict[str, Any]] = (), *, html: str = "", error: str | None = None) -> str:
    """An HTML block from ``templates/widgets/block.html.j2``: every value escaped except ``html``,
    which must come from a template already."""
    from markupsafe import Markup

    return markup.render("widgets/block.html.j2", text=text, tables=list(tables), html=Markup(html), error=error)


def show_outputs(controls: widgets.Widget | None, displays: Iterable[Display]) -> None:
    """Display a panel's outputs in the cell being run: the controls' widget view (when controls
    are on), plotly.js if this kernel has not shown it yet, then each display."""
    from IPython.display import display

    if controls is not None and display_mode() == "widgets":
        # the widget's own bundle (a widget view, text as fallback): display(panel) would recurse
        display(controls._repr_mimebundle_(), raw=True)
    plotlyjs = take_plotlyjs()
    if plotlyjs is not None:
        display(plotlyjs, raw=True)
    for d in displays:
        d.show()


class Panel(widgets.VBox):
    """A VBox of controls with named outputs (``blocks``, in display order) and a static view
    (``to_html``)."""

    title = "panel"
    blocks: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.figures: dict[str, Any] = {}
        self.displays: dict[str, Display] = {name: Display() for name in self.blocks}

    def _show(self, name: str, fig: Any) -> None:
        self.figures[name] = fig
        self.displays[name].set(figure_bundle(fig))

    def _show_html(self, name: str, html: str, text: str = "") -> None:
        self.displays[name].set(html_bundle(html, text))

    # --- display -------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        show_outputs(self if self.children else None, self.displays.values())

    def _summary(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._summary()}>"

    def _parts(self) -> list[str]:
        """The HTML of the outputs, in order (what an exported notebook shows)."""
        return [d.data.get("text/html", "") for d in self.displays.values()]

    def to_html(self, *, plotlyjs: bool = False) -> str:
        """The panel as it stands as one HTML fragment: its tables and figures; with ``plotlyjs``
        the fragment carries plotly.js and draws on a page of its own, offline."""
        from markupsafe import Markup

        html = markup.render("widgets/panel.html.j2", title=self.title, parts=[Markup(p) for p in self._parts()])
        return (plotlyjs_html() if plotlyjs else "") + html
