"""Upstream changes found on a feature's lineage, and the runs suspected of causing a drift. Pure.

Suspects are ranked by column-level lineage first (a change that column lineage ties to the
drifted column beats one that only dataset lineage reaches), then graph distance (fewer hops
first), then closeness in time to the drift onset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlobs_notebook.times import aware

__all__ = ["Suspect", "UpstreamChange", "rank_key"]


@dataclass(frozen=True)
class UpstreamChange:
    """A change found on a feature's upstream path (from the lineage queries).

    ``kind`` is job_definition, schema, failure or volume; ``distance`` counts jobs from the
    feature's table; ``event_time`` is aware (naive is taken as UTC).
    """

    job: str
    run_id: str
    event_time: datetime
    kind: str
    detail: str
    distance: int
    column_level: bool
    diff: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_time", aware(self.event_time, f"event time of run {self.run_id}"))


@dataclass(frozen=True)
class Suspect:
    """An upstream run that could explain one or more drift onsets.

    ``hours_from_onset`` is the change's time minus the opening of the nearest onset window it
    explains (negative: before the window opened).
    """

    job: str
    run_id: str
    event_time: datetime
    kinds: tuple[str, ...]
    features: tuple[str, ...]
    column_level: bool
    distance: int
    hours_from_onset: float
    details: tuple[str, ...]
    diff: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "run_id": self.run_id,
            "event_time": self.event_time.isoformat(),
            "kinds": list(self.kinds),
            "features": list(self.features),
            "column_level": self.column_level,
            "distance": self.distance,
            "hours_from_onset": round(self.hours_from_onset, 2),
            "details": list(self.details),
            "diff": self.diff,
        }


def rank_key(suspect: Suspect) -> tuple[bool, int, float, datetime]:
    """Sort key: column-level first, then fewer hops, then nearer in time, then earlier."""
    return (not suspect.column_level, suspect.distance, abs(suspect.hours_from_onset), suspect.event_time)
