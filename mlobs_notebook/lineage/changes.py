"""What changed on an upstream path: the records ``LineageGraph.changes`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mlobs_notebook.lineage.model import DatasetRef, JobRef

ChangeKind = Literal["job_definition", "schema", "failure", "volume"]


@dataclass(frozen=True)
class Change:
    """An event on the upstream path that could explain a change of the target.

    A ``job_definition`` change says whether it is ``semantic`` (False: only layout and comments
    changed; None: not SQL, so not judged) and which ``aspects`` it touched (``join key``,
    ``filter``, ``projection`` ... see ``lineage.sql``); ``changed_columns`` are the output
    columns a projection-only change touched. A ``failure`` in a run of failures names the first
    failed run of the streak (``streak_start``, ``streak_since``) and how many runs failed in a
    row up to this one (``streak_runs``).
    """

    job: JobRef
    run_id: str
    event_time: datetime
    kind: ChangeKind
    detail: str
    datasets: tuple[DatasetRef, ...]
    columns: tuple[str, ...]
    distance: int
    via_column_lineage: bool
    diff: str | None = None
    semantic: bool | None = None
    aspects: tuple[str, ...] = ()
    changed_columns: tuple[str, ...] = ()
    streak_start: str | None = None
    streak_since: datetime | None = None
    streak_runs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": str(self.job),
            "job_namespace": self.job.namespace,
            "job_name": self.job.name,
            "run_id": self.run_id,
            "event_time": self.event_time.isoformat(),
            "kind": self.kind,
            "detail": self.detail,
            "datasets": [str(d) for d in self.datasets],
            "columns": list(self.columns),
            "distance": self.distance,
            "via_column_lineage": self.via_column_lineage,
            "diff": self.diff,
            "semantic": self.semantic,
            "aspects": list(self.aspects),
            "changed_columns": list(self.changed_columns),
            "streak_start": self.streak_start,
            "streak_since": self.streak_since.isoformat() if self.streak_since else None,
            "streak_runs": self.streak_runs,
        }


def changes_to_polars(changes: list[Change]) -> Any:
    """A list of changes as a polars frame, one row per change (diff included)."""
    import polars as pl

    schema = {
        "event_time": pl.Datetime("us", "UTC"), "kind": pl.String(), "job": pl.String(), "run_id": pl.String(),
        "distance": pl.Int64(), "via_column_lineage": pl.Boolean(), "datasets": pl.List(pl.String()),
        "columns": pl.List(pl.String()), "detail": pl.String(), "diff": pl.String(),
    }  # fmt: skip
    rows = [
        {
            "event_time": c.event_time,
            "kind": c.kind,
            "job": str(c.job),
            "run_id": c.run_id,
            "distance": c.distance,
            "via_column_lineage": c.via_column_lineage,
            "datasets": [str(d) for d in c.datasets],
            "columns": list(c.columns),
            "detail": c.detail,
            "diff": c.diff,
        }  # fmt: skip
        for c in changes
    ]
    return pl.DataFrame(rows, schema=schema)
