"""The base of every panel: an ipywidgets box whose display carries a static fallback.

Figures are re-rendered as plain ``go.Figure`` display data into a ``widgets.Output`` by setting
its ``outputs`` (what ``Output.append_display_data`` does), not captured from ``display`` calls
inside ``with output:``: the state is then the same in a kernel and in a plain test, and no
output capture is left for nbclient to wait on. The last figure of each output is kept in
``panel.figures[name]``.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from mlobs_notebook import markup
from mlobs_notebook.widgets._static import display_mode, figure_bundle, static_html

__all__ = ["Panel", "html_table"]


def html_table(head: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A table with a header row, from the package's Jinja2 template (escaped)."""
    return markup.table(rows, head)


class Panel(widgets.VBox):
    """A VBox with named figure outputs and a static view (``to_html``)."""

    title = "panel"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.figures: dict[str, Any] = {}
        self.outputs: dict[str, widgets.Output] = {}

    def _output(self, name: str) -> widgets.Output:
        if name not in self.outputs:
            self.outputs[name] = widgets.Output(layout=widgets.Layout(width="100%"))
        return self.outputs[name]

    def _show(self, name: str, fig: Any) -> None:
        self.figures[name] = fig
        self._output(name).outputs = ({"output_type": "display_data", "data": figure_bundle(fig), "metadata": {}},)

    # --- what a frontend without widgets shows ------------------------------------------------
    def _static_parts(self) -> list[Any]:
        """HTML strings and figures, in display order; panels add their tables."""
        return list(self.figures.values())

    def _summary(self) -> str:
        return self.title

    def to_html(self) -> str:
        """The panel as it stands, as static HTML: its tables and figures."""
        return static_html(self.title, self._static_parts())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._summary()}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        static = {"text/html": self.to_html(), "text/plain": repr(self)}
        if display_mode() == "static":
            return static
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle.update(static)
        return bundle
