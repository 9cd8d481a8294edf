"""The records every step passes along: a source reference, a dataset, a model version, a check.

Leaves of the package: they import nothing from it but the markup helper, so every module can
use them and nothing cycles. They hold what the stores said, parsed; the readers that fill them
live in :mod:`mlobs_notebook.sources`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from mlobs_notebook import markup

__all__ = ["DatasetRecord", "MetricSource", "ModelVersionRecord", "SnapshotCheck", "SourceRef"]

ICEBERG = "iceberg"  # the source type of mlobs_notebook's Iceberg dataset source


@dataclass(frozen=True)
class SourceRef:
    """Where a dataset lives, parsed: ``kind`` is local, iceberg, delta, http, s3, gs, az, ...

    ``snapshot_id`` (Iceberg) or ``version`` (Delta) pin the exact data; None means the table as
    it is now, unless ``as_of`` says which moment it is to be read at (aware UTC).
    """

    kind: str
    uri: str
    path: str | None = None
    table: str | None = None
    catalog: str | None = None
    snapshot_id: int | None = None
    version: int | None = None
    catalog_properties: Mapping[str, str] = field(default_factory=dict)
    as_of: datetime | None = None

    @property
    def pinned(self) -> bool:
        """Whether the reference names one immutable snapshot (a file, a snapshot, a version)."""
        if self.kind == ICEBERG:
            return self.snapshot_id is not None
        if self.kind == "delta":
            return self.version is not None
        return True

    def at_latest(self) -> SourceRef:
        """The same table without a pinned snapshot or version, now (the current data)."""
        if self.kind == ICEBERG and self.catalog is not None:
            uri = f"iceberg://{self.catalog}/{self.table or ''}"
            return SourceRef(ICEBERG, uri, table=self.table, catalog=self.catalog,
                             catalog_properties=self.catalog_properties)
        if self.kind == "delta" and self.uri.startswith("delta"):
            return SourceRef("delta", f"delta://{self.path}", path=self.path, table=self.table)
        return replace(self, snapshot_id=None, version=None, as_of=None)

    @property
    def described(self) -> str:
        """The URI with the version or snapshot read, as a person reads it."""
        if self.kind == "delta" and self.version is not None and "@" not in self.uri:
            return f"{self.uri} (Delta version {self.version})"
        if self.kind == ICEBERG and self.snapshot_id is not None and "@" not in self.uri:
            return f"{self.uri} (Iceberg snapshot {self.snapshot_id})"
        return self.uri


@dataclass(frozen=True)
class ModelVersionRecord:
    """One registered model version and the run that produced it.

    ``name`` and ``version`` are ``None`` when the record was built from a run that no registered
    version points at. ``creation_time`` is aware UTC. ``notes`` say how it was found when that
    matters (a legacy stage read instead of an alias).
    """

    name: str | None
    version: int | None
    aliases: tuple[str, ...]
    run_id: str
    logged_model_id: str | None
    creation_time: datetime | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    tracking_uri: str = ""
    source: str | None = None
    experiment_id: str | None = None
    run_start_time: datetime | None = None
    stage: str | None = None
    notes: tuple[str, ...] = ()

    __hash__ = None  # type: ignore[assignment]  # holds dicts; compare, do not hash

    @property
    def uri(self) -> str:
        if self.version is None and self.logged_model_id:
            return f"models:/{self.logged_model_id}"  # an MLflow 3 LoggedModel, not a registered version
        return f"models:/{self.name}/{self.version}" if self.name else f"runs:/{self.run_id}"

    @property
    def label(self) -> str:
        """How reports name it: ``churn_predictor version 3``, ``rag_assistant-v2 (LoggedModel
        m-...)`` for an app version, or the run it came from."""
        if self.version is not None:
            return f"{self.name} version {self.version}"
        if self.logged_model_id:
            return f"{self.name} (LoggedModel {self.logged_model_id})"
        return self.name or f"run {self.run_id}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = [
            ("model", f"{self.name} v{self.version}" if self.name else "(not registered)"),
            ("aliases", ", ".join(self.aliases) or "none"),
            ("stage", self.stage or ""),
            ("run", self.run_id),
            ("logged model", self.logged_model_id or ""),
            ("created", self.creation_time.isoformat() if self.creation_time else ""),
            ("metrics", ", ".join(f"{k}={v:.4g}" for k, v in sorted(self.metrics.items()))),
            ("params", ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))),
            ("tracking", self.tracking_uri),
            *(("note", note) for note in self.notes),
        ]
        return markup.table(rows)


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset input of a run, as MLflow recorded it, with its source parsed.

    ``source_type`` is MLflow's (``code``, ``local``, ``s3``, ``delta_table``, ``iceberg`` ...);
    ``schema`` maps column to MLflow type; ``profile`` is MLflow's (``num_rows`` ...).
    """

    name: str
    digest: str
    source_type: str
    source: SourceRef
    schema: dict[str, str] | None
    profile: dict[str, Any] | None
    context: str | None
    run_id: str

    __hash__ = None  # type: ignore[assignment]

    @property
    def uri(self) -> str:
        return self.source.uri

    @property
    def num_rows(self) -> int | None:
        rows = (self.profile or {}).get("num_rows")
        return rows if isinstance(rows, int) else None

    def _repr_html_(self) -> str:
        rows = [
            ("dataset", self.name),
            ("context", self.context or ""),
            ("source", f"{self.source_type}: {self.source.uri}"),
            ("digest", self.digest),
            ("profile", json.dumps(self.profile) if self.profile else ""),
            ("columns", ", ".join(self.schema or {})),
        ]
        return markup.table(rows)


@dataclass(frozen=True)
class SnapshotCheck:
    """Does the data at a recorded source still match what MLflow recorded?

    ``status`` is one of:

    - ``match``: every check made agrees (``coverage`` says what the digest covered);
    - ``mismatch``: a check disagrees: the data is not what the model was trained on;
    - ``partial``: the recorded digest matches but covers only part of the data, and nothing
      else recorded could confirm the rest (never called a full match);
    - ``unchecked``: the data could not be read or nothing was recorded to check against.

    ``expected``/``actual`` are the recorded and recomputed digests; ``message`` is a sentence.
    """

    status: str
    expected: str | None
    actual: str | None
    message: str
    coverage: str | None = None
    checks: Mapping[str, bool] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return self.status == "match"

    def __bool__(self) -> bool:
        return self.matches

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "matches": self.matches,
            "expected": self.expected,
            "actual": self.actual,
            "coverage": self.coverage,
            "checks": dict(self.checks),
            "message": self.message,
        }


@dataclass(frozen=True)
class MetricSource:
    """Where a metric series came from, said as a person would, and what could make it thicker.

    ``kind`` is one of ``evaluation_runs`` (runs found by a filter), ``run_history`` (one run's
    logged values), ``logged_model`` (metrics MLflow 3 logged on the LoggedModel, such as
    ``mlflow.models.evaluate``'s), ``predictions`` (computed per window from a predictions log) or
    ``profile_metrics`` (a column of a Databricks InferenceLog profile metrics table).
    ``metric`` is the name read (``roc_auc`` when ``auc`` was asked and only ``roc_auc`` logged);
    ``hint`` a sentence naming the flag that would give more points (``hint_flag``) when the store
    shows such a way (a tag holding dates, a run with a history); ``labelled_rows`` and ``rows``
    count a predictions log's rows whose label had arrived, and all its rows.
    """

    kind: str
    metric: str
    description: str
    date_from: str | None = None
    hint: str | None = None
    hint_flag: str | None = None
    labelled_rows: int | None = None
    rows: int | None = None
    higher_is_better: bool = True
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
