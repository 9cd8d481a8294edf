"""LineageExplorer: the upstream drawing of a dataset or column, its changes in a time range, the
selected node's facets, runs and changes, and one more hop up or down on demand.

State: ``column`` (Dropdown, "" for the whole dataset), ``since``/``until`` (DatePickers),
``node`` (Dropdown of drawn node ids, "" for none); ``expand_up``, ``expand_down`` and ``reset``
are Buttons. The outputs are a summary line, the drawing (``figures["lineage"]``) and the
selection's details (the changes on the path when nothing is selected).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import ipywidgets as widgets

from mlobs_notebook.errors import InputError
from mlobs_notebook.lineage.model import flatten_fields
from mlobs_notebook.plots import expand, lineage_figure, node_details
from mlobs_notebook.widgets._panel import Panel, block, table

__all__ = ["LineageExplorer"]

_KIND_LABEL = {"dataset": "dataset", "job": "job", "field": "column"}


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


class LineageExplorer(Panel):
    """Explore the lineage upstream of ``dataset`` (or one ``column``) in ``graph``.

    ``since``/``until`` bound the changes, runs and versions shown (dates, inclusive);
    ``highlight`` names suspect jobs; ``depth`` limits the first drawing (job hops). Expanding
    starts from the selected node, or from the target when nothing is selected.
    """

    title = "Lineage explorer"
    blocks = ("summary", "lineage", "details")

    def __init__(
        self,
        graph: Any,
        dataset: Any,
        column: str | None = None,
        since: Any = None,
        until: Any = None,
        *,
        highlight: Iterable[Any] = (),
        depth: int | None = None,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.graph = graph
        self.dataset = graph.resolve_dataset(dataset)
        self.depth = depth
        self._highlight = tuple(highlight)
        known = graph.datasets.get(self.dataset)
        fields = sorted(flatten_fields(known.schema)) if known is not None and known.schema else []
        if column is not None and column not in fields:
            fields.append(column)  # let the query name the problem (UnknownColumn) or find it in lineage
        self.column = widgets.Dropdown(options=[("(whole dataset)", ""), *((f, f) for f in fields)],
                                       value=column or "", description="column")  # fmt: skip
        self.since = widgets.DatePicker(value=_as_date(since), description="since")
        self.until = widgets.DatePicker(value=_as_date(until), description="until")
        self.node = widgets.Dropdown(options=[("(no selection)", "")], value="", description="node")
        self.expand_up = widgets.Button(description="expand up", tooltip="one more job hop upstream of the node")
        self.expand_down = widgets.Button(description="expand down", tooltip="the jobs reading the node and what they write")
        self.reset = widgets.Button(description="reset", tooltip="back to the upstream path")
        self._rendering = False
        self.upstream = self._query_upstream()
        self.changes = self._query_changes()
        self._render()
        self.column.observe(self._on_column, names="value")
        self.since.observe(self._on_range, names="value")
        self.until.observe(self._on_range, names="value")
        self.node.observe(self._on_node, names="value")
        self.expand_up.on_click(lambda _b: self._expand("up"))
        self.expand_down.on_click(lambda _b: self._expand("down"))
        self.reset.on_click(lambda _b: self._on_column(None))
        self.children = [
            widgets.HBox([self.column, self.since, self.until]),
            widgets.HBox([self.node, self.expand_up, self.expand_down, self.reset]),
        ]

    @property
    def highlight(self) -> tuple[Any, ...]:
        """The suspect jobs ringed in the drawing; setting it redraws."""
        return self._highlight

    @highlight.setter
    def highlight(self, jobs: Iterable[Any]) -> None:
        self._highlight = tuple(jobs)
        self._render()

    # --- queries (the graph answers; the panel only holds the answers) -------------------------
    def _column(self) -> str | None:
        return self.column.value or None

    def _query_upstream(self) -> Any:
        return self.graph.upstream(self.dataset, self._column(), depth=self.depth)

    def _query_changes(self) -> list[Any]:
        return self.graph.changes(self.dataset, self._column(), self.since.value, self.until.value, depth=self.depth)

    # --- reactions -----------------------------------------------------------------------------
    def _on_column(self, _change: Any) -> None:
        self.upstream = self._query_upstream()
        self.changes = self._query_changes()
        self._render()

    def _on_range(self, _change: dict) -> None:
        try:
            self.changes = self._query_changes()
        except InputError as exc:
            # a range the browser can produce (until before since): say so, keep the drawing
            self._show_html("details", block(error=str(exc)), str(exc))
            return
        self._render()

    def _on_node(self, _change: dict) -> None:
        if not self._rendering:
            self._render()

    def _expand(self, direction: str) -> None:
        start = self.node.value or next(n.id for n in self.upstream.nodes if n.layer == 0 and n.kind == "dataset")
        self.upstream = expand(self.upstream, self.graph, start, direction)  # type: ignore[arg-type]
        self._render()

    def _render(self) -> None:
        options = [("(no selection)", "")] + sorted(
            ((f"{_KIND_LABEL[n.kind]}: {n.label}", n.id) for n in self.upstream.nodes), key=lambda o: o[0]
        )
        selected = self.node.value if self.node.value in {v for _, v in options} else ""
        if list(self.node.options) != options:
            # new options reset the value; that is not a selection by the user
            self._rendering = True
            try:
                self.node.options = options
                self.node.value = selected
            finally:
                self._rendering = False
        fig = lineage_figure(
            self.upstream, self.changes, graph=self.graph, highlight=self.highlight,
            selected=selected or None, since=self.since.value, until=self.until.value,
        )
        self._show_html("summary", block(self._summary()), repr(self))
        self._show("lineage", fig)
        self._show_html("details", self._details_html(selected))

    def _details_html(self, node_id: str) -> str:
        if not node_id:
            listed = [(f"{c.event_time:%Y-%m-%d %H:%M}", c.job.name, c.kind, c.detail) for c in self.changes]
            caption = f"{len(self.changes)} change(s) on this path{self._range_text()}"
            return block(tables=[table(["time", "job", "kind", "detail"], listed, caption)] if listed else [],
                         text="" if listed else caption)  # fmt: skip
        details = node_details(self.graph, self.upstream, node_id, self.changes,
                               since=self.since.value, until=self.until.value)  # fmt: skip
        return block(html=details.to_html())

    def _range_text(self) -> str:
        lo, hi = self.since.value, self.until.value
        if lo is None and hi is None:
            return ""
        return f" from {lo or 'the start'} to {hi or 'now'}"

    def _summary(self) -> str:
        what = f"{self.dataset}" + (f" column {self._column()}" if self._column() else "")
        node = f", node {self.node.label}" if self.node.value else ""
        return f"upstream of {what}, {len(self.changes)} change(s){self._range_text()}{node}"
