"""Which statistics decide the ``drifted`` flag, at which values, and the window's status.

By default a column drifts when its PSI is >= 0.2 (warn from 0.1, the usual PSI rule), when
its null rate moves by 10 percentage points or more (warn from 5), or when 5% or more of a
window's rows are categories the reference never had (warn from 1%). Every other statistic is
computed and reported but judges drift only when asked, because their scales differ and the
p-values shrink to 0 on large samples even for negligible shifts.

``thresholds`` is ``"learned"``, or maps a statistic name, or a column name to a mapping of
statistic names, to:

- a number: the drift threshold (no warn level);
- a ``(warn, drift)`` pair;
- ``"default"``: the statistic's registered thresholds;
- ``"learned"``: learned from the baseline's own windows (below);
- ``None``: do not judge by this statistic (e.g. ``{"population_stability_index": None}``).

Column entries override the global ones for that column. For p-values drift means below the
threshold; for signed statistics (``percent_null_delta``) an absolute value at or above it; for
every other statistic a value at or above it.

Learned thresholds follow NannyML's ``StandardDeviationThreshold`` (nannyml 0.13,
``nannyml/thresholds.py``; https://nannyml.readthedocs.io/en/stable/tutorials/thresholds.html):
the baseline is split into windows of the same granularity, each compared with the whole
baseline (and with the window before it, for consecutive drift), and the threshold is
``mean + 3 std`` of the statistic over those windows (population std, ddof 0, NaN windows
skipped); drift is a value strictly above it. Signed statistics also get ``mean - 3 std`` below.
p-values keep their fixed threshold (NannyML judges chi-squared by ``p < 0.05`` too).

A window's status is ``drift``, ``warn``, ``ok``, ``too_small`` (a judging statistic had fewer
than ``min_window_rows`` values on a side: shown, not judged) or ``empty`` (no rows); it is null
only when no statistic judges the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.statistics import Statistic, get_statistic, statistic_names
from mlobs_notebook.errors import InputError, UnknownStatistic

__all__ = [
    "DEFAULT_THRESHOLDS",
    "LEARNED",
    "LEARNED_STD_MULTIPLIER",
    "THRESHOLDS_SCHEMA",
    "Threshold",
    "judge",
    "learn",
    "resolve_thresholds",
    "thresholds_frame",
]

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "population_stability_index": "default",
    "percent_null_delta": "default",
    "unseen_category_share": "default",
}
LEARNED = "learned"
LEARNED_STD_MULTIPLIER = 3.0  # NannyML's std_upper_multiplier
DRIFT_TYPES = ("BASELINE", "CONSECUTIVE")


@dataclass(frozen=True)
class Threshold:
    """How one statistic judges one column: drift past ``upper`` or below ``lower``, warn past
    ``warn_upper`` or below ``warn_lower``.

    ``absolute`` compares ``|value|`` with the upper levels (signed statistics); ``strict``
    makes the upper levels exclusive (``value > upper``, NannyML's rule for learned thresholds)
    instead of inclusive. ``source`` is ``default``, ``given`` or ``learned``; learned ones keep
    the baseline windows' count, mean and std (ddof 0) and the multiplier.
    """

    statistic: str
    upper: float | None = None
    lower: float | None = None
    warn_upper: float | None = None
    warn_lower: float | None = None
    absolute: bool = False
    strict: bool = False
    source: str = "default"
    baseline_windows: int | None = None
    baseline_mean: float | None = None
    baseline_std: float | None = None
    multiplier: float | None = None

    def _past(self, values: np.ndarray, upper: float | None, lower: float | None) -> np.ndarray:
        v = np.abs(values) if self.absolute else values
        out = np.zeros(len(values), dtype=bool)
        with np.errstate(invalid="ignore"):
            if upper is not None and not np.isnan(upper):
                out |= (v > upper) if self.strict else (v >= upper)
            if lower is not None and not np.isnan(lower):
                out |= values < lower
        return out

    def flags(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(drift, warn) per value; NaN is neither."""
        v = np.asarray(values, dtype=np.float64)
        return self._past(v, self.upper, self.lower), self._past(v, self.warn_upper, self.warn_lower)

    @property
    def defined(self) -> bool:
        """False for a learned threshold the baseline could not give (no window had a value)."""
        return any(b is not None and not np.isnan(b) for b in (self.upper, self.lower))

    @property
    def rule(self) -> str:
        """The drift rule in words, e.g. ``x >= 0.2``, ``x < 0.05``, ``|x| >= 10``."""
        if not self.defined:
            return "none: no baseline window gave a value"
        parts = []
        x = "|x|" if self.absolute else "x"
        if self.upper is not None:
            parts.append(f"{x} {'>' if self.strict else '>='} {self.upper:.6g}")
        if self.lower is not None:
            parts.append(f"x < {self.lower:.6g}")
        return " or ".join(parts) or "never"


def _given(statistic: Statistic, warn: float | None, drift: float, source: str) -> Threshold:
    if statistic.pvalue:
        return Threshold(statistic.name, lower=drift, warn_lower=warn, source=source)
    return Threshold(statistic.name, upper=drift, warn_upper=warn, absolute=statistic.signed, source=source)


def default_threshold(statistic: Statistic) -> Threshold:
    """The statistic's registered thresholds (its documented defaults) as a :class:`Threshold`."""
    return _given(statistic, statistic.warn_threshold, statistic.drift_threshold, "default")


def _level(statistic: Statistic, value: Any) -> Threshold | str | None:
    if value is None:
        return None
    if isinstance(value, str) and value == "default":
        return _given(statistic, statistic.warn_threshold, statistic.drift_threshold, "default")
    if isinstance(value, str) and value == LEARNED:
        # p-values keep their fixed level, as NannyML's chi-squared does
        return _level(statistic, "default") if statistic.pvalue else LEARNED
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _given(statistic, None, float(value), "given")
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return _given(statistic, float(value[0]), float(value[1]), "given")
    raise InputError(
        f"threshold for {statistic.name!r} must be a number, a (warn, drift) pair, 'default', "
        f"'learned' or None, not {value!r}"
    )


def resolve_thresholds(
    thresholds: Mapping[str, Any] | str | None, kinds: Mapping[str, str], statistics: Sequence[Statistic]
) -> dict[str, dict[str, Threshold | str]]:
    """Per column (``kinds``: column -> its kind): statistic name -> its :class:`Threshold`, or
    ``"learned"`` where it must be learned from the baseline's windows (see :func:`learn`).
    Statistics that do not apply to a column's kind are left out."""
    columns = list(kinds)
    names = set(statistic_names())
    if isinstance(thresholds, str):
        if thresholds != LEARNED:
            raise InputError(f"thresholds must be a mapping or 'learned', not {thresholds!r}")
        global_levels: dict[str, Any] = {s.name: LEARNED for s in statistics}
        thresholds = None
    else:
        global_levels = dict(DEFAULT_THRESHOLDS)
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
            statistic = get_statistic(name)
            level = _level(statistic, value)
            if level is not None and kinds[column] in statistic.kinds:
                levels[name] = level
        resolved[column] = levels
    return resolved


def learn(
    levels: Mapping[str, Mapping[str, Threshold | str]],
    windows: pl.DataFrame,
    multiplier: float = LEARNED_STD_MULTIPLIER,
) -> dict[str, dict[str, dict[str, Threshold]]]:
    """Per drift type, column and statistic: the threshold, with every ``"learned"`` one set to
    ``mean + multiplier * std`` (and ``mean - multiplier * std`` for signed statistics) of the
    statistic over ``windows``, the drift table of the baseline's own windows."""
    out: dict[str, dict[str, dict[str, Threshold]]] = {t: {} for t in DRIFT_TYPES}
    for drift_type in DRIFT_TYPES:
        rows = windows.filter(pl.col("drift_type") == drift_type)
        for column, by_statistic in levels.items():
            mine = rows.filter(pl.col("column_name") == column)
            judged: dict[str, Threshold] = {}
            for name, level in by_statistic.items():
                if isinstance(level, Threshold):
                    judged[name] = level
                    continue
                statistic = get_statistic(name)
                values = mine[name].cast(pl.Float64).fill_null(np.nan).to_numpy() if mine.height else np.zeros(0)
                values = values[~np.isnan(values)]
                mean = float(values.mean()) if len(values) else float("nan")
                std = float(values.std(ddof=0)) if len(values) else float("nan")
                judged[name] = Threshold(
                    name,
                    upper=mean + multiplier * std,
                    lower=mean - multiplier * std if statistic.signed else None,
                    strict=True,
                    source=LEARNED,
                    baseline_windows=len(values),
                    baseline_mean=mean,
                    baseline_std=std,
                    multiplier=multiplier,
                )
            out[drift_type][column] = judged
    return out


def fixed(levels: Mapping[str, Mapping[str, Threshold | str]]) -> dict[str, dict[str, dict[str, Threshold]]]:
    """The same levels for both drift types (nothing to learn)."""
    plain = {c: {n: t for n, t in by.items() if isinstance(t, Threshold)} for c, by in levels.items()}
    return {t: plain for t in DRIFT_TYPES}


def judge(
    values: Mapping[str, np.ndarray],
    sizes: Mapping[str, np.ndarray],
    levels: Mapping[str, Threshold],
    rows: np.ndarray,
    min_rows: int,
) -> tuple[dict[str, list[bool | None]], list[bool | None], list[str | None]]:
    """(flag per statistic, drifted, status) per window.

    A statistic judges a window when its value is defined and both its samples (``sizes``, the
    smaller side) hold at least ``min_rows`` values; its flag is True (drift), False, or None
    (not judged). ``drifted`` is True when any flag is, False when some statistic judged and
    none drifted, else None. Status: see the module docstring.
    """
    length = len(rows)
    flags: dict[str, list[bool | None]] = {}
    judged = np.zeros(length, dtype=bool)
    drift = np.zeros(length, dtype=bool)
    warn = np.zeros(length, dtype=bool)
    small = np.zeros(length, dtype=bool)
    for name, threshold in levels.items():
        if name not in values or not threshold.defined:
            continue
        v = np.asarray(values[name], dtype=np.float64)
        enough = np.asarray(sizes[name]) >= min_rows
        valid = ~np.isnan(v) & enough
        small |= ~enough
        past, warned = threshold.flags(v)
        judged |= valid
        drift |= valid & past
        warn |= valid & warned
        flags[name] = [bool(p) if ok else None for p, ok in zip(past, valid, strict=True)]
    empty = np.asarray(rows) == 0
    drifted = [None if e or not j else bool(d) for d, j, e in zip(drift, judged, empty, strict=True)]
    status: list[str | None] = []
    for d, w, j, s, e in zip(drift, warn, judged, small, empty, strict=True):
        if e:
            status.append("empty")
        elif d:
            status.append("drift")
        elif w:
            status.append("warn")
        elif s:
            status.append("too_small")
        else:
            status.append("ok" if j else None)
    return flags, drifted, status


THRESHOLDS_SCHEMA: dict[str, pl.DataType] = {
    "drift_type": pl.String(),
    "column_name": pl.String(),
    "statistic": pl.String(),
    "source": pl.String(),
    "rule": pl.String(),
    "upper": pl.Float64(),
    "lower": pl.Float64(),
    "warn_upper": pl.Float64(),
    "warn_lower": pl.Float64(),
    "baseline_windows": pl.Int64(),
    "baseline_mean": pl.Float64(),
    "baseline_std": pl.Float64(),
    "multiplier": pl.Float64(),
}


def thresholds_frame(levels: Mapping[str, Mapping[str, Mapping[str, Threshold]]]) -> pl.DataFrame:
    """One row per (drift type, column, statistic) judged: the thresholds a report used."""
    rows = [
        {
            "drift_type": drift_type,
            "column_name": column,
            "statistic": name,
            "source": t.source,
            "rule": t.rule,
            "upper": t.upper,
            "lower": t.lower,
            "warn_upper": t.warn_upper,
            "warn_lower": t.warn_lower,
            "baseline_windows": t.baseline_windows,
            "baseline_mean": t.baseline_mean,
            "baseline_std": t.baseline_std,
            "multiplier": t.multiplier,
        }
        for drift_type, by_column in levels.items()
        for column, by_statistic in by_column.items()
        for name, t in by_statistic.items()
    ]
    return pl.DataFrame(rows, schema=THRESHOLDS_SCHEMA)
