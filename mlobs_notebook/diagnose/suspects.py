"""Upstream changes found on a feature's lineage, and the runs suspected of causing a drift. Pure.

Suspects are ranked by column-level lineage first (a change that column lineage ties to the
drifted column beats one that only dataset lineage reaches), then by what changed (a cause before
a symptom: a new definition, schema or a run of failures before a single failed run, and those
before a dataset's row count), then graph distance (fewer hops first), then closeness in time to
the drift onset. A definition that changed only cosmetically (layout, comments) is never a suspect.
A run of failures is suspected as its first failed run: the run that started it, not the one
nearest the drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlobs_notebook.correlate import FeatureOnset
from mlobs_notebook.times import aware

__all__ = ["Suspect", "UpstreamChange", "collect_suspects", "rank_key"]


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
    semantic: bool | None = None
    aspects: tuple[str, ...] = ()
    streak_start: str | None = None
    streak_since: datetime | None = None
    streak_runs: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_time", aware(self.event_time, f"event time of run {self.run_id}"))
        if self.streak_since is not None:
            object.__setattr__(self, "streak_since", aware(self.streak_since, f"first failure before run {self.run_id}"))

    @property
    def cosmetic(self) -> bool:
        """A definition change of layout or comments only: never a cause."""
        return self.kind == "job_definition" and self.semantic is False

    @property
    def suspect_run(self) -> str:
        """The run to blame: the first failed run of a streak of failures, else this run."""
        return self.streak_start or self.run_id

    @property
    def suspect_time(self) -> datetime:
        return self.streak_since or self.event_time

    @property
    def tier(self) -> int:
        """0: a new definition, a schema change or failures in a row; 1: one failed run; 2: volume."""
        if self.kind == "volume":
            return 2
        if self.kind == "failure" and self.streak_runs < 2:
            return 1
        return 0


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
    aspects: tuple[str, ...] = ()
    failed_runs: int = 0
    tier: int = 0

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
            "aspects": list(self.aspects),
            "failed_runs": self.failed_runs,
        }


def rank_key(suspect: Suspect) -> tuple[bool, int, int, float, datetime]:
    """Sort key: column-level first, then causes before symptoms (``UpstreamChange.tier``), then
    fewer hops, then nearer in time, then earlier."""
    return (not suspect.column_level, suspect.tier, suspect.distance, abs(suspect.hours_from_onset),
            suspect.event_time)


def collect_suspects(
    relevant: Sequence[FeatureOnset],
    changes: Mapping[str, Sequence[UpstreamChange]],
    windows: Mapping[str, tuple[datetime, datetime]],
    cosmetic: dict[str, UpstreamChange],
) -> tuple[list[Suspect], set[str]]:
    """The runs whose changes fall in a feature's window, merged per run to blame (a streak of
    failures is one suspect, its first failed run); cosmetic changes go to ``cosmetic``."""
    entries: dict[str, dict[str, Any]] = {}
    explained: set[str] = set()
    for o in relevant:
        lo, hi = windows[o.feature]
        opens = aware(o.onset) if o.onset is not None else lo
        for change in changes.get(o.feature, ()):
            if not lo <= change.event_time < hi:
                continue
            if change.cosmetic:
                cosmetic.setdefault(change.run_id, change)
                continue
            explained.add(o.feature)
            entry = entries.setdefault(
                change.suspect_run,
                {"change": change, "kinds": [], "features": [], "details": {}, "hours": [], "aspects": [],
                 "column_level": False, "distance": change.distance, "tier": change.tier, "streak": 0},
            )
            for key, values in (("kinds", [change.kind]), ("features", [o.feature]), ("aspects", list(change.aspects))):
                entry[key] += [v for v in values if v not in entry[key]]
            # a streak's failures say the same thing; the latest says it with the longest count
            slot = "failure" if change.kind == "failure" else change.detail
            if slot not in entry["details"] or change.streak_runs >= entry["streak"]:
                entry["details"][slot] = change.detail
            entry["hours"].append((change.suspect_time - opens).total_seconds() / 3600)
            entry["column_level"] |= change.column_level
            entry["distance"] = min(entry["distance"], change.distance)
            entry["tier"] = min(entry["tier"], change.tier)
            entry["streak"] = max(entry["streak"], change.streak_runs)
            if change.diff and not entry["change"].diff:
                entry["change"] = change
    suspects = [
        Suspect(
            job=e["change"].job, run_id=run_id, event_time=e["change"].suspect_time, kinds=tuple(e["kinds"]),
            features=tuple(e["features"]), column_level=e["column_level"], distance=e["distance"],
            hours_from_onset=min(e["hours"], key=abs), details=tuple(e["details"].values()), diff=e["change"].diff,
            aspects=tuple(e["aspects"]), failed_runs=e["streak"], tier=e["tier"],
        )
        for run_id, e in entries.items()
    ]
    return suspects, explained
