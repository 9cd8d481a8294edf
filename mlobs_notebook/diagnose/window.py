"""The suspect windows: when an upstream change must have happened to explain what was seen. Pure.

One rule each, used by the investigation to query the lineage, by the diagnosis to select
suspects, and by the panels to draw the window:

- **A drift onset** (:func:`suspect_window`): from ``lookback`` before the onset window opens to
  the end of that window. At ``1d`` a change at 05:00 explains a drift whose window opened that
  midnight; at ``1h`` the onset keeps its hour, so the same change explains a drift from 06:00.
- **A metric drop with no drift** (:func:`timing_window`): a change that moves no distribution
  (a join on the wrong key shuffling an uncorrelated column) shows only in the metric, once the
  labels of the predictions it spoiled arrive. With a known label delay the change falls in
  ``[drop - delay - lookback, drop - delay + one window)``; without one, anywhere in
  ``[drop - max_label_delay, drop + one window)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mlobs_notebook.times import Granularity, aware

__all__ = ["DEFAULT_LOOKBACK", "DEFAULT_MAX_LABEL_DELAY", "suspect_window", "timing_window"]

# Pipelines usually change a feature on the day it drifts or in the days before (a daily job
# whose new logic reaches a 7-day aggregate over the next days).
DEFAULT_LOOKBACK = timedelta(days=3)
# Labels of churn, fraud and credit models arrive within days; a week covers the usual delays.
DEFAULT_MAX_LABEL_DELAY = timedelta(days=7)


def suspect_window(
    onset: datetime, granularity: Granularity | str, lookback: timedelta = DEFAULT_LOOKBACK
) -> tuple[datetime, datetime]:
    """``[onset - lookback, end of the onset window)``, aware, in the onset's zone."""
    start = aware(onset, "onset")
    return start - lookback, Granularity.parse(granularity).add(start, 1)


def timing_window(
    drop_onset: datetime,
    granularity: Granularity | str,
    label_delay: timedelta | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    max_label_delay: timedelta = DEFAULT_MAX_LABEL_DELAY,
) -> tuple[datetime, datetime]:
    """Where a change explains a metric drop without drift (see the module docstring)."""
    start = aware(drop_onset, "metric drop onset")
    step = Granularity.parse(granularity)
    if label_delay is None:
        return start - max_label_delay, step.add(start, 1)
    affected = start - label_delay
    return affected - lookback, step.add(affected, 1)
