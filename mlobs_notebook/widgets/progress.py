"""Progress of long work (``investigate``, loading a large snapshot) shown where the user looks.

``ProgressBar`` is the ``progress=`` callback of :func:`investigate`: ``bar(step, fraction)``.
A step spelled ``"drift: 12/50 columns, 90 windows"`` is progress inside the step ``drift``: it
replaces the previous update of that step (and the step's own completion replaces it in turn),
so a long step shows its counts without lengthening the list of steps.

In a notebook it is one display output updated in place (``display_id``), holding an HTML
``<progress>`` element and a plain-text bar. That is deliberately not an ipywidgets progress
widget: display updates need no widget manager, so JupyterLab and VS Code show the bar moving,
and a saved notebook (nbconvert HTML, GitHub's renderer) shows its last state as HTML or text
instead of an empty widget placeholder. Outside IPython (a script, a console) it writes one line
per step to stderr, or, on a terminal, one line redrawn in place by rich.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from mlobs_notebook import markup

__all__ = ["ProgressBar"]

_WIDTH = 30


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _head(step: str) -> str:
    return step.split(": ", 1)[0]


class ProgressBar:
    """``ProgressBar(title)(step, fraction)``: show that ``step`` is done and ``fraction`` (0..1)
    of the work with it. ``mode`` is "display" (a notebook output updated in place), "terminal"
    (one line redrawn in place by rich) or "text" (lines on ``stream``); by default "display"
    inside a Jupyter kernel, "terminal" when ``stream`` (stderr) is a terminal, "text" elsewhere.
    Use it as a context manager (or call :meth:`close`) so a terminal line is finished even
    when the work fails."""

    def __init__(self, title: str = "Investigating", *, mode: str | None = None, stream: TextIO | None = None) -> None:
        if mode not in (None, "display", "terminal", "text"):
            raise ValueError(f"mode must be 'display', 'terminal' or 'text', not {mode!r}")
        self.title = title
        self.stream = stream
        if mode is None:
            tty = getattr(stream or sys.stderr, "isatty", lambda: False)()
            mode = "display" if _in_kernel() else ("terminal" if tty else "text")
        self.mode = mode
        self.steps: list[tuple[str, float, float]] = []  # (step, fraction, seconds since start)
        self._started = time.perf_counter()
        self._handle: Any = None
        self._live: Any = None

    @property
    def fraction(self) -> float:
        return self.steps[-1][1] if self.steps else 0.0

    def __call__(self, step: str, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        entry = (step, fraction, round(time.perf_counter() - self._started, 3))
        if self.steps and ": " in self.steps[-1][0] and _head(self.steps[-1][0]) == _head(step):
            self.steps[-1] = entry  # progress inside a step: the latest update stands for it
        else:
            self.steps.append(entry)
        if self.mode == "text":
            print(self._text(), file=self.stream or sys.stderr, flush=True)
            return
        if self.mode == "terminal":
            self._terminal(fraction)
            return
        from IPython.display import display, update_display

        if self._handle is None:
            self._handle = display(self._bundle(), raw=True, display_id=True)
        else:
            update_display(self._bundle(), raw=True, display_id=self._handle.display_id)

    def _terminal(self, fraction: float) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        if self._live is None:
            self._live = Progress(
                TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"), console=Console(file=self.stream or sys.stderr),
            )
            self._live.start()
            self._task = self._live.add_task(self.title, total=1.0, status="")
        self._live.update(self._task, completed=fraction, status=self._status())
        if fraction >= 1.0:
            self.close()

    def close(self) -> None:
        """Finish the terminal line (nothing to do in the other modes)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _status(self) -> str:
        if not self.steps:
            return "starting"
        step, fraction, _seconds = self.steps[-1]
        if fraction >= 1.0:
            return "done"
        return step if ": " in step else f"{step} done"

    def _text(self) -> str:
        filled = round(self.fraction * _WIDTH)
        seconds = self.steps[-1][2] if self.steps else 0.0
        return (f"{self.title} [{'#' * filled}{'.' * (_WIDTH - filled)}] {self.fraction:4.0%} "
                f"{self._status()} ({seconds:.1f} s)")  # fmt: skip

    def _html(self) -> str:
        return markup.render(
            "widgets/progress.html.j2", title=self.title, fraction=self.fraction, status=self._status(),
            seconds=self.steps[-1][2] if self.steps else 0.0, steps=[f"{s} {t:.1f} s" for s, _f, t in self.steps],
        )

    def _bundle(self) -> dict[str, str]:
        return {"text/html": self._html(), "text/plain": self._text()}

    def __repr__(self) -> str:
        return f"<ProgressBar: {self._text()}>"
