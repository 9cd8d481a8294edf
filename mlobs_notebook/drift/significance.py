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
_QUALITY = ("percent_null_delta", "unseen_category_share")


def require_significance(report: DriftReport, alpha: float = DEFAULT_ALPHA) -> DriftReport:
    """``report`` with ``drifted`` kept only where the KS (numeric) or chi-squared (categorical)
    p-value is below ``alpha``, or where a data-quality statistic (``percent_null_delta``,
    ``unseen_category_share``) raised it; a flag withdrawn leaves the status ``warn``. Windows
    without a p-value keep their flag."""
    table = report.table
    if "ks_pvalue" not in table.columns or "chi_squared_pvalue" not in table.columns:
        return report
    p = pl.when(pl.col("kind") == "numeric").then(pl.col("ks_pvalue")).otherwise(pl.col("chi_squared_pvalue"))
    # a flag raised by a data-quality statistic (more nulls, unseen categories) is no distance
    # between distributions: the tests do not judge it, and it stays
    quality = [f"{name}_drifted" for name in _QUALITY if f"{name}_drifted" in table.columns]
    kept = pl.any_horizontal([pl.col(c).fill_null(False) for c in quality]) if quality else pl.lit(False)
    withdrawn = pl.col("drifted").fill_null(False) & p.is_not_null() & (p >= alpha) & ~kept
    rejudged = table.with_columns(
        pl.when(withdrawn).then(pl.lit("warn")).otherwise(pl.col("status")).alias("status"),
        pl.when(withdrawn).then(pl.lit(False)).otherwise(pl.col("drifted")).alias("drifted"),
    )
    count = table.filter(withdrawn).height
    note = (f"drift needs the PSI past its threshold and a p-value below {alpha:g} (KS for numbers, "
            f"chi-squared for categories): {count} window flag(s) chance explains were withdrawn")
    return replace(report, table=rejudged, notes=(*report.notes, note))
