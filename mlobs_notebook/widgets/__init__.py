"""Interactive panels (ipywidgets): state in the controls' traits, figures from ``plots``.

- ``LineageExplorer(graph, dataset, column=None, since=None, until=None)``
- ``DriftExplorer(report, feature=None, window=None, statistic="population_stability_index")``
- ``ModelPicker(tracking_uri, model=None, alias="production", metric="auc")``

Each panel displays as a live widget plus a static HTML fallback (figures and tables) for
frontends without widgets; ``use_static()`` shows the static view only, ``use_widgets()`` goes
back. ``panel.to_html()`` is the static view.
"""

from mlobs_notebook.widgets._static import display_mode, use_static, use_widgets
from mlobs_notebook.widgets.drift_explorer import ALL_WINDOWS, DriftExplorer
from mlobs_notebook.widgets.lineage_explorer import LineageExplorer
from mlobs_notebook.widgets.model_picker import ModelPicker

__all__ = [
    "ALL_WINDOWS",
    "DriftExplorer",
    "LineageExplorer",
    "ModelPicker",
    "display_mode",
    "use_static",
    "use_widgets",
]
