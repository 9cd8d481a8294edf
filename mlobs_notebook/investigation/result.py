"""The result of an investigation: a frozen record of everything found, and its outputs.

Computed once by :func:`~mlobs_notebook.investigation.investigate`; notebooks display it, the
CLI prints it and :mod:`mlobs_notebook.postmortem` exports it (JSON, HTML, Markdown).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.correlate import FeatureOnset, MetricDrop, lead_time, lead_windows
from mlobs_notebook.diagnose import AppChange, Diagnosis, Inconclusive
from mlobs_notebook.records import DatasetRecord, MetricSource, ModelVersionRecord, SnapshotCheck
from mlobs_notebook.times import Granularity

if TYPE_CHECKING:
    from mlobs_notebook.drift import DriftReport
    from mlobs_notebook.drift.multivariate import MultivariateDrift
    from mlobs_notebook.drift.slices import SliceFinding
    from mlobs_notebook.lineage import LineageGraph, Upstream

__all__ = ["TRACES", "Investigation"]

TRACES = "mlflow_traces"  # the source type of a baseline made of traces


@dataclass(frozen=True)
class Investigation:
    """Everything an investigation found, with the evidence behind its verdict.

    Times are aware: ``current_range`` and ``trained_until`` in UTC, drift windows and onsets in
    the data's zone (``zone``). ``metric`` is the metric per window (``window_start``, ``value``,
    ``run_id``, ``points``; from a predictions log also ``labelled_rows`` and ``rows``), read from
    ``metric_source``; ``correlations`` the lagged correlation per drifted feature, lags counted
    in windows of ``granularity``. ``dataset`` is the training dataset MLflow recorded (or one
    describing the baseline given), ``baseline_source`` what was read, with its version.
    ``multivariate``: the joint distribution's drift per window (None when not computed);
    ``slices``: per drifted feature, its drift in each slice; ``estimated_metric``/``estimated_drop``:
    the metric estimated from the scores per window (``window_start``, ``value``, ``rows``) and its
    drop (None without a score column); ``seasonal``: features with a weekly pattern in the
    training data (then each day is compared with the baseline's same weekday); ``label_delay``:
    as given.

    An investigation of an LLM app's traces (:func:`~mlobs_notebook.investigation.traces.investigate_traces`)
    fills the same record: ``model`` is the app's LoggedModel, ``dataset`` its baseline traces
    (``source_type`` ``mlflow_traces``), ``features`` the trace features, whose role (input,
    retrieval, app) ``feature_roles`` gives, and ``app_changes`` the app versions that started
    serving.
    """

    model: ModelVersionRecord
    dataset: DatasetRecord
    snapshot_check: SnapshotCheck | None
    features: tuple[str, ...]
    time_column: str
    granularity: Granularity
    current_source: str
    current_range: tuple[datetime | None, datetime | None]
    trained_until: datetime | None
    drift: DriftReport
    metric_name: str
    metric: pl.DataFrame
    onsets: tuple[FeatureOnset, ...]
    drop: MetricDrop
    correlations: dict[str, pl.DataFrame]
    lineage_dataset: str | None
    upstream: dict[str, Upstream]
    diagnosis: Diagnosis
    notes: tuple[str, ...] = ()
    zone: str = "UTC"
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    lineage: LineageGraph | None = field(default=None, compare=False, repr=False)
    multivariate: MultivariateDrift | None = field(default=None, compare=False, repr=False)
    slices: dict[str, tuple[SliceFinding, ...]] = field(default_factory=dict, compare=False, repr=False)
    estimated_metric: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    estimated_drop: MetricDrop | None = None
    seasonal: tuple[str, ...] = ()
    label_delay: timedelta | None = None
    metric_source: MetricSource | None = None
    baseline_source: str | None = None
    app_changes: tuple[AppChange, ...] = ()
    feature_roles: dict[str, str] = field(default_factory=dict)

    @property
    def inconclusive(self) -> Inconclusive | None:
        """Why the evidence is too thin for a verdict, and the flag that fixes it (else None)."""
        return self.diagnosis.inconclusive

    @property
    def of_traces(self) -> bool:
        """Whether this investigates an LLM app's traces (else a model's tabular features)."""
        return self.dataset.source_type == TRACES

    @property
    def verdict(self) -> str:
        return self.diagnosis.verdict

    @property
    def drifted_features(self) -> tuple[FeatureOnset, ...]:
        return self.diagnosis.drifted

    @property
    def first_onset(self) -> datetime | None:
        """The earliest drift onset among the drifted features; when no feature drifted on its
        own, the joint distribution's (multivariate) onset; else None."""
        first = next((o.onset for o in self.diagnosis.drifted if o.onset is not None), None)
        joint = self.diagnosis.joint
        if first is None and joint is not None and self.diagnosis.leaned_on:
            return joint.onset
        return first

    @property
    def secondary(self) -> str | None:
        """The secondary cause's verdict, if the diagnosis names one."""
        cause = self.diagnosis.secondary
        return cause.verdict if cause is not None else None

    @property
    def lead_time_estimated(self) -> timedelta | None:
        """From the first drift onset to the drop of the metric estimated from the scores."""
        onset = self.estimated_drop.onset if self.estimated_drop is not None else None
        return lead_time(self.first_onset, onset)

    @property
    def lead_days_estimated(self) -> float | None:
        lead = self.lead_time_estimated
        return None if lead is None else round(lead.total_seconds() / 86400, 4)

    @property
    def label_lag_days(self) -> float | None:
        """How much earlier the estimate fell than the realized metric (days): the time gained
        by not waiting for labels."""
        if self.estimated_drop is None or self.estimated_drop.onset is None or self.drop.onset is None:
            return None
        return round(lead_time(self.estimated_drop.onset, self.drop.onset).total_seconds() / 86400, 4)  # type: ignore[union-attr]

    @property
    def lead_time(self) -> timedelta | None:
        """From the first drift onset to the metric's drop (positive: drift came first)."""
        return lead_time(self.first_onset, self.drop.onset)

    @property
    def lead_windows(self) -> int | None:
        """:attr:`lead_time` in windows of :attr:`granularity`."""
        return lead_windows(self.first_onset, self.drop.onset, self.granularity)

    @property
    def lead_days(self) -> float | None:
        """:attr:`lead_time` in days (fractional below a day's granularity)."""
        lead = self.lead_time
        return None if lead is None else round(lead.total_seconds() / 86400, 4)

    def to_dict(self) -> dict[str, Any]:
        from mlobs_notebook.postmortem import investigation_dict

        return investigation_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self, figures_dir: str | None = None) -> str:
        from mlobs_notebook.postmortem import to_markdown

        return to_markdown(self, figures_dir=figures_dir)

    def to_html(self) -> str:
        from mlobs_notebook.postmortem import to_html

        return to_html(self)

    def write(self, path: str) -> str:
        """Write the postmortem (``.html`` or ``.md``) atomically; returns the path written."""
        from mlobs_notebook.postmortem import write_report

        return write_report(self, path)

    def _repr_html_(self) -> str:
        from mlobs_notebook.postmortem import summary_html

        return summary_html(self)

    @property
    def _model_ref(self) -> str:
        m = self.model
        return f"{m.name}@v{m.version}" if m.version is not None else repr(m.label)

    def __repr__(self) -> str:
        return (
            f"Investigation(verdict={self.verdict!r}, model={self._model_ref}, "
            f"drifted={[o.feature for o in self.drifted_features]}, "
            f"suspects={[s.job for s in self.diagnosis.suspects]}"
            + (f", secondary={self.secondary!r}" if self.secondary else "") + ")"
        )
