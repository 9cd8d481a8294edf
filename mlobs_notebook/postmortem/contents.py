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

__all__ = ["STAT_KEYS", "TOP_FEATURES", "at_onset", "cause_lines", "inconclusive_lines", "investigation_dict", "iso",
           "metric_line", "signal_rows", "snapshot_line", "timeline_rows"]

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
    source = inv.metric_source
    return {
        "verdict": d.verdict,
        "confidence": d.confidence,
        "causes": [c.to_dict() for c in d.causes],
        "inconclusive": None if d.inconclusive is None else {
            "reason": d.inconclusive.reason, "flag": d.inconclusive.flag},
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
            "read": inv.baseline_source or inv.dataset.source.uri,
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
            "source": None if source is None else {
                "kind": source.kind, "metric": source.metric, "description": source.description,
                "date_from": source.date_from, "labelled_rows": source.labelled_rows, "rows": source.rows,
                "higher_is_better": source.higher_is_better,
            },
            "series": [
                {"window_start": iso(row["window_start"]), "value": row["value"], "points": row["points"],
                 **({"labelled_rows": row["labelled_rows"]} if "labelled_rows" in row else {})}
                for row in inv.metric.iter_rows(named=True)
            ],
        },
        "lead_days": inv.lead_days,
        "lead_windows": inv.lead_windows,
        "lead_days_estimated": inv.lead_days_estimated,
        "label_lag_days": inv.label_lag_days,
        "estimated_metric": _estimated(inv),
        "multivariate": _multivariate(inv),
        "slices": {f: [x.to_dict() for x in found] for f, found in inv.slices.items()},
        "seasonal_features": list(inv.seasonal),
        "timing_window": None if d.timing_window is None else {
            "start": iso(d.timing_window[0]), "end": iso(d.timing_window[1])},
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


def _estimated(inv: Investigation) -> dict[str, Any] | None:
    if inv.estimated_metric is None:
        return None
    drop = inv.estimated_drop
    return {
        "name": f"estimated {inv.metric_name}",
        "method": "confidence-based (CBPE)",
        "reference": None if drop is None else drop.reference,
        "drop_start": iso(drop.onset) if drop is not None else None,
        "windows": [{"window_start": iso(r["window_start"]), "value": r["value"], "rows": r["rows"]}
                    for r in inv.estimated_metric.iter_rows(named=True)],
    }


def _multivariate(inv: Investigation) -> dict[str, Any] | None:
    mv, d = inv.multivariate, inv.diagnosis
    if mv is None:
        return None
    return {
        "onset": iso(d.joint.onset) if d.joint is not None else None,
        "leaned_on": [{"feature": f, "auc_lost": v} for f, v in mv.leaned_on],
        "auc_threshold": mv.auc_threshold,
        "components": mv.components,
        "windows": [
            {"window_start": iso(r["window_start"]), "classifier_auroc": r["classifier_auroc"],
             "reconstruction_error": r["reconstruction_error"], "drifted": r["drifted"]}
            for r in mv.table.iter_rows(named=True)
        ],
    }


def signal_rows(inv: Investigation) -> list[list[str]]:
    """(signal, finding) rows for what per-feature drift does not show: the joint distribution,
    slices carrying a drift, the metric estimated from scores, weekly seasonality."""
    d, step = inv.diagnosis, inv.granularity
    rows = []
    if inv.multivariate is not None:
        joint = d.joint
        finding = (f"drifted from {human(joint.onset, step)}, leaning on {', '.join(f for f, _ in inv.multivariate.leaned_on)}"
                   if joint is not None and joint.onset is not None else "held in every window")
        rows.append(["joint distribution (domain classifier, PCA reconstruction)", finding])
    for feature, found in inv.slices.items():
        rows += [[f"slices of {feature}", f.sentence()] for f in found if f.carries]
    drop = inv.estimated_drop
    if inv.estimated_metric is not None:
        finding = (f"fell from {human(drop.onset, step)}" if drop is not None and drop.onset is not None
                   else "held" if drop is not None else "not judged (see notes)")
        rows.append([f"estimated {inv.metric_name} (confidence-based, before labels)", finding])
    if inv.seasonal:
        rows.append(["weekly seasonality", f"{', '.join(inv.seasonal)}: each day compared with its weekday"])
    return rows


def cause_lines(inv: Investigation) -> list[str]:
    """One line per cause: verdict, confidence and what it covers (primary first)."""
    return [
        f"{'primary' if i == 0 else 'secondary'}: {c.verdict} (confidence {c.confidence:.1f})"
        + (f" — {', '.join(c.features)}" if c.features else "")
        for i, c in enumerate(inv.diagnosis.causes)
    ]


def timeline_rows(inv: Investigation) -> list[list[str]]:
    """(when, what, detail) rows of the investigation's events, oldest first, as people read them."""
    from mlobs_notebook.plots.timeline import timeline_events

    return [[human(e["when"], inv.granularity), e["what"], e["detail"]] for e in timeline_events(inv)]


def metric_line(inv: Investigation) -> str:
    """Where the metric series came from, as one sentence."""
    source = inv.metric_source
    if source is not None:
        return source.description
    return f"{inv.metric_name} from the traces' assessments" if inv.of_traces else f"{inv.metric_name} from evaluation runs"


def inconclusive_lines(inv: Investigation) -> list[str]:
    """Why there is no verdict and the flag that fixes it (empty for any other verdict)."""
    why = inv.diagnosis.inconclusive
    return [] if why is None else [f"Why: {why.reason}", f"Fix: re-run with {why.flag}"]


def snapshot_line(inv: Investigation) -> str:
    """The digest check as one sentence, its status first (never silent when it failed)."""
    if inv.of_traces:
        return (f"not applicable: the baseline is {inv.dataset.num_rows} traces read from the tracking store "
                f"({inv.dataset.digest} digests their ids)")
    check = inv.snapshot_check
    if check is None:
        return "not checked: " + next((n for n in inv.notes if "digest" in n), "the snapshot was not re-read")
    return f"{check.status}: {check.message}"
