"""When the evidence is too thin for a verdict: the rules behind ``inconclusive``. Pure.

A verdict needs the metric over enough windows after the training data ends:

- **The minimum**: :func:`minimum_evaluations` windows with a value after the training data,
  17 by default: 14 to set the reference level (the median the drop is measured from,
  :data:`~mlobs_notebook.correlate.REFERENCE_POINTS`) and 3 to judge a sustained drop (the
  persistence rule, 2 of 3 windows). With a baseline value given, the 3 windows alone.
- **Many evaluations on one date**: when more than half of the evaluations (and at least 3) fall
  in one window, they were dated wrong (a backfill's runs all start "now"): the series is not
  read, whatever its length; the reason says how many and names ``--date-from``.
- **No labelled rows**: a predictions log whose labels have not arrived yet.
- **A moving reference**: when the metric already fell inside the windows that set its reference
  level (the second half of them lower than the first by more than half the tolerance the drop
  is judged with), the reference is no level: a drop soon after deployment would read as
  noise. The fix names ``--baseline-value`` (the level before the fall).

Each reason comes with the flag that fixes it, taken from the source when the store shows the
way (a tag holding dates, a run with a history), else the flags that read the metric elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from mlobs_notebook.correlate import DEFAULT_PERSISTENCE, REFERENCE_POINTS
from mlobs_notebook.records import MetricSource
from mlobs_notebook.times import Granularity, human

__all__ = ["CROWDED_MIN", "Inconclusive", "minimum_evaluations", "moving_reference", "thin_evidence"]

# the fewest evaluations in one window that can read as "collapsed onto one date"
CROWDED_MIN = 3
_ELSEWHERE = ("--date-from, --metric-run RUN_ID, --eval-filter, or a predictions log "
              "(--predictions URI --prediction-column COL --label-column COL)")


@dataclass(frozen=True)
class Inconclusive:
    """Why the evidence is too thin for a verdict (a sentence) and the flag that fixes it."""

    reason: str
    flag: str


def minimum_evaluations(
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE, baseline_value_given: bool = False,
    reference_points: int = REFERENCE_POINTS,
) -> int:
    """Windows with a value needed after the training data (see the module docstring)."""
    return (0 if baseline_value_given else reference_points) + persistence[1]


def thin_evidence(
    series: pl.DataFrame, source: MetricSource | None, *, trained_until: datetime | None,
    granularity: Granularity, minimum: int,
) -> Inconclusive | None:
    """The reason the series cannot carry a verdict, or None when it can.

    ``series`` is per window (``window_start``, ``value``, ``points``: how many evaluations fell in
    the window); ``trained_until`` is when the training data ends (None: unknown, every window
    counts).
    """
    metric = source.metric if source is not None else "the metric"
    if source is not None and source.labelled_rows == 0:
        return Inconclusive(source.hint or f"no labelled rows yet: no window has a {metric} value",
                            source.hint_flag or "--label-column")
    rows = series.drop_nulls("value")
    starts: list[datetime] = rows["window_start"].to_list()
    windows = sum(1 for w in starts if trained_until is None or granularity.add(w, 1) > trained_until)
    total = int(rows["points"].sum()) if rows.height else 0
    crowded = rows.sort("points", "window_start", descending=[True, False]).head(1)
    most = int(crowded["points"][0]) if crowded.height else 0
    runs_kind = source is None or source.kind != "predictions"
    hint = f" {source.hint}." if source is not None and source.hint else ""
    if runs_kind and most >= CROWDED_MIN and most * 2 > total:
        when = human(crowded["window_start"][0], granularity)
        dated = source.date_from if source is not None and source.date_from else "their dates"
        return Inconclusive(
            f"{most} of the {total} evaluations of {metric} fall on {when} (dated by {dated}): the series "
            f"cannot show when {metric} changed, and one value stands for all of them.{hint or ' Date each run by when it evaluated with --date-from tags.<name> (or params.<name>, end_time, metric_timestamp).'}",
            source.hint_flag if source is not None and source.hint_flag else "--date-from",
        )
    if windows < minimum:
        since = f" after the training data ends ({human(trained_until)})" if trained_until is not None else ""
        return Inconclusive(
            f"{metric} has a value in {windows} window{'s' if windows != 1 else ''} of {granularity}{since}, "
            f"fewer than the {minimum} a verdict needs.{hint or ' Read the metric from where it is logged: ' + _ELSEWHERE + '.'}",
            source.hint_flag if source is not None and source.hint_flag else _ELSEWHERE,
        )
    return None


def moving_reference(
    series: pl.DataFrame, metric: str, higher_is_better: bool = True, reference_points: int = REFERENCE_POINTS,
    min_tolerance: float = 0.02,
) -> Inconclusive | None:
    """An :class:`Inconclusive` when the metric fell inside its reference windows (the first
    ``reference_points`` values of ``series``, ``window_start`` and ``value``): the second half
    of them lower than the first by more than three times the noise within the halves (1.4826
    MAD, the larger of the two; at least ``min_tolerance``). None otherwise, and with fewer values.
    The flag gives the level of the first half and a tolerance from its noise."""
    import numpy as np

    values = series.drop_nulls("value").sort("window_start")["value"].to_numpy()
    if len(values) < reference_points:
        return None
    sign = 1.0 if higher_is_better else -1.0
    ref = values[:reference_points] * sign
    half = reference_points // 2
    first, second = ref[:half], ref[half:]

    def noise(part: np.ndarray) -> float:
        return float(np.median(np.abs(part - np.median(part)))) * 1.4826

    level, later = float(np.median(first)), float(np.median(second))
    if later >= level - max(min_tolerance, 3.0 * max(noise(first), noise(second))):
        return None
    tolerance = max(min_tolerance, 3.0 * noise(first))
    return Inconclusive(
        f"{metric} already moved within the {reference_points} windows that set its reference level "
        f"(median {sign * level:.3f}, then {sign * later:.3f}): a drop soon after deployment cannot be told "
        "from noise against that reference",
        f"--baseline-value {sign * level:.3f} --tolerance {tolerance:.3f} (the level before the fall and its noise)",
    )
