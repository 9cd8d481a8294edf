"""The drift check a scheduler task calls: raise when features drift, so the DAG can retrain.

``check_feature_drift(table_uri, baseline=...)`` compares the current table (or a time range of
it) with the baseline and returns the :class:`~mlobs_notebook.drift.DriftReport`; when any feature
reaches ``threshold`` it raises :class:`~mlobs_notebook.errors.FeatureDriftDetected`, which names
the drifted features with their scores and carries the report (``exc.report``). In Airflow, a
task that raises fails, so a ``PythonOperator`` around it (or a branch that catches the error,
as in ``examples/airflow_retraining_dag.py``) triggers the retraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import polars as pl

from mlobs_notebook.errors import FeatureDriftDetected, InputError

__all__ = ["check_feature_drift"]


def check_feature_drift(
    table_uri: Any,
    baseline: Any,
    threshold: float = 0.15,
    time_column: str | None = None,
    *,
    statistic: str = "population_stability_index",
    granularity: str | None = None,
    columns: Sequence[str] | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    catalog_properties: dict[str, Any] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """Drift of the current table against ``baseline``; raises FeatureDriftDetected past ``threshold``.

    ``table_uri``: a table or file URI read at its latest snapshot (see
    :func:`mlobs_notebook.load_current`; ``start``/``end`` filter on ``time_column``), or a frame.
    ``baseline``: a frame, a fitted BaselineProfile, a snapshot URI (read as is, e.g.
    ``iceberg://cat/ns.table@<snapshot>``), or a model (``models:/name@alias`` or a
    ModelVersionRecord) whose training dataset is used. A feature drifts when ``statistic``
    reaches ``threshold`` in any window (``granularity`` windows on ``time_column``; one window
    otherwise). ``time_column`` itself is never compared.
    """
    from mlobs_notebook.drift import compute_drift, get_statistic

    if threshold is None or not isinstance(threshold, int | float) or isinstance(threshold, bool):
        raise InputError(f"threshold must be a number, not {threshold!r}")
    stat = get_statistic(statistic)  # UnknownStatistic lists the valid names
    current = _current(table_uri, time_column, start, end, catalog_properties)
    reference = _baseline(baseline, catalog_properties, tracking_uri)
    if time_column is not None and granularity is None:
        # one window: the time column only filtered the rows; it is never a feature
        current, reference = _without(current, time_column), _without(reference, time_column)
        time_column = None
    thresholds: dict[str, Any] = {"population_stability_index": None, statistic: float(threshold)}
    report = compute_drift(
        reference, current, time_column=time_column, granularity=granularity, columns=columns,
        thresholds=thresholds, consecutive=False,
    )
    scores = drift_scores(report, stat.name)
    drifted = {c: v for c, v in scores.items() if stat.beyond(v, float(threshold))}
    if drifted:
        raise FeatureDriftDetected(drifted, float(threshold), report)
    return report


def drift_scores(report: Any, statistic: str = "population_stability_index") -> dict[str, float]:
    """The worst value of ``statistic`` per column over the report's baseline windows (the
    smallest for p-values, the largest otherwise); columns with no value are left out."""
    worst = report.worst_by_column(statistic).filter(pl.col("worst").is_not_null()).sort("column_name")
    return {c: float(v) for c, v in worst.select("column_name", "worst").iter_rows()}


def _without(frame: Any, column: str) -> Any:
    if isinstance(frame, pl.LazyFrame) and column in frame.collect_schema().names():
        return frame.drop(column)
    if isinstance(frame, pl.DataFrame) and column in frame.columns:
        return frame.drop(column)
    if hasattr(frame, "to_numpy") and column in getattr(frame, "columns", ()):
        return frame.drop(columns=[column])  # pandas
    return frame  # a fitted profile


def _current(table: Any, time_column: str | None, start: Any, end: Any,
             catalog_properties: dict[str, Any] | None) -> Any:
    if isinstance(table, pl.DataFrame | pl.LazyFrame) or hasattr(table, "to_numpy"):
        if start is not None or end is not None:
            raise InputError("start and end filter a table URI; slice the frame you pass instead")
        return table
    from mlobs_notebook.sources.tables import load_current

    return load_current(table, time_column=time_column, start=start, end=end,
                        catalog_properties=catalog_properties)


def _baseline(baseline: Any, catalog_properties: dict[str, Any] | None,
              tracking_uri: str | None) -> Any:
    from mlobs_notebook.drift import BaselineProfile
    from mlobs_notebook.sources.tables import load_snapshot

    if isinstance(baseline, BaselineProfile | pl.DataFrame | pl.LazyFrame) or hasattr(baseline, "to_numpy"):
        return baseline
    from mlobs_notebook.records import ModelVersionRecord
    from mlobs_notebook.sources.models import training_datasets

    if isinstance(baseline, ModelVersionRecord) or (
            isinstance(baseline, str) and baseline.startswith(("models:/", "runs:/"))):
        record = training_datasets(baseline, tracking_uri=tracking_uri)[0]
        return load_snapshot(record, check_digest=False)
    if isinstance(baseline, str):
        return load_snapshot(baseline, catalog_properties=catalog_properties)
    raise InputError(
        f"baseline must be a frame, a BaselineProfile, a snapshot URI or a model, not "
        f"{type(baseline).__name__}"
    )
