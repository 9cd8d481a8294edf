"""Which statistics decide the ``drifted`` flag, at which values.

By default a column drifts when its PSI is >= 0.2 and warns from 0.1 (the usual PSI rule);
every other statistic is computed and reported but only judges drift when asked, because their
scales differ and the p-values shrink to 0 on large samples even for negligible shifts.

``thresholds`` maps a statistic name, or a column name to a mapping of statistic names, to:

- a number: the drift threshold (no warn level);
- a ``(warn, drift)`` pair;
- ``"default"``: the statistic's registered thresholds;
- ``None``: do not judge by this statistic (e.g. ``{"population_stability_index": None}``).

Column entries override the global ones for that column. For p-values drift means below the
threshold; for every other statistic at or above it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlobs_notebook.drift.statistics import Statistic, get_statistic, statistic_names
from mlobs_notebook.errors import InputError, UnknownStatistic

__all__ = ["DEFAULT_THRESHOLDS", "Level", "judge", "resolve_thresholds"]

Level = tuple[float | None, float]  # (warn, drift)
DEFAULT_THRESHOLDS: dict[str, Any] = {"population_stability_index": "default"}


def _level(statistic: Statistic, value: Any) -> Level | None:
    if value is None:
        return None
    if isinstance(value, str) and value == "default":
        return statistic.warn_threshold, statistic.drift_threshold
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None, float(value)
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return float(value[0]), float(value[1])
    raise InputError(
        f"threshold for {statistic.name!r} must be a number, a (warn, drift) pair, 'default' "
        f"or None, not {value!r}"
    )


def resolve_thresholds(
    thresholds: Mapping[str, Any] | None, columns: Sequence[str]
) -> dict[str, dict[str, Level]]:
    """Per column: statistic name -> (warn, drift)."""
    names = set(statistic_names())
    global_levels: dict[str, Any] = dict(DEFAULT_THRESHOLDS)
    per_column: dict[str, dict[str, Any]] = {}
    for key, value in (thresholds or {}).items():
        if key in names:
            global_levels[key] = value
        elif key in columns and isinstance(value, Mapping):
            per_column[key] = dict(value)
        else:
            raise UnknownStatistic(
                f"thresholds key {key!r} is neither a drift statistic nor a compared column "
                f"with a mapping of statistics. Valid statistics: {', '.join(sorted(names))}"
            )
    resolved = {}
    for column in columns:
        merged = {**global_levels, **per_column.get(column, {})}
        levels = {}
        for name, value in merged.items():
            level = _level(get_statistic(name), value)
            if level is not None:
                levels[name] = level
        resolved[column] = levels
    return resolved


def judge(values: Mapping[str, np.ndarray], levels: Mapping[str, Level], length: int) -> tuple[list, list]:
    """(drifted, status) per window: drift beats warn beats ok; None when nothing was judgeable."""
    judged = np.zeros(length, dtype=bool)
    drift = np.zeros(length, dtype=bool)
    warn = np.zeros(length, dtype=bool)
    for name, (warn_at, drift_at) in levels.items():
        if name not in values:
            continue
        statistic = get_statistic(name)
        v = np.asarray(values[name], dtype=np.float64)
        valid = ~np.isnan(v)
        judged |= valid
        with np.errstate(invalid="ignore"):
            drift |= valid & statistic.beyond(v, drift_at)
            if warn_at is not None:
                warn |= valid & statistic.beyond(v, warn_at)
    drifted = [bool(d) if j else None for d, j in zip(drift, judged, strict=True)]
    status = [
        ("drift" if d else "warn" if w else "ok") if j else None
        for d, w, j in zip(drift, warn, judged, strict=True)
    ]
    return drifted, status
