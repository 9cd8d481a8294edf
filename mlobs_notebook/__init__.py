"""mlobs_notebook: from "AUC dropped" to the upstream run that changed a feature, in a notebook.

The public API is the sorted ``__all__`` below. Names resolve lazily so that
``import mlobs_notebook`` stays light: MLflow, pyiceberg, plotly and ipywidgets are imported
only by the call that needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    "AliasNotFound": ".errors",
    "BaselineProfile": ".drift",
    "CorrelationPanel": ".widgets.correlation",
    "DatasetRecord": ".models",
    "DriftExplorer": ".widgets",
    "DriftLog": ".writeback",
    "DriftReport": ".drift",
    "ExperimentNotFound": ".errors",
    "FeatureDriftDetected": ".errors",
    "GateCheck": ".gate",
    "GateResult": ".gate",
    "IcebergDatasetSource": ".dataset_sources",
    "InputError": ".errors",
    "Investigation": ".investigation",
    "InvestigationPanel": ".widgets.investigation_panel",
    "LineageExplorer": ".widgets",
    "LineageGraph": ".lineage",
    "MlobsError": ".errors",
    "ModelNotFound": ".errors",
    "ModelPicker": ".widgets",
    "ModelVersionRecord": ".models",
    "NoDatasetInputs": ".errors",
    "NoLoggedModel": ".errors",
    "ProgressBar": ".widgets.progress",
    "PromotionFailed": ".errors",
    "RunNotFound": ".errors",
    "SnapshotChanged": ".snapshots",
    "SnapshotCheck": ".snapshots",
    "SourceRef": ".snapshots",
    "SourceUnreadable": ".errors",
    "StageDeprecated": ".models",
    "TrackingUnreachable": ".errors",
    "UnknownMetric": ".errors",
    "VersionNotFound": ".errors",
    "build_world": ".demo",
    "check_feature_drift": ".drift_check",
    "compute_drift": ".drift",
    "emit_quality_facets": ".writeback",
    "fit_baseline": ".drift",
    "investigate": ".investigation",
    "load_current": ".snapshots",
    "load_lineage": ".lineage",
    "load_production_model": ".models",
    "load_snapshot": ".snapshots",
    "log_drift": ".writeback",
    "metric_series": ".evaluations",
    "promote": ".gate",
    "promotion_candidates": ".evaluations",
    "quality_assertions": ".writeback",
    "register_sources": ".dataset_sources",
    "snapshot_check": ".snapshots",
    "training_datasets": ".models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module_name = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'mlobs_notebook' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
