"""Drift judged on small windows: a PSI past its threshold counts only when chance is unlikely
to explain it.

With no drift at all, the PSI of a window of ``m`` rows against a baseline of ``n`` over ``k``
bins is roughly ``(1/n + 1/m)`` times a chi-squared variable with ``k - 1`` degrees of freedom
(Yurdakul, B., *Statistical Properties of Population Stability Index*, Western Michigan
University, 2018), and an empty bin adds about 0.7 on its own (its share is taken as 1e-4). A
window of 30 rows against 60 passes 0.2 by chance most of the time: an LLM app's daily traces
are often that few, and a tabular model's hourly windows can be. :func:`require_significance` keeps a window's ``drifted`` flag only where
the window's distribution also differs significantly from the baseline's: the KS test for
numeric columns, the chi-squared test for categorical ones, at ``alpha``. Large windows are
unaffected (their p-values are tiny whenever the PSI is large); the PSI still guards against
the tiny-but-significant shifts p-values flag at scale. Pure.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from mlobs_notebook.drift.report import DriftReport

__all__ = ["DEFAULT_ALPHA", "require_significance"]

DEFAULT_ALPHA = 0.001  # a flag chance raises once in a thousand windows


def require_significance(report: DriftReport, alpha: float = DEFAULT_ALPHA) -> DriftReport:
    """``report`` with ``drifted`` kept only where the KS (numeric) or chi-squared (categorical)
    p-value is below ``alpha``, or where more nulls raised it and the two null rates differ at
    ``alpha`` (a pooled two-proportion z-test); a flag withdrawn leaves the status ``warn``.
    Windows without a p-value keep their flag."""
    table = report.table
    if "ks_pvalue" not in table.columns or "chi_squared_pvalue" not in table.columns:
        return report
    p = pl.when(pl.col("kind") == "numeric").then(pl.col("ks_pvalue")).otherwise(pl.col("chi_squared_pvalue"))
    # a flag of more nulls is no distance between distributions: its own test judges it (two
    # proportions); new categories are in the chi-squared test already
    nulls = table.select(_null_rate_pvalue().alias("p"))["p"]
    raised_by_nulls = (
        pl.col("percent_null_delta_drifted").fill_null(False) if "percent_null_delta_drifted" in table.columns
        else pl.lit(False)
    )
    kept = raised_by_nulls & (pl.lit(nulls) < alpha)
    withdrawn = pl.col("drifted").fill_null(False) & p.is_not_null() & (p >= alpha) & ~kept
    rejudged = table.with_columns(
        pl.when(withdrawn).then(pl.lit("warn")).otherwise(pl.col("status")).alias("status"),
        pl.when(withdrawn).then(pl.lit(False)).otherwise(pl.col("drifted")).alias("drifted"),
    )
    count = table.filter(withdrawn).height
    note = (f"drift needs the PSI past its threshold and a p-value below {alpha:g} (KS for numbers, "
            f"chi-squared for categories): {count} window flag(s) chance explains were withdrawn")
    return replace(report, table=rejudged, notes=(*report.notes, note))


def _null_rate_pvalue() -> pl.Expr:
    """Two-sided p-value of the pooled two-proportion z-test between the window's null rate and
    the baseline's (1.0 where neither has a null)."""
    from scipy.stats import norm

    n, m = pl.col("reference_count").cast(pl.Float64), pl.col("count").cast(pl.Float64)
    a, b = pl.col("reference_null_rate") * n, pl.col("current_null_rate") * m
    pooled = (a + b) / (n + m)
    se = (pooled * (1 - pooled) * (1 / n + 1 / m)).sqrt()
    z = ((pl.col("current_null_rate") - pl.col("reference_null_rate")).abs() / se).fill_nan(0.0).fill_null(0.0)
    return z.map_batches(lambda zs: pl.Series(2 * norm.sf(zs.to_numpy()), dtype=pl.Float64), return_dtype=pl.Float64)
