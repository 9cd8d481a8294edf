"""The statistic registry: the one list of drift statistics, with their kinds and thresholds.

Each statistic module (``psi.py``, ``ks.py`` ...) calls :func:`register`; the package
``__init__`` imports them in the order of Databricks' drift metrics table
(``percent_null_delta``, ``population_stability_index``, ``js_distance``, ``ks_test``,
``wasserstein_distance``, ``chi_squared_test``, ``tv_distance``, ``l_infinity_distance``), then
ours (``unseen_category_share``). That order is :func:`statistic_names` and the report's columns.

Two input shapes exist, because they scale differently:

- ``"counts"``: a function of two count matrices ``(windows, bins)`` returning one value per
  window. The last bin is always the null bin (null and NaN). Binned statistics are exact from
  counts alone, so they work out of core.
- ``"sorted"``: a function of a :class:`~mlobs_notebook.drift.ecdf.SortedPair` (two sorted
  samples) returning one float. These need every value of a window in memory.

Statistics that share work (the KS statistic and its p-value) share one ``compute`` function and
pick their element of its result with ``output``; the engine calls each function once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mlobs_notebook.errors import UnknownStatistic

__all__ = ["KINDS", "Statistic", "get_statistic", "register", "resolve", "statistic_names"]

KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class Statistic:
    """One registered drift statistic.

    ``drift_threshold``/``warn_threshold`` are the documented defaults used when a caller asks to
    judge drift by this statistic without giving a value. ``higher_is_drift`` is False for p-values
    (a small p-value is evidence of drift). ``signed`` statistics (a change that can go either
    way, like ``percent_null_delta``) are judged by their absolute value against a given
    threshold, and get a lower and an upper learned threshold. ``identical_value`` is what the
    statistic returns for two identical samples (0 for distances, 1 for p-values); the
    conformance suite checks it. ``pvalue`` statistics keep their fixed threshold when
    thresholds are learned (NannyML does the same for chi-squared).
    """

    name: str
    kinds: frozenset[str]
    input: Literal["counts", "sorted"]
    compute: Callable[..., Any]
    drift_threshold: float
    warn_threshold: float | None = None
    higher_is_drift: bool = True
    signed: bool = False
    identical_value: float = 0.0
    symmetric: bool = True
    pools_rare_categories: bool = False
    output: int | None = None
    description: str = field(default="", compare=False)

    @property
    def pvalue(self) -> bool:
        return not self.higher_is_drift

    def beyond(self, value: float, threshold: float) -> bool:
        """Whether ``value`` is past a given ``threshold`` in the direction of drift."""
        if self.pvalue:
            return value < threshold
        return (abs(value) if self.signed else value) >= threshold


_REGISTRY: dict[str, Statistic] = {}


def register(statistic: Statistic) -> Statistic:
    if statistic.name in _REGISTRY:
        raise ValueError(f"statistic {statistic.name!r} is registered twice")
    unknown = set(statistic.kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"statistic {statistic.name!r}: unknown kinds {sorted(unknown)}")
    _REGISTRY[statistic.name] = statistic
    return statistic


def statistic_names() -> list[str]:
    """Every registered statistic, in registration order (Databricks' column order first)."""
    return list(_REGISTRY)


def get_statistic(name: str) -> Statistic:
    """The registered statistic; :class:`UnknownStatistic` lists the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownStatistic(
            f"unknown drift statistic {name!r}. Valid names: {', '.join(_REGISTRY)}"
        ) from None


def resolve(names: Iterable[str] | None) -> list[Statistic]:
    """The statistics to compute, in registry order; ``None`` means all of them."""
    if names is None:
        return list(_REGISTRY.values())
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    wanted = {get_statistic(name).name for name in names}
    return [s for s in _REGISTRY.values() if s.name in wanted]
