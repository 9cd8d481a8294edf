"""Interactive panels (ipywidgets controls over figures from ``plots``).

- ``LineageExplorer(graph, dataset, column=None, since=None, until=None)``
- ``DriftExplorer(report, feature=None, window=None, statistic="population_stability_index")``
- ``ModelPicker(tracking_uri, model=None, alias="production", metric="auc")``
- ``CorrelationPanel(investigation, feature=None, lag=None)``, ``InvestigationPanel(investigation)``

A displayed panel is its controls (a widget) followed by its figures and tables as ordinary HTML
outputs that the controls redraw in place: JupyterLab, Notebook 7 and VS Code show both; every
renderer of ``text/html`` (exported HTML, Colab, GitHub) shows the figures and tables as last
drawn. ``use_static()`` leaves the controls out, ``use_widgets()`` puts them back;
``include_plotlyjs("inline" | "none" | "cdn")`` says where figures find plotly.js (see
``_static``). ``panel.to_html()`` is the panel as one HTML fragment.
"""

from mlobs_notebook.widgets._static import display_mode, include_plotlyjs, use_static, use_widgets
from mlobs_notebook.widgets.drift_explorer import ALL_WINDOWS, DriftExplorer
from mlobs_notebook.widgets.lineage_explorer import LineageExplorer
from mlobs_notebook.widgets.model_picker import ModelPicker

__all__ = [
    "ALL_WINDOWS",
    "DriftExplorer",
    "LineageExplorer",
    "ModelPicker",
    "display_mode",
    "include_plotlyjs",
    "use_static",
    "use_widgets",
]
