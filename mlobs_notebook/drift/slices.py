"""Slices: which subset of rows carries a feature's drift or lost its rows. Pure.

A filter that drops one device type's events moves a feature only for that device: the whole
feature drifts a little, the slice ``device_type = 'web'`` drifts completely and the rest not at
all. A **slice** is a subset of rows named by a predicate, as Databricks data quality monitoring's
``slicing_exprs`` have them (`docs <https://docs.databricks.com/aws/en/lakehouse-monitoring/create-monitor-api>`_):

- a column name slices by each of its values (at most ``max_values``, the most frequent first);
- an expression (``"amount > 100"``, ``"country = 'DE' and plan = 'pro'"``, polars SQL) slices
  by rows where it holds, its complement being the rows where it does not.

For a feature and each slice: the feature's PSI inside the slice (baseline slice against current
slice, on the baseline's decile bins plus a null bin, or its categories), the same in the rest of
the rows, the slice's share of rows on each side, and the feature's means. A slice **carries**
the drift when the feature drifts inside it (PSI >= 0.2) and the rest holds (PSI < 0.1), or when
its share of rows falls to under a fifth of the baseline's (its rows went missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from mlobs_notebook.drift.statistics.psi import population_stability_index
from mlobs_notebook.errors import InputError

__all__ = [
    "Slice",
    "SliceFinding",
    "bin_counts",
    "carrier",
    "categorical_slices",
    "parse_slicing_exprs",
    "psi_of",
    "reference_bins",
    "slice_drift",
]

DRIFT_AT = 0.2  # PSI's drift level
HOLDS_BELOW = 0.1  # PSI's warn level
VANISHED_BELOW = 0.2  # a share under a fifth of the baseline's
MAX_VALUES = 20
# Databricks' cap on the values a column expression slices by
MAX_EXPRESSION_VALUES = 100


@dataclass(frozen=True)
class Slice:
    """A named subset of rows: ``name`` as people read it, ``predicate`` a polars expression."""

    name: str
    predicate: pl.Expr


@dataclass(frozen=True)
class SliceFinding:
    """A feature inside one slice against the same slice of the baseline, and in the rest."""

    feature: str
    slice: str
    baseline_rows: int
    current_rows: int
    baseline_share: float
    current_share: float
    psi: float | None
    rest_psi: float | None
    baseline_mean: float | None
    current_mean: float | None

    @property
    def vanished(self) -> bool:
        return self.baseline_share > 0 and self.current_share < VANISHED_BELOW * self.baseline_share

    @property
    def carries(self) -> bool:
        drifted = self.psi is not None and self.psi >= DRIFT_AT
        rest_holds = self.rest_psi is None or self.rest_psi < HOLDS_BELOW
        return (drifted and rest_holds) or self.vanished

    def sentence(self) -> str:
        share = f"{self.baseline_share:.0%} of the baseline's rows, {self.current_share:.0%} of the current"
        if self.vanished:
            return f"the slice {self.slice} lost its rows ({share})"
        means = ""
        if self.baseline_mean is not None and self.current_mean is not None:
            means = f"; its mean went from {self.baseline_mean:.3g} to {self.current_mean:.3g}"
        rest = f", {self.rest_psi:.3f} in the other rows" if self.rest_psi is not None else ""
        return (
            f"the drift of {self.feature} is carried by the slice {self.slice} ({share}): PSI "
            f"{self.psi:.3f} inside it{rest}{means}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature, "slice": self.slice, "baseline_rows": self.baseline_rows,
            "current_rows": self.current_rows, "baseline_share": self.baseline_share,
            "current_share": self.current_share, "psi": self.psi, "rest_psi": self.rest_psi,
            "baseline_mean": self.baseline_mean, "current_mean": self.current_mean,
            "carries": self.carries, "vanished": self.vanished,
        }


def _literal(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def categorical_slices(frame: pl.DataFrame, columns: Sequence[str], max_values: int = MAX_VALUES) -> list[Slice]:
    """One slice per value of each categorical column (text, boolean, categorical; at most
    ``max_values`` distinct values), the most frequent first; other columns are skipped."""
    out = []
    for c in columns:
        dtype = frame.schema.get(c)
        if dtype is None or not (dtype in (pl.String, pl.Boolean, pl.Categorical) or isinstance(dtype, pl.Enum)):
            continue
        counts = frame[c].drop_nulls().value_counts(sort=True)
        if counts.height == 0 or counts.height > max_values:
            continue
        out += [Slice(f"{c} = {_literal(v)}", pl.col(c) == v) for v in counts[c].to_list()]
    return out


def parse_slicing_exprs(exprs: Sequence[str], frame: pl.DataFrame) -> list[Slice]:
    """Slices from Databricks-style ``slicing_exprs`` over ``frame`` (see the module docstring).

    Raises :class:`InputError` naming an expression polars SQL cannot read or whose columns
    the data lacks.
    """
    out: list[Slice] = []
    for text in exprs:
        text = text.strip()
        if text in frame.columns:
            counts = frame[text].drop_nulls().value_counts(sort=True).head(MAX_EXPRESSION_VALUES)
            out += [Slice(f"{text} = {_literal(v)}", pl.col(text) == v) for v in counts[text].to_list()]
            continue
        try:
            predicate = pl.sql_expr(text)
            frame.head(1).select(predicate)
        except Exception as exc:
            raise InputError(
                f"slicing expression {text!r} cannot be read as a SQL predicate over the columns "
                f"{', '.join(frame.columns)}: {exc}"
            ) from exc
        out.append(Slice(text, predicate.fill_null(False)))
    return out


def reference_bins(column: pl.Series) -> tuple[np.ndarray | None, list[Any] | None]:
    """(edges, categories) a column is counted in: the deciles of a numeric column (no
    categories), or the categories of any other (no edges)."""
    if column.dtype.is_numeric() and column.dtype != pl.Boolean:
        finite = np.sort(column.cast(pl.Float64).fill_nan(None).drop_nulls().to_numpy())
        return (np.unique(np.quantile(finite, np.arange(1, 10) / 10)) if len(finite) else np.zeros(0)), None
    return None, column.drop_nulls().unique().sort().to_list()


def bin_counts(values: pl.Series, edges: np.ndarray | None, categories: list[Any] | None) -> np.ndarray:
    """Counts of ``values`` in the bins of :func:`reference_bins`, a null bin last (NaN counts
    as null; categories outside the reference share one bin before it)."""
    nulls = int(values.is_null().sum())
    present = values.drop_nulls()
    if edges is not None:
        finite = present.cast(pl.Float64).fill_nan(None).drop_nulls().to_numpy()
        bins = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
        return np.append(bins, nulls + (len(present) - len(finite)))
    assert categories is not None
    counted = dict(present.value_counts().iter_rows())
    return np.array([counted.get(v, 0) for v in categories] + [sum(n for v, n in counted.items() if v not in categories), nulls])


def psi_of(ref: np.ndarray, cur: np.ndarray) -> float | None:
    """PSI of two count vectors (None when either side is empty)."""
    if ref.sum() == 0 or cur.sum() == 0:
        return None
    return float(population_stability_index(ref, cur)[0])


def _mean(values: pl.Series) -> float | None:
    if not values.dtype.is_numeric() or values.dtype == pl.Boolean:
        return None
    mean = values.cast(pl.Float64).fill_nan(None).mean()
    return float(mean) if isinstance(mean, int | float) else None


def _membership(frame: pl.DataFrame, s: Slice) -> pl.Series:
    """Whether each row is in the slice (a literal predicate broadcast to every row)."""
    return frame.with_columns(s.predicate.fill_null(False).alias("__in"))["__in"]


def slice_drift(
    baseline: pl.DataFrame, current: pl.DataFrame, feature: str, slices: Sequence[Slice], *, min_rows: int = 30
) -> list[SliceFinding]:
    """The feature in every slice (see the module docstring), slices carrying the drift first,
    then by PSI inside the slice. A slice with fewer than ``min_rows`` baseline rows is left out."""
    edges, categories = reference_bins(baseline[feature])
    found = []
    for s in slices:
        base_in, cur_in = _membership(baseline, s), _membership(current, s)
        b_rows, c_rows = int(base_in.sum()), int(cur_in.sum())
        if b_rows < min_rows:
            continue
        inside_b, inside_c = baseline[feature].filter(base_in), current[feature].filter(cur_in)
        rest_b, rest_c = baseline[feature].filter(~base_in), current[feature].filter(~cur_in)
        found.append(SliceFinding(
            feature=feature, slice=s.name, baseline_rows=b_rows, current_rows=c_rows,
            baseline_share=b_rows / max(baseline.height, 1), current_share=c_rows / max(current.height, 1),
            psi=psi_of(bin_counts(inside_b, edges, categories), bin_counts(inside_c, edges, categories)) if c_rows >= min_rows else None,
            rest_psi=psi_of(bin_counts(rest_b, edges, categories), bin_counts(rest_c, edges, categories))
            if rest_b.len() >= min_rows and rest_c.len() >= min_rows else None,
            baseline_mean=_mean(inside_b), current_mean=_mean(inside_c),
        ))
    return sorted(found, key=lambda f: (not f.carries, -(f.psi or 0.0), f.slice))


def carrier(findings: Sequence[SliceFinding]) -> SliceFinding | None:
    """The slice that carries the drift (the first of :func:`slice_drift`'s order), if any."""
    return next((f for f in findings if f.carries), None)
