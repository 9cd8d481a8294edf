"""HTML from Jinja2 templates with autoescape: the one way this package writes markup.

Templates live in ``mlobs_notebook/templates/``. Every value is escaped unless a template marks
it safe, so a column, job or dataset name (or a job's SQL) can never inject markup. Jinja2 is
imported on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["render", "table"]


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mlobs_notebook", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, /, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context`` (values escaped)."""
    return str(_environment().get_template(template).render(**context))


def table(rows: Iterable[Sequence[Any]], head: Sequence[str] | None = None) -> str:
    """An HTML table: ``head`` as its header row (or none, for a key-value table), ``rows`` as cells.

    A cell of ``None`` shows empty; every other value shows as ``str(value)``, escaped.
    """
    return render("table.html.j2", rows=[list(r) for r in rows], head=list(head) if head else None)
