"""What the plots and widgets tests read from the demo world, computed once per test process.

The demo world is read-only: the drift report compares its training snapshot (the Iceberg
snapshot the production model was trained on) with the current table, per day after training.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

DRIFTED = "user_session_count_7d"


def _catalog(manifest) -> dict[str, str]:
    return {"type": "sql", "uri": manifest.catalog["uri"], "warehouse": manifest.catalog["warehouse"]}


_CACHE: dict[tuple[str, str], object] = {}  # (what, world path): Manifests hold lists, so no lru_cache


def drift_report(manifest):
    key = ("drift", manifest.path)
    if key not in _CACHE:
        _CACHE[key] = _drift_report(manifest)
    return _CACHE[key]


def _drift_report(manifest):
    from mlobs_notebook import compute_drift, load_current, load_snapshot

    baseline = load_snapshot(manifest.training_source_uri, catalog_properties=_catalog(manifest))
    current = load_current(
        manifest.training_source_uri, manifest.time_column, start=manifest.training_date,
        catalog_properties=_catalog(manifest),
    )
    return compute_drift(
        baseline, current, time_column=manifest.time_column, granularity="1d", columns=manifest.features
    )


def lineage(manifest):
    from mlobs_notebook import load_lineage

    key = ("lineage", manifest.path)
    if key not in _CACHE:
        _CACHE[key] = load_lineage(manifest.lineage_file)
    return _CACHE[key]


def target(manifest) -> tuple[str, str]:
    return (manifest.lineage_dataset["namespace"], manifest.lineage_dataset["name"])


def week_before_incident(manifest) -> tuple[str, str]:
    from datetime import date

    incident = date.fromisoformat(manifest.incident_date)
    return (incident - timedelta(days=7)).isoformat(), incident.isoformat()


def bins_row(report, column: str, window) -> dict:
    rows = report.bins.filter(
        (pl.col("column_name") == column) & (pl.col("drift_type") == "BASELINE") & (pl.col("window_start") == window)
    )
    assert rows.height == 1
    return rows.row(0, named=True)
