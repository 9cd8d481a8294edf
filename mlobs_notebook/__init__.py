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
    "DriftReport": ".drift",
    "FeatureDriftDetected": ".errors",
    "InputError": ".errors",
    "LineageGraph": ".lineage",
    "MlobsError": ".errors",
    "ModelNotFound": ".errors",
    "SourceUnreadable": ".errors",
    "TrackingUnreachable": ".errors",
    "build_world": ".demo",
    "compute_drift": ".drift",
    "fit_baseline": ".drift",
    "load_lineage": ".lineage",
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
