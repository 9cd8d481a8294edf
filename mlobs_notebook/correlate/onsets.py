"""When each feature's drift started: the persistence rule over a report's windows. Pure.

A feature's **onset** is the first window whose drift flag holds and stays: at least
``persistence[0]`` of the ``persistence[1]`` windows starting there are flagged (2 of 3 by
default), so one noisy window is not an onset and a gap of one window does not delay it. The
onset is the window's start, an aware datetime in the data's zone: at ``1h`` it keeps its hour.

A slow drift is flagged only once it is large, days after it began. Its **warn onset** is the
first window of the sustained run of warned-or-drifted windows (the report's ``warn`` status,
PSI 0.1 by default) that leads into the drift onset, by the same persistence rule: when the
diagnosis asks whether a feature moved before the metric fell, a drift already under way counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np
import polars as pl

from mlobs_notebook.times import aware

__all__ = ["DEFAULT_PERSISTENCE", "FeatureOnset", "drift_onsets", "drift_series", "persistent_onset"]

DEFAULT_PERSISTENCE = (2, 3)


@dataclass(frozen=True)
class FeatureOnset:
    """When a feature's drift started, and how strong it was.

    ``onset`` is the start of the onset window (aware; a date given here means its UTC midnight),
    None when the feature never drifted persistently. ``peak_value`` is the largest value of
    ``statistic`` over the windows, ``value_at_onset`` its value in the onset window.
    """

    feature: str
    onset: datetime | None
    drifted_windows: int
    windows: int
    peak_value: float | None
    value_at_onset: float | None
    statistic: str
    warn_onset: datetime | None = None

    def __post_init__(self) -> None:
        if isinstance(self.onset, date):
            object.__setattr__(self, "onset", aware(self.onset, f"onset of {self.feature}"))
        if isinstance(self.warn_onset, date):
            object.__setattr__(self, "warn_onset", aware(self.warn_onset, f"warn onset of {self.feature}"))

    @property
    def began(self) -> datetime | None:
        """When the drift was under way: the warn onset when there is one, else the onset."""
        return self.warn_onset or self.onset


def persistent_onset(
    flags: Sequence[bool | None], persistence: tuple[int, int] = DEFAULT_PERSISTENCE
) -> int | None:
    """Index of the first flagged position with at least k of the n positions from it flagged
    (near the end of the series, fewer than n positions remain and k must still be flagged)."""
    k, n = persistence
    if not 1 <= k <= n:
        raise ValueError(f"persistence must be (k, n) with 1 <= k <= n, got {persistence}")
    marks = [bool(f) for f in flags]
    for i, flagged in enumerate(marks):
        if flagged and sum(marks[i : i + n]) >= k:
            return i
    return None


class HasTable(Protocol):
    """A DriftReport, or anything with its ``table``."""

    @property
    def table(self) -> pl.DataFrame: ...


def drift_series(
    report: HasTable | pl.DataFrame, statistic: str = "population_stability_index", drift_type: str = "BASELINE"
) -> pl.DataFrame:
    """(window_start, feature, value, drifted, warned) per window of a DriftReport (or its
    table), sorted.

    ``window_start`` keeps the report's zone; ``drifted`` is False where nothing was judged;
    ``warned`` holds where the status is warn or drift.
    """
    table = report if isinstance(report, pl.DataFrame) else report.table
    return (
        table.filter(pl.col("drift_type") == drift_type)
        .select(
            pl.col("window_start"),
            pl.col("column_name").alias("feature"),
            pl.col(statistic).cast(pl.Float64).alias("value"),
            pl.col("drifted").fill_null(False).alias("drifted"),
            pl.col("status").is_in(["warn", "drift"]).fill_null(False).alias("warned"),
        )
        .sort("feature", "window_start")
    )


def drift_onsets(
    series: pl.DataFrame,
    persistence: tuple[int, int] = DEFAULT_PERSISTENCE,
    statistic: str = "population_stability_index",
) -> list[FeatureOnset]:
    """One FeatureOnset per feature of a :func:`drift_series`; drifted features first, earliest
    onset first, then the strongest."""
    out = []
    for (feature,), rows in series.group_by("feature", maintain_order=True):
        rows = rows.sort("window_start")
        flags = rows["drifted"].to_list()
        values = rows["value"].to_list()
        i = persistent_onset(flags, persistence)
        finite = [v for v in values if v is not None and np.isfinite(v)]
        warn = _warn_onset(rows["warned"].to_list(), i, persistence) if "warned" in rows.columns else None
        out.append(
            FeatureOnset(
                feature=str(feature),
                onset=rows["window_start"][i] if i is not None else None,
                drifted_windows=int(sum(bool(f) for f in flags)),
                windows=rows.height,
                peak_value=max(finite) if finite else None,
                value_at_onset=values[i] if i is not None else None,
                statistic=statistic,
                warn_onset=rows["window_start"][warn] if warn is not None else None,
            )
        )
    return sorted(out, key=_onset_order)


def _warn_onset(warned: Sequence[bool], onset: int | None, persistence: tuple[int, int]) -> int | None:
    """The first window of the sustained warned run that leads into ``onset`` (None when the
    warning did not come first)."""
    if onset is None:
        return None
    k, n = persistence
    start = onset
    # walk back while the windows before still hold the warning by the persistence rule
    while start > 0 and warned[start - 1] and sum(warned[start - 1 : start - 1 + n]) >= k:
        start -= 1
    return start if start < onset else None


def _onset_order(o: FeatureOnset) -> tuple[bool, float, float, str]:
    when = o.onset.timestamp() if o.onset is not None else float("inf")
    return (o.onset is None, when, -(o.peak_value or 0.0), o.feature)
