"""What a postmortem says, as plain data: the JSON contract and the rows every format shows.

``investigation_dict`` is the output of ``mlobs investigate --format json``; its schema is
``mlobs_notebook/schemas/investigation.schema.json``. Times are ISO 8601 with their offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from mlobs_notebook.times import human

if TYPE_CHECKING:
    from mlobs_notebook.investigation import Investigation

__all__ = ["STAT_KEYS", "TOP_FEATURES", "at_onset", "investigation_dict", "iso", "timeline_rows"]

TOP_FEATURES = 3
STAT_KEYS = ("population_stability_index", "js_distance", "ks_statistic", "wasserstein_distance",
             "chi_squared_pvalue", "tv_distance", "percent_null_delta", "avg_delta")


def iso(value: Any) -> Any:
    """ISO 8601 text for a date or datetime; anything else unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def at_onset(inv: Investigation, feature: str, onset: datetime | None) -> dict[str, Any]:
    """The report's BASELINE row of ``feature`` in its onset window (empty without an onset)."""
    if onset is None:
        return {}
    rows = inv.drift.table.filter(
        (pl.col("column_name") == feature)
        & (pl.col("drift_type") == "BASELINE")
        & (pl.col("window_start") == onset)
    )
    return rows.row(0, named=True) if rows.height else {}


def investigation_dict(inv: Investigation) -> dict[str, Any]:
    """The JSON contract of ``mlobs investigate --format json`` (``schemas/investigation.schema.json``)."""
    d = inv.diagnosis
    drifted = []
    for o in d.drifted:
        row = at_onset(inv, o.feature, o.onset)
        entry: dict[str, Any] = {
            "feature": o.feature,
            "first_drift": iso(o.onset),
            "first_drift_date": iso(o.onset.date()) if o.onset is not None else None,
            "drifted_windows": o.drifted_windows,
            "windows": o.windows,
            "peak_" + o.statistic: o.peak_value,
        }
        entry.update({k: row.get(k) for k in STAT_KEYS})
        drifted.append(entry)
    check = inv.snapshot_check
    return {
        "verdict": d.verdict,
        "source": "traces" if inv.of_traces else "model",
        "model": {
            "name": inv.model.name,
            "version": inv.model.version,
            "run_id": inv.model.run_id or None,
            "aliases": list(inv.model.aliases),
            "logged_model_id": inv.model.logged_model_id,
            "tracking_uri": inv.model.tracking_uri,
        },
        "baseline": {
            "name": inv.dataset.name,
            "source": inv.dataset.source.uri,
            "source_type": inv.dataset.source_type,
            "digest": inv.dataset.digest,
            "digest_status": None if check is None else check.status,
            "digest_matches": None if check is None else check.matches,
            "digest_coverage": None if check is None else check.coverage,
            "digest_message": None if check is None else check.message,
            "trained_until": iso(inv.trained_until),
        },
        "current": {
            "source": inv.current_source,
            "time_column": inv.time_column,
            "granularity": str(inv.granularity),
            "zone": inv.zone,
            "start": iso(inv.current_range[0]),
            "end": iso(inv.current_range[1]),
            "features": list(inv.features),
        },
        "drifted_features": drifted,
        "metric": {
            "name": inv.metric_name,
            "baseline_value": inv.drop.reference,
            "tolerance": inv.drop.tolerance,
            "drop_start": iso(inv.drop.onset),
            "drop_date": iso(inv.drop.onset.date()) if inv.drop.onset is not None else None,
            "value_at_drop": inv.drop.value_at_onset,
            "mean_after_drop": inv.drop.mean_after,
            "evaluations": inv.drop.points,
        },
        "lead_days": inv.lead_days,
        "lead_windows": inv.lead_windows,
        "suspect_windows": {
            feature: {"start": iso(lo), "end": iso(hi)} for feature, (lo, hi) in d.suspect_windows.items()
        },
        "suspects": [s.to_dict() for s in d.suspects],
        "evidence": list(d.evidence),
        "recommendation": d.recommendation,
        "warnings": list(d.warnings),
        "lineage_dataset": inv.lineage_dataset,
        "correlations": {feature: frame.to_dicts() for feature, frame in inv.correlations.items()},
        "app_changes": [c.to_dict() for c in inv.app_changes],
        "feature_roles": dict(inv.feature_roles),
        "notes": list(inv.notes),
    }


def timeline_rows(inv: Investigation) -> list[list[str]]:
    """(when, what, detail) rows of the investigation's events, oldest first, as people read them."""
    from mlobs_notebook.plots.timeline import timeline_events

    return [[human(e["when"], inv.granularity), e["what"], e["detail"]] for e in timeline_events(inv)]


def snapshot_line(inv: Investigation) -> str:
    """The digest check as one sentence, its status first (never silent when it failed)."""
    if inv.of_traces:
        return (f"not applicable: the baseline is {inv.dataset.num_rows} traces read from the tracking store "
                f"({inv.dataset.digest} digests their ids)")
    check = inv.snapshot_check
    if check is None:
        return "not checked: " + next((n for n in inv.notes if "digest" in n), "the snapshot was not re-read")
    return f"{check.status}: {check.message}"
