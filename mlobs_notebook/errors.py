"""One error tree for mlobs_notebook.

Every error says what went wrong, names the thing (model, run id, column, file and line) and
says what to do. Errors raised because of a library failure keep it as ``__cause__``
(``raise ... from exc``).

::

    MlobsError
     ├── InputError                 bad input from the caller; the CLI exits 2
     │    ├── ModelNotFound          no such registered model (lists the known ones)
     │    ├── AliasNotFound          the model has no such alias or stage (lists its aliases)
     │    ├── VersionNotFound        the model has no such version (lists its versions)
     │    ├── ExperimentNotFound     no such MLflow experiment (lists the known ones)
     │    ├── NoTraces               an experiment, run or model with no traces (names it)
     │    ├── RunNotFound            no such run id
     │    ├── NoDatasetInputs        the run logged no dataset inputs
     │    ├── NoLoggedModel          the run logged no model to register (gate)
     │    ├── UnknownMetric          a metric the run never logged (lists its metrics)
     │    ├── UnknownStatistic       a drift statistic not in the registry (lists the names)
     │    ├── UnknownColumn          a column missing from a frame (lists the columns)
     │    ├── UnknownScenario        a demo scenario that does not exist (lists the names)
     │    ├── WorldExists            a demo world already in the folder (use --force)
     │    ├── LineageParseError      a bad OpenLineage event under strict=True (source, line)
     │    ├── UnknownDataset         a dataset not in the lineage (lists known ones)
     │    └── UnknownJob             a job not in the lineage (lists known ones)
     ├── SourceUnreadable           a dataset source that cannot be read (URI, why, what to install)
     │    └── MissingDependency      an optional extra is not installed (the pip command)
     ├── TrackingUnreachable        the MLflow tracking server did not answer in time
     ├── OutputUnwritable           a folder or file the toolkit must write cannot be written
     ├── PromotionFailed            a registry write failed midway; says what was rolled back
     └── FeatureDriftDetected       a drift check found features past the threshold

Warnings (findings, not failures)::

    StageDeprecated (FutureWarning)  a model was found through a legacy registry stage
    SnapshotChanged (UserWarning)    a recorded snapshot no longer matches its digest
"""

from __future__ import annotations

__all__ = [
    "AliasNotFound",
    "ExperimentNotFound",
    "FeatureDriftDetected",
    "InputError",
    "LineageParseError",
    "MissingDependency",
    "MlobsError",
    "ModelNotFound",
    "NoDatasetInputs",
    "NoLoggedModel",
    "NoTraces",
    "OutputUnwritable",
    "PromotionFailed",
    "RunNotFound",
    "SnapshotChanged",
    "SourceUnreadable",
    "StageDeprecated",
    "TrackingUnreachable",
    "UnknownColumn",
    "UnknownDataset",
    "UnknownJob",
    "UnknownMetric",
    "UnknownScenario",
    "UnknownStatistic",
    "VersionNotFound",
    "WorldExists",
]


class MlobsError(Exception):
    """The root of every error mlobs_notebook raises on purpose."""


class InputError(MlobsError, ValueError):
    """The caller asked for something that does not exist or cannot be done as asked."""


class ModelNotFound(InputError):
    pass


class AliasNotFound(InputError):
    pass


class VersionNotFound(InputError):
    pass


class ExperimentNotFound(InputError):
    pass


class RunNotFound(InputError):
    pass


class NoTraces(InputError):
    """An experiment, run or LoggedModel (in a time range) that holds no traces."""


class NoDatasetInputs(InputError):
    pass


class NoLoggedModel(InputError):
    pass


class UnknownMetric(InputError):
    pass


class UnknownStatistic(InputError):
    pass


class UnknownColumn(InputError):
    pass


class UnknownScenario(InputError):
    pass


class WorldExists(InputError):
    pass


class LineageParseError(InputError):
    """A malformed OpenLineage event, raised only under ``strict=True``."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class UnknownDataset(InputError):
    pass


class UnknownJob(InputError):
    pass


class SourceUnreadable(MlobsError):
    pass


class MissingDependency(SourceUnreadable, ImportError):
    """An optional dependency is missing; the message carries the install command."""

    def __init__(self, package: str, extra: str, purpose: str, command: str | None = None) -> None:
        command = command or f"pip install 'mlobs_notebook[{extra}]'"
        super().__init__(
            f"{purpose} needs the '{package}' package, which is not installed. Install it with: {command}"
        )
        self.package = package
        self.extra = extra
        self.command = command


class TrackingUnreachable(MlobsError, ConnectionError):
    pass


class OutputUnwritable(MlobsError, OSError):
    pass


class PromotionFailed(MlobsError):
    """A registry write of a promotion failed; the message says what was rolled back or left."""


class FeatureDriftDetected(MlobsError):
    """Raised by drift checks that a scheduler calls; carries the drifted features and scores."""

    def __init__(self, scores: dict[str, float], threshold: float, report: object = None) -> None:
        listed = ", ".join(f"{name} ({score:.3f})" for name, score in sorted(scores.items()))
        super().__init__(f"{len(scores)} feature(s) drifted past {threshold}: {listed}")
        self.scores = dict(scores)
        self.threshold = threshold
        self.report = report


class StageDeprecated(FutureWarning):
    """A model was addressed by a registry stage, which MLflow deprecated in favour of aliases."""


class SnapshotChanged(UserWarning):
    """The data at a recorded source no longer matches what MLflow recorded for it."""
