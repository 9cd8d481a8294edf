"""The lineage model: frozen records built from OpenLineage events.

Identity follows the OpenLineage naming conventions: a job is ``(namespace, name)``, a dataset is
``(namespace, name)`` (names often contain slashes, so the pair is never split on "/"), a run is
its ``runId``. Everything here is plain data; parsing lives in ``parse``, merging in ``merge``.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]

def make(cls: type[Any], **values: Any) -> Any:
    """An instance of a frozen dataclass built without its generated ``__init__``, which sets
    every field through ``object.__setattr__`` and made a 100,000-event load a second slower.
    Only for the load's hot path; fields not given take their declared defaults."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            f.name: (f.default, f.default_factory) for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING
        }
    obj = object.__new__(cls)
    state = obj.__dict__
    for name, (default, factory) in defaults.items():
        if name not in values:
            state[name] = factory() if default is MISSING else default
    state.update(values)
    return obj


_DEFAULTS: dict[type, dict[str, tuple[Any, Any]]] = {}

TERMINAL_STATES = frozenset({"COMPLETE", "ABORT", "FAIL"})
JOB_SETTINGS_FACET = "mlobs_jobSettings"
"""A custom job facet for schedulers that record a job's settings but not its code (Databricks'
``system.lakeflow.jobs``): ``{"settings": {name: value}, "version": "<when they took effect>"}``."""
FAILED_STATES = frozenset({"ABORT", "FAIL"})


@dataclass(frozen=True, order=True)
class DatasetRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, order=True)
class JobRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, order=True)
class ColumnRef:
    dataset: DatasetRef
    field: str

    def __str__(self) -> str:
        return f"{self.dataset}#{self.field}"


@dataclass(frozen=True)
class Problem:
    """One piece of input that could not be used, and why."""

    source: str
    line: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class SchemaField:
    name: str
    type: str | None = None
    description: str | None = None
    fields: tuple[SchemaField, ...] = ()


def flatten_fields(fields: tuple[SchemaField, ...], prefix: str = "") -> dict[str, str | None]:
    """Dotted path -> type for every field, nested ones included (``address.zip``)."""
    out: dict[str, str | None] = {}
    for f in fields:
        path = f"{prefix}{f.name}"
        out[path] = f.type
        if f.fields:
            out.update(flatten_fields(f.fields, prefix=f"{path}."))
    return out


@dataclass(frozen=True)
class ColumnEdge:
    """One input field feeding one output field (``target_field`` None: the whole dataset,
    from the ``dataset`` array of the current columnLineage form)."""

    source: ColumnRef
    target: DatasetRef
    target_field: str | None
    transformations: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetIO:
    """A dataset as one run saw it (an input or an output), its facets merged by key."""

    ref: DatasetRef
    facets: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    schema: tuple[SchemaField, ...] | None = None
    symlinks: tuple[DatasetRef, ...] = ()
    lifecycle: str | None = None
    row_count: int | None = None
    size_bytes: int | None = None
    version: str | None = None
    column_edges: tuple[ColumnEdge, ...] = ()


@dataclass(frozen=True)
class RunEvent:
    event_type: EventType
    event_time: datetime
    run_id: str
    job: JobRef
    run_facets: dict[str, Any]
    job_facets: dict[str, Any]
    inputs: tuple[DatasetIO, ...]
    outputs: tuple[DatasetIO, ...]
    producer: str | None
    source: str
    line: int | None
    run_id_is_placeholder: bool = False


@dataclass(frozen=True)
class DatasetEvent:
    event_time: datetime
    dataset: DatasetIO
    source: str
    line: int | None


@dataclass(frozen=True)
class JobEvent:
    event_time: datetime
    job: JobRef
    job_facets: dict[str, Any]
    inputs: tuple[DatasetIO, ...]
    outputs: tuple[DatasetIO, ...]
    source: str
    line: int | None


Event = RunEvent | DatasetEvent | JobEvent


@dataclass(frozen=True)
class RunLink:
    job: JobRef
    run_id: str | None


@dataclass(frozen=True)
class JobDefinition:
    """What a job ran: the parts whose change between runs we report."""

    sql: str | None = None
    sql_dialect: str | None = None
    source_code: str | None = None
    source_code_language: str | None = None
    source_code_location: str | None = None
    version: str | None = None
    settings: str | None = None
    """The job's settings as its scheduler records them (``JOB_SETTINGS_FACET``), one per line."""

    def is_empty(self) -> bool:
        return not (self.sql or self.source_code or self.source_code_location or self.version or self.settings)

    def text(self) -> str:
        """The definition as diffable text, one labelled part per block."""
        parts = []
        if self.sql:
            parts.append(self.sql)
        if self.source_code:
            parts.append(f"-- sourceCode ({self.source_code_language or 'unknown'})\n{self.source_code}")
        if self.source_code_location:
            parts.append(f"-- sourceCodeLocation: {self.source_code_location}")
        if self.settings:
            parts.append(f"-- settings\n{self.settings}")
        if self.version:
            parts.append(f"-- version: {self.version}")
        return "\n".join(parts)


@dataclass(frozen=True)
class Run:
    run_id: str
    job: JobRef
    state: EventType
    start_time: datetime | None
    end_time: datetime | None
    event_time: datetime
    """When the run's outcome is known: its terminal event, else its last event."""
    nominal_time: str | None
    parent: RunLink | None
    root: RunLink | None
    error_message: str | None
    definition: JobDefinition
    inputs: tuple[DatasetIO, ...]
    outputs: tuple[DatasetIO, ...]
    """Outputs written (a DROP's output is in ``dropped``, never here)."""
    dropped: tuple[DatasetRef, ...]
    event_count: int
    run_facets: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    job_facets: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


@dataclass(frozen=True)
class Job:
    ref: JobRef
    run_ids: tuple[str, ...]
    """Time-ordered."""
    inputs: tuple[DatasetRef, ...]
    outputs: tuple[DatasetRef, ...]


@dataclass(frozen=True)
class DatasetVersion:
    """One write of a dataset, tied to the run that wrote it."""

    dataset: DatasetRef
    run_id: str | None
    job: JobRef | None
    event_time: datetime
    state: str
    schema: tuple[SchemaField, ...] | None
    row_count: int | None
    size_bytes: int | None
    version: str | None


@dataclass(frozen=True)
class Dataset:
    ref: DatasetRef
    aliases: tuple[DatasetRef, ...]
    """Other identities of the same dataset (symlinks), canonical one excluded."""
    versions: tuple[DatasetVersion, ...]
    """Time-ordered."""
    schema: tuple[SchemaField, ...] | None
    """The latest known schema (from a write, or from any event that declared one)."""
    writers: tuple[JobRef, ...]
    readers: tuple[JobRef, ...]
    has_column_lineage: bool


@dataclass(frozen=True)
class Node:
    """A node of an upstream subgraph, ready for a layered drawing (layer 0 = the target).

    Ids: ``dataset:<namespace>:<name>``, ``job:<namespace>:<name>``,
    ``field:<namespace>:<name>:<field>`` (see ``node_id``)."""

    id: str
    kind: Literal["job", "dataset", "field"]
    label: str
    layer: int


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: Literal["reads", "writes", "column"]


@dataclass(frozen=True)
class Upstream:
    target: DatasetRef
    column: str | None
    jobs: tuple[JobRef, ...]
    datasets: tuple[DatasetRef, ...]
    columns: tuple[ColumnRef, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    column_level: bool
    note: str | None
    job_distance: dict[JobRef, int] = field(default_factory=dict, hash=False, compare=False)
    """Hops from the target: a job writing the target is 1, a job writing its inputs 2, ..."""
    fallback_datasets: tuple[DatasetRef, ...] = ()
    """Datasets whose producers gave no column lineage (dataset level used there)."""
    direction: Literal["upstream", "downstream"] = "upstream"
    """``downstream`` results (``LineageGraph.downstream``) have negative layers: readers of the
    target at -1, what they write at -2, so one drawing can hold both directions."""

    def to_polars(self) -> Any:
        """The nodes (id, kind, label, layer), one row each; edges are in ``edges``."""
        import polars as pl

        return pl.DataFrame(
            [{"id": n.id, "kind": n.kind, "label": n.label, "layer": n.layer} for n in self.nodes],
            schema={"id": pl.String, "kind": pl.String, "label": pl.String, "layer": pl.Int64},
        )

    def _repr_html_(self) -> str:
        what = f"{self.target}" + (f" column {self.column}" if self.column else "")
        level = "column level" if self.column_level else "dataset level"
        note = f"<br><i>{self.note}</i>" if self.note else ""
        return (
            f"<b>upstream of {what}</b> ({level}): {len(self.jobs)} jobs, "
            f"{len(self.datasets)} datasets, {len(self.columns)} columns{note}"
        )


def node_id(ref: DatasetRef | JobRef | ColumnRef) -> str:
    """The id a Node and an Edge use for a dataset, job or column."""
    if isinstance(ref, ColumnRef):
        return f"field:{ref.dataset.namespace}:{ref.dataset.name}:{ref.field}"
    if isinstance(ref, JobRef):
        return f"job:{ref.namespace}:{ref.name}"
    return f"dataset:{ref.namespace}:{ref.name}"
