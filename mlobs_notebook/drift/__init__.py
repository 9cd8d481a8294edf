"""Feature drift: a baseline profile fitted once, applied to every window in one pass.

``fit_baseline`` learns bins, categories and sorted values from the training data;
``compute_drift`` compares current data (optionally per time window) against it and returns a
:class:`DriftReport`. Statistics live one per module and register by name (``registry.py``):
PSI and JS distance (numeric and categorical), exact KS and Wasserstein (numeric),
chi-squared, total variation and L-infinity (categorical). Pure: polars and numpy in, polars
out; the loops over values (``*_kernels.py``) are compiled by numba on first use and cached on
disk.

Which statistics need what:

- Binned (PSI, JS, chi-squared, TV, L-inf), counts, null rates, means: per-window counts, exact
  at any size. In memory a compiled pass counts each numeric column; a LazyFrame is counted by
  polars group-bys on its streaming engine, in memory bounded by windows x bins and categories.
- Exact KS and Wasserstein: every finite value of a window, sorted, in memory. A LazyFrame's
  numeric columns are read one at a time for them, so memory holds one column (about 20 to 40
  bytes a row: 2.8 GB peak for 50M rows); above ``max_exact_rows`` rows (default 100,000,000)
  they are skipped and the report's ``notes`` say so; pass a sample or raise the bound. A
  baseline LazyFrame is fitted streaming and its sorted values kept only when they fit in
  ``profile.HELD_REFERENCE_BYTES`` (else read again, one column at a time).
- Engines (``engine=``): ``"polars"`` here, ``"spark"`` for Spark DataFrames (per-window
  group-by aggregations in Spark; binned statistics equal to the polars engine's; KS and
  Wasserstein by a distributed sort, or from quantile sketches with their error bound in the
  notes). See ``drift/engines/``.
- Categorical PSI and JS pool categories rarer than ``min_category_count`` (default 20, scaled
  to the smaller sample) into ``__other__`` so sparse windows do not read as drift; chi-squared,
  TV and L-inf use the raw counts.
"""

from mlobs_notebook.drift.engines.local import compute_drift
from mlobs_notebook.drift.profile import BaselineProfile, fit_baseline
from mlobs_notebook.drift.report import DriftReport
from mlobs_notebook.drift.schema import SchemaFinding
from mlobs_notebook.drift.statistics import Statistic, get_statistic, statistic_names

__all__ = [
    "BaselineProfile",
    "DriftReport",
    "SchemaFinding",
    "Statistic",
    "compute_drift",
    "fit_baseline",
    "get_statistic",
    "statistic_names",
]
