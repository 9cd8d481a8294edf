"""DriftReport: the result of compute_drift, computed once and displayed elsewhere (plots/)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from mlobs_notebook import markup
from mlobs_notebook.drift.statistics import get_statistic
from mlobs_notebook.drift.thresholds import Threshold, thresholds_frame
from mlobs_notebook.times import Granularity

__all__ = ["DriftReport"]

_DRIFT_TYPES = ("BASELINE", "CONSECUTIVE")
# A column's status is its worst window's: a window that could not be judged ranks above ok.
_STATUS_RANK = {"empty": 1, "ok": 2, "too_small": 3, "warn": 4, "drift": 5}


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

    - ``table``: one row per (window, column, drift_type) with the statistics, each statistic's
      own flag ``<statistic>_drifted`` (True, False, or null when it did not judge the window),
      the combined ``drifted`` (any flag) and ``status``: ``drift``, ``warn``, ``ok``,
      ``too_small`` (a judging statistic had fewer than ``min_window_rows`` values on a side;
      shown, not judged), ``empty`` (no rows), or null when no statistic judges the column.
    - ``bins``: the same keys with ``bin_edges`` (numeric; -inf and +inf at the ends) or
      ``categories`` (categorical), and ``baseline_counts``/``current_counts``. The last count is
      the null bin (null and NaN). For CONSECUTIVE rows "baseline" is the previous window.
    - ``profile``: count, nulls, non-finite, mean, std, min, max and quantiles per column, for the
      baseline and every window (quantiles only where the sorted values were computed).
    - ``schema_findings``: columns missing on one side or with a changed type.
    - ``notes``: what was left out and why (e.g. KS skipped out of core, empty windows).
    - ``thresholds``: the thresholds the table was judged by, one row per (drift type, column,
      statistic), learned ones with the baseline windows' mean and std (:attr:`thresholds`).
    - ``granularity``: the windows' size; ``zone``: the zone windows are labelled in (the time
      column's, see :mod:`mlobs_notebook.times`).
    """

    table: pl.DataFrame
    bins: pl.DataFrame
    profile: pl.DataFrame
    schema_findings: tuple[Any, ...] = ()
    notes: tuple[str, ...] = ()
    granularity: Granularity | None = None
    zone: str = "UTC"
    statistics: tuple[str, ...] = ()
    levels: dict[str, dict[str, dict[str, Threshold]]] = field(default_factory=dict, compare=False, repr=False)
    min_window_rows: int = 0
    baseline: Any = field(default=None, compare=False, repr=False)

    @property
    def thresholds(self) -> pl.DataFrame:
        """The thresholds used: drift_type, column_name, statistic, source (default, given,
        learned), rule, upper, lower, warn_upper, warn_lower, and for learned ones
        baseline_windows, baseline_mean, baseline_std and multiplier."""
        return thresholds_frame(self.levels)

    def threshold(self, column: str, statistic: str, drift_type: str = "BASELINE") -> Threshold | None:
        """The threshold ``statistic`` judged ``column`` by, or None when it did not judge it."""
        found: Threshold | None = self.levels.get(drift_type, {}).get(column, {}).get(statistic)
        return found

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

    def worst_by_column(
        self, statistic: str = "population_stability_index", drift_type: str = "BASELINE"
    ) -> pl.DataFrame:
        """One row per column: the worst value of ``statistic`` over the windows (the largest; the
        smallest for p-values; the largest in either direction for a signed change), with counts of drifted and warned windows, the worst status and the
        start of the first drifted window. Most drifted first.

        Columns: column_name, kind, worst, drifted_windows, warned_windows, windows, status,
        first_drift. Every "worst value per column" in the package is this one.
        """
        if drift_type not in _DRIFT_TYPES:
            raise ValueError(f"drift_type must be one of {', '.join(_DRIFT_TYPES)}, not {drift_type!r}")
        registered = get_statistic(statistic)
        higher = registered.higher_is_drift
        value = pl.col(statistic).fill_nan(None)
        # the worst of a signed change is the largest in either direction, sign kept
        worst = (
            value.sort_by(value.abs(), descending=True, nulls_last=True).first() if registered.signed
            else value.max() if higher else value.min()
        )
        rank = pl.col("status").replace_strict(_STATUS_RANK, default=0, return_dtype=pl.Int8)
        by_rank = {v: k for k, v in _STATUS_RANK.items()}
        return (
            self.table.filter(pl.col("drift_type") == drift_type)
            .group_by("column_name", "kind", maintain_order=True)
            .agg(
                worst=worst,
                drifted_windows=(pl.col("status") == "drift").sum().cast(pl.Int64),
                warned_windows=(pl.col("status") == "warn").sum().cast(pl.Int64),
                windows=pl.len().cast(pl.Int64),
                status_rank=rank.max(),
                first_drift=pl.col("window_start").filter(pl.col("status") == "drift").min(),
            )
            .with_columns(status=pl.col("status_rank").replace_strict(by_rank, default=None, return_dtype=pl.String))
            .sort(
                ["drifted_windows", "warned_windows", pl.col("worst").abs() if registered.signed else "worst", "column_name"],
                descending=[True, True, higher, False],
                nulls_last=True,
            )
            .select("column_name", "kind", "worst", "drifted_windows", "warned_windows", "windows", "status", "first_drift")
        )

    def drifted_features(self, drift_type: str = "BASELINE") -> pl.DataFrame:
        """Columns that drifted in at least one window, most drifted first (PSI ranks ties):
        :meth:`worst_by_column` of PSI, without the columns that never drifted."""
        return (
            self.worst_by_column("population_stability_index", drift_type)
            .filter(pl.col("drifted_windows") > 0)
            .rename({"worst": "max_population_stability_index"})
        )

    def to_databricks_drift_metrics(self, *, monitor_version: int = 0) -> pl.DataFrame:
        """The drift table in the schema of Databricks' ``{table}_drift_metrics`` (data profiling,
        formerly Lakehouse Monitoring), so dashboards built on those tables read ours; columns and
        their sources in :mod:`mlobs_notebook.drift.databricks`. Windows in UTC."""
        from mlobs_notebook.drift.databricks import drift_metrics

        return drift_metrics(self, monitor_version=monitor_version)

    def to_databricks_profile_metrics(
        self, *, monitor_version: int = 0, quality: pl.DataFrame | None = None,
        model_id: tuple[str, str] | None = None,
    ) -> pl.DataFrame:
        """The baseline and window profiles in the schema of Databricks' ``{table}_profile_metrics``;
        ``quality`` adds model-quality columns per window as an InferenceLog monitor writes them
        (see :func:`mlobs_notebook.drift.databricks.profile_metrics`)."""
        from mlobs_notebook.drift.databricks import profile_metrics

        return profile_metrics(self, monitor_version=monitor_version, quality=quality, model_id=model_id)

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
        return markup.render(
            "drift_report.html.j2",
            title=repr(self),
            head=drifted.columns,
            rows=[["" if v is None else v for v in row] for row in drifted.head(20).iter_rows()],
            findings=self.schema_findings,
            notes=self.notes,
        )
