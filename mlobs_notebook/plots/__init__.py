"""Figure builders: result objects in, plotly ``go.Figure`` out. No widgets here.

plotly is imported inside each builder, so importing this package stays light.

- lineage: ``lineage_figure`` (layered upstream drawing), ``node_details``, ``expand``;
- drift: ``histogram_overlay``, ``drift_over_windows``, ``drift_ranking``, ``feature_ranking``;
- model: ``metric_series_figure``.
"""

from mlobs_notebook.plots.drift import (
    DEFAULT_STATISTIC,
    drift_over_windows,
    drift_ranking,
    feature_ranking,
    histogram_overlay,
    report_windows,
    threshold_of,
)
from mlobs_notebook.plots.lineage import layout_positions, lineage_figure
from mlobs_notebook.plots.lineage_nodes import NodeDetails, expand, node_details, node_refs
from mlobs_notebook.plots.metrics import metric_series_figure

__all__ = [
    "DEFAULT_STATISTIC",
    "NodeDetails",
    "drift_over_windows",
    "drift_ranking",
    "expand",
    "feature_ranking",
    "histogram_overlay",
    "layout_positions",
    "lineage_figure",
    "metric_series_figure",
    "node_details",
    "node_refs",
    "report_windows",
    "threshold_of",
]
