"""DriftReport: the result of compute_drift, computed once and displayed elsewhere (plots/)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

__all__ = ["DriftReport"]

_DRIFT_TYPES = ("BASELINE", "CONSECUTIVE")


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no infinities: the outer bin edges are spelled out.
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


@dataclass(frozen=True)
class DriftReport:
    """Drift of every compared column, per window and drift type.

    - ``table``: one row per (window, column, drift_type) with the statistics, ``drifted`` and
      ``status`` (ok / warn / drift; null when nothing could be judged, e.g. an empty window).
    - ``bins``: the same keys with ``bin_edges`` (numeric; -inf and +inf at the ends) or
      ``categories`` (categorical), and ``baseline_counts``/``current_counts``. The last count is
      the null bin (null and NaN). For CONSECUTIVE rows "baseline" is the previous window.
    - ``profile``: count, nulls, non-finite, mean, std, min, max and quantiles per column, for the
      baseline and every window (quantiles only where the sorted values were computed).
    - ``schema_findings``: columns missing on one side or with a changed type.
    - ``notes``: what was left out and why (e.g. KS skipped out of core).
    """

    table: pl.DataFrame
    bins: pl.DataFrame
    profile: pl.DataFrame
    schema_findings: tuple = ()
    notes: tuple[str, ...] = ()
    granularity: str | None = None
    statistics: tuple[str, ...] = ()
    thresholds: dict = field(default_factory=dict, compare=False)
    baseline: Any = field(default=None, compare=False, repr=False)

    def to_polars(self) -> pl.DataFrame:
        return self.table

    def to_rows(self) -> list[dict[str, Any]]:
        """JSON-ready dicts, one per table row, with the row's bins and counts attached."""
        keys = ["window_start", "column_name", "drift_type"]
        bins = self.bins.select(*keys, "bin_edges", "categories", "baseline_counts", "current_counts")
        joined = self.table.with_row_index("__order").join(bins, on=keys, how="left", nulls_equal=True)
        rows = []
        for row in joined.sort("__order").drop("__order").iter_rows(named=True):
            if row["kind"] == "numeric":
                row.pop("categories")
            else:
                row.pop("bin_edges")
            rows.append({k: _json_value(v) for k, v in row.items()})
        return rows

    def drifted_features(self, drift_type: str = "BASELINE") -> pl.DataFrame:
        """Columns that drifted in at least one window, most drifted first.

        Ranked by the number of drifted windows, then the number of warned windows, then the
        largest PSI; ``first_drift`` is the start of the first drifted window.
        """
        if drift_type not in _DRIFT_TYPES:
            raise ValueError(f"drift_type must be one of {', '.join(_DRIFT_TYPES)}, not {drift_type!r}")
        rows = self.table.filter(pl.col("drift_type") == drift_type)
        return (
            rows.group_by("column_name", "kind")
            .agg(
                drifted_windows=(pl.col("status") == "drift").sum(),
                warned_windows=(pl.col("status") == "warn").sum(),
                windows=pl.len(),
                max_population_stability_index=pl.col("population_stability_index").max(),
                first_drift=pl.col("window_start").filter(pl.col("status") == "drift").min(),
            )
            .filter(pl.col("drifted_windows") > 0)
            .sort(
                ["drifted_windows", "warned_windows", "max_population_stability_index", "column_name"],
                descending=[True, True, True, False],
                nulls_last=True,
            )
        )

    @property
    def windows(self) -> int:
        return self.table.filter(pl.col("drift_type") == "BASELINE")["window_start"].n_unique()

    def __repr__(self) -> str:
        drifted = self.drifted_features()
        return (
            f"DriftReport({self.table['column_name'].n_unique()} columns, {self.windows} window(s), "
            f"{drifted.height} drifted, {len(self.schema_findings)} schema finding(s))"
        )

    def _repr_html_(self) -> str:
        drifted = self.drifted_features()
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        if drifted.height:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in drifted.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                for row in drifted.head(20).iter_rows()
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        for finding in self.schema_findings:
            parts.append(f"<p>schema: {html.escape(finding.column)}: {html.escape(finding.detail)}</p>")
        for note in self.notes:
            parts.append(f"<p>note: {html.escape(note)}</p>")
        return "\n".join(parts)
