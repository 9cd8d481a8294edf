"""The signals beyond per-feature drift, read for an investigation: joint drift, weekly
seasonality, slices and the metric estimated from the scores.

Each computes on frames with a ``window_start`` column (the drift report's windows: the data's
zone, the investigation's granularity) and adds no statistic of its own: ``drift.multivariate``,
``drift.seasonal``, ``drift.slices`` and ``correlate.estimate`` hold the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from mlobs_notebook.correlate import (
    FeatureOnset,
    MetricDrop,
    drift_onsets,
    estimated_performance,
    fit_calibration,
    metric_drop,
)
from mlobs_notebook.drift.multivariate import MultivariateDrift, multivariate_drift
from mlobs_notebook.drift.slices import (
    SliceFinding,
    carrier,
    categorical_slices,
    parse_slicing_exprs,
    slice_drift,
)
from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.times import Granularity, read_time_column

__all__ = ["Estimate", "estimate", "joint_drift", "slice_columns", "slices_of", "with_windows"]

# rows of a baseline without a time column are cut into this many pseudo-windows, in order, for
# the reconstruction error's thresholds
BASELINE_CHUNKS = 10


def with_windows(frame: pl.DataFrame, time_column: str | None, step: Granularity, time_format: str | None,
                 zone: str) -> pl.DataFrame:
    """``frame`` with ``window_start``: its time truncated to ``step`` in ``zone`` (as the drift
    report's windows); without a time column, rows in order cut into equal pseudo-windows."""
    if time_column is None or time_column not in frame.columns:
        size = max(1, frame.height // BASELINE_CHUNKS)
        start = pl.datetime(1970, 1, 1, time_zone=zone) + pl.duration(days=pl.int_range(pl.len()) // size)
        return frame.with_columns(start.alias("window_start"))
    time = read_time_column(frame, time_column, time_format=time_format, time_zone=zone)
    return frame.with_columns(time.expr.dt.truncate(step.every).alias("window_start"))


def joint_drift(
    baseline: pl.DataFrame, current: pl.DataFrame, features: Sequence[str], persistence: tuple[int, int],
) -> tuple[MultivariateDrift, FeatureOnset]:
    """The joint distribution's drift per window and its onset by the persistence rule."""
    result = multivariate_drift(baseline, current, features)
    onsets = drift_onsets(result.series(), persistence, statistic="classifier_auroc")
    return result, onsets[0] if onsets else FeatureOnset("joint distribution", None, 0, 0, None, None, "classifier_auroc")


def slice_columns(baseline: pl.LazyFrame, current: pl.LazyFrame, time_column: str,
                  slicing_exprs: Sequence[str] | None = None) -> list[str]:
    """Columns to slice by: categorical columns (text, boolean, categorical) in both frames, and
    the columns the slicing expressions name."""
    base, cur = baseline.collect_schema(), current.collect_schema()
    categorical = (pl.String, pl.Boolean, pl.Categorical)
    out = [c for c, t in cur.items() if c != time_column and c in base and (t in categorical or isinstance(t, pl.Enum))]
    for text in slicing_exprs or ():
        try:
            named = [text.strip()] if text.strip() in cur else pl.sql_expr(text).meta.root_names()
        except Exception:  # unreadable: parse_slicing_exprs raises the user-facing error later
            named = []
        out += [c for c in named if c in cur and c in base and c not in out]
    return out


def slices_of(
    baseline: pl.DataFrame, current: pl.DataFrame, onsets: Sequence[FeatureOnset], columns: Sequence[str],
    slicing_exprs: Sequence[str] | None,
) -> tuple[dict[str, tuple[SliceFinding, ...]], dict[str, str]]:
    """Per drifted feature: its drift in every slice (current rows from its onset on), and the
    sentence naming the slice that carries it, when one does."""
    slices = categorical_slices(baseline, columns)
    if slicing_exprs:
        slices += parse_slicing_exprs(slicing_exprs, current)
    findings: dict[str, tuple[SliceFinding, ...]] = {}
    sentences: dict[str, str] = {}
    for o in onsets:
        if o.onset is None or o.feature not in baseline.columns or not slices:
            continue
        after = current.filter(pl.col("window_start") >= o.onset)
        found = tuple(slice_drift(baseline, after, o.feature, slices))
        findings[o.feature] = found
        top = carrier(found)
        if top is not None:
            sentences[o.feature] = top.sentence()
    return findings, sentences


@dataclass
class Estimate:
    """The metric estimated from the scores (CBPE), per window, and its drop."""

    series: pl.DataFrame | None = None
    drop: MetricDrop | None = None
    notes: list[str] = field(default_factory=list)


def estimate(
    current: pl.DataFrame, baseline: pl.DataFrame, score_column: str, label_column: str | None, metric: str,
    persistence: tuple[int, int], higher_is_better: bool = True, threshold: float = 0.5,
) -> Estimate:
    """CBPE of ``metric`` per window of ``current`` (``window_start`` and ``score_column``).

    The scores are calibrated on the baseline when it holds them with ``label_column``
    (isotonic, NannyML's default); otherwise they are taken as calibrated, and a note says so.
    Raises :class:`UnknownColumn` when the current data lacks the score column.
    """
    if score_column not in current.columns:
        raise UnknownColumn(
            f"score column {score_column!r} is not in the current data; its columns are: "
            f"{', '.join(c for c in current.columns if c != 'window_start')}"
        )
    out = Estimate()
    calibration: Any = None
    if label_column and score_column in baseline.columns and label_column in baseline.columns:
        labelled = baseline.select(score_column, label_column).drop_nulls()
        try:
            calibration = fit_calibration(labelled[score_column].to_numpy(), labelled[label_column].cast(pl.Float64).to_numpy())
            out.notes.append(f"scores calibrated on the baseline's {labelled.height:,} labelled rows (isotonic)")
        except ValueError as exc:
            out.notes.append(f"scores not calibrated ({exc}): taken as probabilities")
    else:
        out.notes.append(f"{score_column} taken as calibrated probabilities (no labelled scores in the baseline)")
    try:
        out.series = estimated_performance(current, metric, score=score_column, calibration=calibration, threshold=threshold)
    except ValueError as exc:
        out.notes.append(str(exc))
        return out
    undefined = out.series.filter(pl.col("value").is_nan() | (pl.col("value").is_null() & (pl.col("rows") > 0)))
    out.series = out.series.with_columns(pl.col("value").fill_nan(None))
    if undefined.height:
        out.notes.append(
            f"the estimate is undefined in {undefined.height} window(s) from {undefined['window_start'][0]:%Y-%m-%d}: "
            "too few rows, or scores that put every row in one class"
        )
        if undefined.height >= persistence[0]:
            return out  # no claim that the estimate held or fell
    out.drop = metric_drop(out.series, f"estimated {metric}", persistence=persistence, higher_is_better=higher_is_better)
    return out
