"""Writing a postmortem file atomically: a failure leaves no half-written report or figures."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlobs_notebook.errors import InputError, OutputUnwritable
from mlobs_notebook.postmortem.figures import svg_figures
from mlobs_notebook.postmortem.html import to_html
from mlobs_notebook.postmortem.markdown import to_markdown

if TYPE_CHECKING:
    from mlobs_notebook.investigation import Investigation

__all__ = ["atomic_write", "write_report"]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(inv: Investigation, path: str | os.PathLike[str]) -> str:
    """Write the postmortem to ``path`` (``.html``/``.htm`` or ``.md``); returns the path written.

    Markdown figures go to ``<stem>_figures/`` beside the file. Raises :class:`InputError` for
    another suffix and :class:`OutputUnwritable` for a folder that is missing or not writable.
    """
    target = Path(path).expanduser().absolute()
    suffix = target.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise InputError(f"cannot write a report to {target}: use a .html or .md file name")
    if not target.parent.is_dir():
        raise OutputUnwritable(f"cannot write {target}: folder {target.parent} does not exist")
    try:
        if suffix == ".md":
            figures = target.with_name(target.stem + "_figures")
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{figures.name}."))
            staging.chmod(0o755)
            try:
                for name, svg in svg_figures(inv).items():
                    (staging / name).write_text(svg, encoding="utf-8")
                text = to_markdown(inv, figures_dir=figures.name)
                if figures.exists():
                    shutil.rmtree(figures)
                os.replace(staging, figures)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            atomic_write(target, text)
        else:
            atomic_write(target, to_html(inv))
    except PermissionError as exc:
        raise OutputUnwritable(f"cannot write {target}: {exc.strerror}") from exc
    return str(target)
