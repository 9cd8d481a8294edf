"""The suspect window: when an upstream change must have happened to explain a drift onset. Pure.

One rule, used by the investigation to query the lineage, by the diagnosis to select suspects,
and by the panels to draw the window: from ``lookback`` before the onset window opens to the end
of that window. At ``1d`` a change at 05:00 explains a drift whose window opened that midnight;
at ``1h`` the onset keeps its hour, so the same change explains a drift from 06:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mlobs_notebook.times import Granularity, aware

__all__ = ["DEFAULT_LOOKBACK", "suspect_window"]

# Pipelines usually change a feature on the day it drifts or in the days before (a daily job
# whose new logic reaches a 7-day aggregate over the next days).
DEFAULT_LOOKBACK = timedelta(days=3)


def suspect_window(
    onset: datetime, granularity: Granularity | str, lookback: timedelta = DEFAULT_LOOKBACK
) -> tuple[datetime, datetime]:
    """``[onset - lookback, end of the onset window)``, aware, in the onset's zone."""
    start = aware(onset, "onset")
    return start - lookback, Granularity.parse(granularity).add(start, 1)
