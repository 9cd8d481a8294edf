"""One notebook output that a panel redraws in place: an IPython display with a display id.

``show()`` adds the output to the cell being run (``display(..., display_id=...)``);
``set(data)`` keeps the new display data and, once shown, sends ``update_display`` for it: the
frontend (JupyterLab, VS Code, a saved notebook through nbclient) replaces that output wherever
it is, even when the change comes from a control's callback long after the cell ran. No widget
manager is involved, so a notebook file keeps each output as it was last drawn.

JupyterLab's plotly renderer draws a figure once and ignores later data for the same output, so
a figure replacing a figure goes out in two updates: a blank of the figure's height (another
mimetype: JupyterLab drops that renderer), then the figure (a new renderer draws it). Other
frontends and nbclient simply keep the last.

A display can also be *mirrored* into another one: the InvestigationPanel shows the current
step's displays in slots of its own output (``mirror(slot)`` copies every later ``set``).
"""

from __future__ import annotations

import uuid
from typing import Any

from mlobs_notebook.widgets._static import PLOTLY_MIMETYPE

__all__ = ["EMPTY", "Display"]

EMPTY: dict[str, str] = {"text/html": "", "text/plain": ""}


def _blank(figure: dict[str, Any]) -> dict[str, str]:
    """Where a figure goes while JupyterLab swaps renderers: nothing, at the figure's height."""
    height = int(figure.get("layout", {}).get("height") or 450)
    return {"text/html": f'<div style="height:{height}px"></div>', "text/plain": ""}


class Display:
    """The last display data of one output (``data``) and where it is shown."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.display_id = uuid.uuid4().hex
        self.data: dict[str, Any] = dict(data or EMPTY)
        self._shown = False
        self._mirrors: list[Display] = []

    def show(self) -> None:
        """Add this output to the cell being run (inside IPython; elsewhere nothing happens)."""
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display

        if InteractiveShell.initialized():
            display(self.data, raw=True, display_id=self.display_id)
            self._shown = True

    def set(self, data: dict[str, Any]) -> None:
        """New display data: kept, sent to the output if shown, copied to the mirrors."""
        previous, self.data = self.data, dict(data)
        if self._shown:
            from IPython.display import update_display

            if PLOTLY_MIMETYPE in previous and PLOTLY_MIMETYPE in self.data:
                update_display(_blank(self.data[PLOTLY_MIMETYPE]), raw=True, display_id=self.display_id)
            update_display(self.data, raw=True, display_id=self.display_id)
        for slot in self._mirrors:
            slot.set(self.data)

    def mirror(self, slot: Display) -> None:
        """Show this display's data in ``slot`` too, now and after every change."""
        if slot not in self._mirrors:
            self._mirrors.append(slot)
        slot.set(self.data)

    def unmirror(self, slot: Display) -> None:
        if slot in self._mirrors:
            self._mirrors.remove(slot)
