"""A layered left-to-right drawing of an upstream subgraph (datasets, jobs, columns).

Layers come from the query (``Node.layer``: 0 is the target, its writers 1, their inputs 2, ...),
so sources sit on the left and the target on the right. Within a layer, nodes are ordered by the
mean height of their already placed neighbours (one barycentre sweep), which keeps most edges
straight, and a dataset's columns sit just under it.

Highlights: a job with a failed or aborted run in ``changes`` gets a red ring, a job with another
change (definition, schema, volume) an orange one, a suspect (``highlight``) a thick purple one;
the selected node a black one. Every node trace carries the node ids in ``customdata``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlobs_notebook.lineage import node_id
from mlobs_notebook.plots import _style
from mlobs_notebook.plots.lineage_nodes import node_details, node_refs

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from mlobs_notebook.lineage import Change, LineageGraph, Node, Upstream

__all__ = ["layout_positions", "lineage_figure", "node_status"]

_FIELD_STEP = 0.55  # vertical room of one column under its dataset, in node units


def _groups(upstream: Upstream) -> dict[int, list[tuple[Node, list[Node]]]]:
    """Per layer: (dataset or job, the columns drawn under it)."""
    refs = node_refs(upstream)
    by_id = {n.id: n for n in upstream.nodes}
    fields_of: dict[str, list[Node]] = defaultdict(list)
    heads: list[Node] = []
    for node in upstream.nodes:
        ref = refs.get(node.id)
        if node.kind == "field" and ref is not None:
            owner = node_id(ref.dataset)  # type: ignore[union-attr]
            if owner in by_id and by_id[owner].layer == node.layer:
                fields_of[owner].append(node)
                continue
        heads.append(node)
    layers: dict[int, list[tuple[Node, list[Node]]]] = defaultdict(list)
    for node in heads:
        layers[node.layer].append((node, sorted(fields_of.get(node.id, []), key=lambda n: n.label)))
    return layers


def layout_positions(upstream: Upstream) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y): x grows from the sources (left) to the target (right).

    Layers are ordered outwards from the target by the mean height of the neighbours already
    placed, then refined by sweeps back and forth over all neighbours (the usual barycentre
    heuristic for crossings); ties keep kind and label order, so the drawing is deterministic.
    """
    layers = _groups(upstream)
    if not layers:
        return {}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in upstream.edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    top = max(layers)
    pos: dict[str, tuple[float, float]] = {}

    def place(layer: int) -> None:
        def key(group: tuple[Node, list[Node]]) -> tuple[float, str, str]:
            ids = {group[0].id, *(f.id for f in group[1])}
            ys = [pos[n][1] for i in ids for n in neighbours[i] if n in pos and pos[n][0] != top - layer]
            return (-(sum(ys) / len(ys)) if ys else 0.0, group[0].kind, group[0].label)  # highest first

        groups = sorted(layers[layer], key=key)
        heights = [1.0 + _FIELD_STEP * len(fields) for _, fields in groups]
        y = sum(heights) / 2
        for (head, fields), height in zip(groups, heights, strict=True):
            pos[head.id] = (float(top - layer), y - 0.5)
            for i, field in enumerate(fields):
                pos[field.id] = (float(top - layer), y - 0.5 - _FIELD_STEP * (i + 1))
            y -= height

    outwards = sorted(layers, key=lambda k: (abs(k), k))
    for layer in outwards:
        place(layer)
    for _ in range(2):
        for layer in [*reversed(outwards), *outwards]:
            place(layer)
    return pos


def _job_ids(items: Iterable[Any], upstream: Upstream) -> set[str]:
    """Node ids of jobs named by JobRefs, 'NAMESPACE/NAME', names or node ids."""
    wanted = {str(i) for i in items}
    out = set()
    for nid, ref in node_refs(upstream).items():
        if nid.startswith("job:") and ({nid, str(ref), getattr(ref, "name", "")} & wanted):
            out.add(nid)
    return out


def node_status(upstream: Upstream, changes: Iterable[Change] | None) -> dict[str, str]:
    """Job node id -> "failed" (a failed or aborted run) or "changed" (any other change)."""
    out: dict[str, str] = {}
    for change in changes or ():
        nid = node_id(change.job)
        if change.kind == "failure":
            out[nid] = "failed"
        else:
            out.setdefault(nid, "changed")
    return out


def lineage_figure(
    upstream: Upstream,
    changes: Iterable[Change] | None = None,
    *,
    graph: LineageGraph | None = None,
    highlight: Iterable[Any] = (),
    selected: str | None = None,
    since: Any = None,
    until: Any = None,
    title: str | None = None,
) -> go.Figure:
    """Draw ``upstream`` (from ``LineageGraph.upstream``), left to right.

    ``changes`` (from ``LineageGraph.changes``) mark changed and failed jobs; ``highlight`` names
    suspect jobs (JobRef, "NAMESPACE/NAME", name or node id); ``selected`` is a node id. With
    ``graph``, each node's hover lists its facts, last run and changes in [since, until].
    """
    import plotly.graph_objects as go

    changes = tuple(changes or ())
    pos = layout_positions(upstream)
    status = node_status(upstream, changes)
    suspects = _job_ids(highlight, upstream)
    traces: list[Any] = []
    for kind, style in (("writes", {"color": "#9d9d9d", "width": 1.5}), ("column", {"color": _style.CHANGED, "width": 1, "dash": "dot"})):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for edge in upstream.edges:
            if (edge.kind == "column") != (kind == "column") or edge.source not in pos or edge.target not in pos:
                continue
            (x0, y0), (x1, y1) = pos[edge.source], pos[edge.target]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", line=style, hoverinfo="skip",
                                 name="column lineage" if kind == "column" else "reads / writes"))  # fmt: skip
    for kind, name in (("dataset", "datasets"), ("job", "jobs"), ("field", "columns")):
        nodes = [n for n in upstream.nodes if n.kind == kind and n.id in pos]
        ring_color, ring_width, hover = [], [], []
        for n in nodes:
            color, width = "#555555", 1
            if n.id in status:
                color, width = (_style.FAILED if status[n.id] == "failed" else _style.CHANGED), 4
            if n.id in suspects:
                color, width = _style.SUSPECT, 6
            if n.id == selected:
                color, width = _style.SELECTED, 6
            ring_color.append(color)
            ring_width.append(width)
            hover.append(node_details(graph, upstream, n.id, changes, since=since, until=until).hover_text())
        traces.append(
            go.Scatter(
                x=[pos[n.id][0] for n in nodes], y=[pos[n.id][1] for n in nodes], mode="markers+text",
                name=name, customdata=[n.id for n in nodes],
                text=[_short(n) for n in nodes], textposition="top center",
                hovertext=hover, hoverinfo="text",
                marker={"symbol": _style.NODE_SYMBOL[kind], "size": 22 if kind != "field" else 14,
                        "color": _style.NODE_FILL[kind], "line": {"color": ring_color, "width": ring_width}},
            )  # fmt: skip
        )
    what = str(upstream.target) + (f" column {upstream.column}" if upstream.column else "")
    key = (
        f"ring: <span style='color:{_style.CHANGED}'>changed</span>, "
        f"<span style='color:{_style.FAILED}'>failed run</span>, "
        f"<span style='color:{_style.SUSPECT}'>suspect</span>" + (f"; {upstream.note}" if upstream.note else "")
    )
    note = [{"xref": "paper", "yref": "paper", "x": 0, "y": -0.02, "yanchor": "top", "showarrow": False,
             "align": "left", "font": {"size": 11, "color": "#555555"}, "text": key}]  # fmt: skip
    columns = max((x for x, _ in pos.values()), default=0) + 1
    heights = [y for _, y in pos.values()]
    rows = max((len([p for p in pos.values() if p[0] == x]) for x in {p[0] for p in pos.values()}), default=1)
    layout = _style.base_layout(
        title or f"upstream of {what}",
        showlegend=True, annotations=note, hovermode="closest",
        height=max(320, 120 + 70 * rows), margin={"l": 20, "r": 20, "t": 60, "b": 60},
        xaxis={"visible": False, "range": [-0.6, columns - 0.4]},
        # room above the top row for its labels
        yaxis={"visible": False, "range": [min(heights, default=0) - 0.4, max(heights, default=0) + 0.6]},
    )
    return go.Figure(data=traces, layout=layout)


def _short(node: Node) -> str:
    """The label drawn beside a node (the hover has the full name): a dataset's last path part,
    a job's task (``dag.task`` is how Airflow and dbt name jobs)."""
    label = node.label
    if node.kind == "dataset" and "/" in label:
        label = label.rsplit("/", 1)[-1]
    elif node.kind == "job" and "." in label:
        label = label.rsplit(".", 1)[-1]
    return label if len(label) <= 28 else "..." + label[-25:]
