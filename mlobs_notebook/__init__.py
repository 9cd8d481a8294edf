"""mlobs_notebook: from "AUC dropped" to the upstream run that changed a feature, in a notebook.

The public API is ``__all__`` below. Names resolve lazily so that ``import mlobs_notebook`` stays
light: MLflow, pyiceberg, plotly and ipywidgets are imported only by the call that needs them.
The map of the sub-packages is ``ARCHITECTURE.md`` at the repository's root.

Module paths from before the sub-packages (``mlobs_notebook.models``, ``.snapshots``,
``.evaluations``, ``.report``, ``.gate`` ...) still import, with a ``DeprecationWarning`` naming
the new place (see ``_MOVED``).
"""


# imported under private names: the package's public namespace is exactly __all__
import importlib as _importlib
import importlib.abc as _importlib_abc
import importlib.machinery as _machinery
import sys as _sys
import types as _types
import typing as _typing
import warnings as _warnings

__version__ = "0.1.0"

__all__ = [
    "AliasNotFound",
    "BaselineProfile",
    "CorrelationPanel",
    "DatasetRecord",
    "DriftExplorer",
    "DriftLog",
    "DriftReport",
    "ExperimentNotFound",
    "FeatureDriftDetected",
    "GateCheck",
    "GateResult",
    "Granularity",
    "IcebergDatasetSource",
    "InputError",
    "Investigation",
    "InvestigationPanel",
    "LineageExplorer",
    "LineageGraph",
    "MlobsError",
    "ModelNotFound",
    "ModelPicker",
    "ModelVersionRecord",
    "NoDatasetInputs",
    "NoLoggedModel",
    "ProgressBar",
    "PromotionFailed",
    "RunNotFound",
    "SnapshotChanged",
    "SnapshotCheck",
    "SourceRef",
    "SourceUnreadable",
    "StageDeprecated",
    "TrackingUnreachable",
    "UnknownMetric",
    "VersionNotFound",
    "build_world",
    "check_feature_drift",
    "compute_drift",
    "emit_quality_facets",
    "fit_baseline",
    "investigate",
    "load_current",
    "load_lineage",
    "load_production_model",
    "load_snapshot",
    "log_drift",
    "metric_series",
    "promote",
    "promotion_candidates",
    "quality_assertions",
    "register_sources",
    "snapshot_check",
    "training_datasets",
]

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "AliasNotFound": "mlobs_notebook.errors",
    "BaselineProfile": "mlobs_notebook.drift",
    "CorrelationPanel": "mlobs_notebook.widgets.correlation",
    "DatasetRecord": "mlobs_notebook.records",
    "DriftExplorer": "mlobs_notebook.widgets.drift_explorer",
    "DriftLog": "mlobs_notebook.actions.writeback",
    "DriftReport": "mlobs_notebook.drift",
    "ExperimentNotFound": "mlobs_notebook.errors",
    "FeatureDriftDetected": "mlobs_notebook.errors",
    "GateCheck": "mlobs_notebook.actions.gate",
    "GateResult": "mlobs_notebook.actions.gate",
    "Granularity": "mlobs_notebook.times",
    "IcebergDatasetSource": "mlobs_notebook.sources.dataset_sources",
    "InputError": "mlobs_notebook.errors",
    "Investigation": "mlobs_notebook.investigation",
    "InvestigationPanel": "mlobs_notebook.widgets.investigation_panel",
    "LineageExplorer": "mlobs_notebook.widgets.lineage_explorer",
    "LineageGraph": "mlobs_notebook.lineage",
    "MlobsError": "mlobs_notebook.errors",
    "ModelNotFound": "mlobs_notebook.errors",
    "ModelPicker": "mlobs_notebook.widgets.model_picker",
    "ModelVersionRecord": "mlobs_notebook.records",
    "NoDatasetInputs": "mlobs_notebook.errors",
    "NoLoggedModel": "mlobs_notebook.errors",
    "ProgressBar": "mlobs_notebook.widgets.progress",
    "PromotionFailed": "mlobs_notebook.errors",
    "RunNotFound": "mlobs_notebook.errors",
    "SnapshotChanged": "mlobs_notebook.errors",
    "SnapshotCheck": "mlobs_notebook.records",
    "SourceRef": "mlobs_notebook.records",
    "SourceUnreadable": "mlobs_notebook.errors",
    "StageDeprecated": "mlobs_notebook.errors",
    "TrackingUnreachable": "mlobs_notebook.errors",
    "UnknownMetric": "mlobs_notebook.errors",
    "VersionNotFound": "mlobs_notebook.errors",
    "build_world": "mlobs_notebook.demo",
    "check_feature_drift": "mlobs_notebook.actions.drift_check",
    "compute_drift": "mlobs_notebook.drift",
    "emit_quality_facets": "mlobs_notebook.actions.writeback",
    "fit_baseline": "mlobs_notebook.drift",
    "investigate": "mlobs_notebook.investigation",
    "load_current": "mlobs_notebook.sources.tables",
    "load_lineage": "mlobs_notebook.lineage",
    "load_production_model": "mlobs_notebook.sources.models",
    "load_snapshot": "mlobs_notebook.sources.tables",
    "log_drift": "mlobs_notebook.actions.writeback",
    "metric_series": "mlobs_notebook.sources.evaluations",
    "promote": "mlobs_notebook.actions.gate",
    "promotion_candidates": "mlobs_notebook.sources.evaluations",
    "quality_assertions": "mlobs_notebook.actions.writeback",
    "register_sources": "mlobs_notebook.sources.dataset_sources",
    "snapshot_check": "mlobs_notebook.sources.digests",
    "training_datasets": "mlobs_notebook.sources.models",
}

if _typing.TYPE_CHECKING:  # what type checkers and IDEs see; the names resolve lazily at run time
    from mlobs_notebook.actions.drift_check import check_feature_drift
    from mlobs_notebook.actions.gate import GateCheck, GateResult, promote
    from mlobs_notebook.actions.writeback import (
        DriftLog,
        emit_quality_facets,
        log_drift,
        quality_assertions,
    )
    from mlobs_notebook.demo import build_world
    from mlobs_notebook.drift import BaselineProfile, DriftReport, compute_drift, fit_baseline
    from mlobs_notebook.errors import (
        AliasNotFound,
        ExperimentNotFound,
        FeatureDriftDetected,
        InputError,
        MlobsError,
        ModelNotFound,
        NoDatasetInputs,
        NoLoggedModel,
        PromotionFailed,
        RunNotFound,
        SnapshotChanged,
        SourceUnreadable,
        StageDeprecated,
        TrackingUnreachable,
        UnknownMetric,
        VersionNotFound,
    )
    from mlobs_notebook.investigation import Investigation, investigate
    from mlobs_notebook.lineage import LineageGraph, load_lineage
    from mlobs_notebook.records import DatasetRecord, ModelVersionRecord, SnapshotCheck, SourceRef
    from mlobs_notebook.sources.dataset_sources import IcebergDatasetSource, register_sources
    from mlobs_notebook.sources.digests import snapshot_check
    from mlobs_notebook.sources.evaluations import metric_series, promotion_candidates
    from mlobs_notebook.sources.models import load_production_model, training_datasets
    from mlobs_notebook.sources.tables import load_current, load_snapshot
    from mlobs_notebook.times import Granularity
    from mlobs_notebook.widgets.correlation import CorrelationPanel
    from mlobs_notebook.widgets.drift_explorer import DriftExplorer
    from mlobs_notebook.widgets.investigation_panel import InvestigationPanel
    from mlobs_notebook.widgets.lineage_explorer import LineageExplorer
    from mlobs_notebook.widgets.model_picker import ModelPicker
    from mlobs_notebook.widgets.progress import ProgressBar


def __getattr__(name: str) -> _typing.Any:
    try:
        module_name = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'mlobs_notebook' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Old module path (under mlobs_notebook.) -> the modules that now hold its names, searched in order.
_MOVED: dict[str, tuple[str, ...]] = {
    "models": ("sources.models", "records", "errors"),
    "snapshots": ("sources.tables", "sources.digests", "sources.refs", "records", "errors"),
    "evaluations": ("sources.evaluations",),
    "dataset_sources": ("sources.dataset_sources", "sources.iceberg_uri"),
    "report": ("postmortem",),
    "gate": ("actions.gate",),
    "drift_check": ("actions.drift_check",),
    "writeback": ("actions.writeback",),
    "commands": ("cli",),
    "commands.demo": ("cli.demo",),
    "commands.drift": ("cli.drift",),
    "commands.gate": ("cli.gate",),
    "commands.investigate": ("cli.investigate",),
    "commands.lineage": ("cli.lineage",),
    "drift.engine": ("drift.engines.local",),
    "drift.registry": ("drift.statistics",),
    **{f"drift.{m}": (f"drift.statistics.{m}",) for m in ("chi2", "js", "ks", "linf", "psi", "tv", "wasserstein")},
    "lineage.parse": ("lineage.readers.openlineage",),
    "lineage.marquez": ("lineage.readers.marquez",),
    "lineage.sources": ("lineage.readers.files",),
}


class _MovedModule(_types.ModuleType):
    """An old module path: its names come from the modules that now hold them."""

    def __init__(self, name: str, targets: _typing.Sequence[str]) -> None:
        super().__init__(name, f"Deprecated: moved to {', '.join(targets)}.")
        self._targets = tuple(targets)

    def __getattr__(self, attribute: str) -> _typing.Any:
        for target in self._targets:
            module = _importlib.import_module(target)
            if hasattr(module, attribute):
                return getattr(module, attribute)
        raise AttributeError(f"module {self.__name__!r} (moved to {', '.join(self._targets)}) has no attribute {attribute!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self._targets:
            names |= set(dir(_importlib.import_module(target)))
        return sorted(names)


class _MovedFinder(_importlib_abc.MetaPathFinder, _importlib_abc.Loader):
    """Finds the old module paths listed in ``_MOVED`` and warns where they went."""

    def find_spec(self, fullname: str, path: _typing.Any = None, target: _typing.Any = None) -> _typing.Any:
        old = fullname.removeprefix(f"{__name__}.")
        if old == fullname or old not in _MOVED:
            return None
        return _machinery.ModuleSpec(fullname, self, is_package=old == "commands")

    def create_module(self, spec: _typing.Any) -> _types.ModuleType:
        old = spec.name.removeprefix(f"{__name__}.")
        targets = [f"{__name__}.{t}" for t in _MOVED[old]]
        _warnings.warn(
            f"{spec.name} moved to {' and '.join(targets)}; import from there (or from mlobs_notebook)",
            DeprecationWarning,
            stacklevel=2,
        )
        module = _MovedModule(spec.name, targets)
        if old == "commands":
            module.__path__ = []
        return module

    def exec_module(self, module: _types.ModuleType) -> None:
        return None


if not any(isinstance(finder, _MovedFinder) for finder in _sys.meta_path):
    _sys.meta_path.append(_MovedFinder())
