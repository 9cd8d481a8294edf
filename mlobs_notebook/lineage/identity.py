"""Which job and parent run a run belongs to, from events that may disagree on them.

A run's job is the one its terminal event names, else its latest event: Spark's first event of
an application may name the job ``unknown`` and later ones the real job
(OpenLineage/OpenLineage#3846), so ``unknown`` never names a run's job while another name is
given. Events of one run that name two other jobs (OpenLineage/OpenLineage#2358: two jobs
reusing one runId) or two parent runs (MarquezProject/marquez#2158) are problems to report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mlobs_notebook.lineage.model import TERMINAL_STATES, JobRef, RunEvent, RunLink

__all__ = ["PLACEHOLDER_JOB_NAMES", "RunIdentity", "link"]

# Job names integrations send before they know the real one.
PLACEHOLDER_JOB_NAMES = frozenset({"unknown"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def link(value: Any) -> RunLink | None:
    """A parent or root run facet as a :class:`RunLink`; None without a job."""
    value = _dict(value)
    job = _dict(value.get("job"))
    ns, name = _str(job.get("namespace")), _str(job.get("name"))
    if ns is None or name is None:
        return None
    run_id = _str(_dict(value.get("run")).get("runId"))
    return RunLink(JobRef(ns, name), run_id.lower() if run_id and "{" not in run_id else run_id)


def _show(parent: RunLink) -> str:
    return f"{parent.job} run {parent.run_id}" if parent.run_id else str(parent.job)


class RunIdentity:
    """The job and parent run of one run, as its events arrive (in any order)."""

    __slots__ = ("job", "parent", "rank", "run_id")

    def __init__(self, run_id: str, job: JobRef) -> None:
        self.run_id = run_id
        self.job = job
        self.rank: tuple[bool, bool, datetime] | None = None
        self.parent: RunLink | None = None

    def observe(self, ev: RunEvent) -> list[str]:
        """Take one event of the run into account; the disagreements it shows, in words."""
        problems = []
        placeholder = ev.job.name.lower() in PLACEHOLDER_JOB_NAMES
        rank = (not placeholder, ev.event_type in TERMINAL_STATES, ev.event_time)
        newer = self.rank is None or rank >= self.rank
        if ev.job != self.job and not placeholder and self.job.name.lower() not in PLACEHOLDER_JOB_NAMES:
            problems.append(
                f"run {self.run_id}: its events name two jobs, {self.job} and {ev.job}; taken as "
                f"{ev.job if newer else self.job}'s run (the job its terminal, else latest, event names)"
            )
        if newer:
            self.job, self.rank = ev.job, rank
        if "parent" in ev.run_facets:
            parent = link(ev.run_facets["parent"])
            if parent is not None and self.parent is not None and parent != self.parent and not ev.run_id_is_placeholder:
                problems.append(
                    f"run {self.run_id}: its events name two parent runs, {_show(self.parent)} and "
                    f"{_show(parent)}; the latest event's is kept"
                )
            self.parent = parent or self.parent
        return problems
