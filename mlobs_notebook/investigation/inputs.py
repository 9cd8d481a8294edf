"""The baseline and the current data of an investigation: where each comes from, read once.

- **Baseline**: the data the model was trained on. By default the training run's dataset input
  as MLflow recorded it (a table without a snapshot or version is read as of the training run's
  start, and the notes say so); ``baseline=`` (``--baseline``) gives it instead: a parquet or CSV
  file or folder (local or object storage), ``iceberg://<catalog>/<ns>.<table>@<snapshot>``, an
  Iceberg or Delta table folder, ``delta:///<path>@<version>``, or a polars/pandas frame. When
  the recorded dataset cannot be read, the error says what MLflow recorded (no inputs, a ``code``
  source, an unreachable location) and names ``--baseline``.
- **Current**: ``current=`` (``--current``), else the predictions log when one is given, else the
  training table as it is now after the training data ends. When the training data is a single
  file that default holds nothing new, so :func:`check_current` asks for ``--current`` before any
  data is read.

Both are read by the engine's reader (:mod:`~mlobs_notebook.investigation.frames`): polars frames
held in memory when they fit and streamed otherwise, or Spark DataFrames read by the session.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from mlobs_notebook.errors import InputError, NoDatasetInputs, SourceUnreadable
from mlobs_notebook.investigation import frames
from mlobs_notebook.records import DatasetRecord, ModelVersionRecord, SnapshotCheck, SourceRef
from mlobs_notebook.sources.refs import source_from_uri

__all__ = ["BaselineInput", "CurrentInput", "check_baseline", "check_current", "lazy_frame", "recorded_training", "resolve_baseline",
           "resolve_current"]

# the digest check reads every row: only below this many
DIGEST_CHECK_ROWS = 1_000_000
_WAYS = ("a parquet or CSV file or folder (local, s3://, gs://, az://), iceberg://<catalog>/<ns>.<table>@<snapshot>, "
         "delta:///<path>@<version>, or a DataFrame")


@dataclass(frozen=True)
class BaselineInput:
    """The baseline as read: ``frame`` (in memory, lazy view), ``dataset`` (MLflow's record, or one
    describing the data given), ``source`` (what was read, with the version or snapshot),
    ``check`` (the digest check, None when not made), ``notes``, ``recorded`` (MLflow's record,
    None when the run logged none), ``given`` (whether ``baseline=`` gave it) and ``said``: the
    sentences the evidence opens with (a baseline given, a version chosen as of training)."""

    frame: Any  # a polars LazyFrame, or a Spark DataFrame with engine="spark"
    dataset: DatasetRecord
    source: str
    check: SnapshotCheck | None
    notes: tuple[str, ...]
    recorded: DatasetRecord | None
    given: bool
    said: tuple[str, ...] = ()


@dataclass(frozen=True)
class CurrentInput:
    """The current data before features are chosen: the frame (lazy), where it came from, notes."""

    frame: Any
    source: str
    notes: tuple[str, ...]


def recorded_training(record: ModelVersionRecord) -> tuple[DatasetRecord | None, str]:
    """The run's training dataset input (context "training" first), or None and why not."""
    from mlobs_notebook.sources.models import training_datasets

    try:
        datasets = training_datasets(record)
    except NoDatasetInputs:
        return None, f"the training run of {_who(record)} logged no dataset inputs (mlflow.log_input)"
    return next((d for d in datasets if d.context == "training"), datasets[0]), ""


def check_current(
    current: Any, predictions: Any, recorded: DatasetRecord | None, baseline_given: bool, record: ModelVersionRecord
) -> SourceRef | None:
    """The table the default current data comes from: the recorded training table as it is now
    (None when ``current`` gives the data, or when only the predictions log can). Raises
    :class:`InputError` naming ``--current`` when nothing can, before any data is read."""
    if current is not None:
        return None
    from mlobs_notebook.sources.scan import classify

    if recorded is None:
        why = f"the training run of {_who(record)} recorded no dataset" + (" (the baseline was given)" if baseline_given else "")
    else:
        try:
            found = classify(recorded.source)
        except SourceUnreadable:
            found = recorded.source  # unreadable now: reading it names the way past
        if found.kind == "code":
            why = f"MLflow recorded a 'code' source for dataset {recorded.name!r}: no location to read newer data from"
        elif _single_file(found):
            why = f"the training data is the single file {found.uri}, which holds no data newer than training"
        else:
            return found.at_latest()
    if predictions is not None:
        return None
    raise InputError(
        f"current data is needed: {why}. Pass the recent feature data with --current (current=): "
        f"{_WAYS}; or a predictions log holding the features with --predictions"
    )


def check_baseline(record: ModelVersionRecord, recorded: DatasetRecord | None, why_none: str, baseline: Any) -> None:
    """Before any data is read: without ``baseline``, the run must have recorded a dataset with a
    location (not a ``code`` source); the error says what MLflow recorded and names ``--baseline``."""
    if baseline is not None:
        return
    if recorded is None:
        raise NoDatasetInputs(
            f"{why_none}, so its training data is unknown. Pass the training data with --baseline "
            f"(baseline=): {_WAYS}"
        )
    if recorded.source.kind == "code":
        raise SourceUnreadable(
            f"cannot read the training data of {_who(record)}: MLflow recorded dataset {recorded.name!r} "
            f"(digest {recorded.digest}) as {_recorded(recorded)}. Pass the training data with --baseline "
            f"(baseline=): {_WAYS}"
        )


def resolve_baseline(
    record: ModelVersionRecord, recorded: DatasetRecord | None, why_none: str, baseline: Any, *,
    engine: str = "polars", spark: Any = None,
) -> BaselineInput:
    """Read the baseline (see the module docstring)."""
    if engine == "spark":
        return _spark_baseline(record, recorded, why_none, baseline, spark)
    if baseline is not None:
        return _given(record, recorded, baseline)
    check_baseline(record, recorded, why_none, baseline)
    assert recorded is not None
    from mlobs_notebook.sources.digests import check_frame
    from mlobs_notebook.sources.scan import open_source

    try:
        opened = open_source(recorded.source)
        frame = frames.held(opened.frame)
    except SourceUnreadable as exc:
        raise SourceUnreadable(
            f"cannot read the training data of {_who(record)}: MLflow recorded dataset {recorded.name!r} as "
            f"{_recorded(recorded)}, and {str(exc).rstrip('.')}. Pass a copy of the training data with --baseline "
            f"(baseline=): {_WAYS}"
        ) from exc
    said = (opened.note,) if opened.note else ()
    check = None
    if _small(recorded):
        check = check_frame(recorded, frame.collect())
    notes = said if check is not None else (
        *said, "the training snapshot's digest was not rechecked (over 1,000,000 rows or no row count recorded)")
    return BaselineInput(frame, recorded, opened.ref.described, check, notes, recorded, False, said)


def _spark_baseline(
    record: ModelVersionRecord, recorded: DatasetRecord | None, why_none: str, baseline: Any, spark: Any
) -> BaselineInput:
    """The baseline as a Spark DataFrame read by the session; no digest check (MLflow's digest is
    computed on pandas frames), which the notes say."""
    from mlobs_notebook.drift.engines.spark_support import as_spark
    from mlobs_notebook.sources.spark_scan import spark_scan

    check_baseline(record, recorded, why_none, baseline)
    if baseline is None:
        assert recorded is not None
        frame, source, ref = spark_scan(recorded.source, spark), recorded.source.described, recorded.source
    elif isinstance(baseline, str | Path | SourceRef):
        ref = baseline if isinstance(baseline, SourceRef) else source_from_uri(str(baseline))
        frame, source = spark_scan(ref, spark), ref.described
    else:
        source = f"<{type(baseline).__name__}>"
        frame, ref = as_spark(baseline, spark, "baseline"), SourceRef("frame", source)
    notes = ("the training snapshot's digest was not rechecked (engine='spark' reads it with Spark)",)
    dataset = recorded if recorded is not None else DatasetRecord(
        name="baseline", digest="", source_type="given", source=ref, schema=None, profile={},
        context="training", run_id=record.run_id,
    )
    said = (f"{source}, given with --baseline (baseline=)",) if baseline is not None else ()
    return BaselineInput(frame, dataset, source, None, notes, recorded, baseline is not None, said)


def _given(record: ModelVersionRecord, recorded: DatasetRecord | None, baseline: Any) -> BaselineInput:
    from mlobs_notebook.sources.digests import check_frame

    if isinstance(baseline, str | Path | SourceRef):
        from mlobs_notebook.sources.scan import open_source

        ref = baseline if isinstance(baseline, SourceRef) else source_from_uri(str(baseline))
        # a table given without a snapshot or version is read as it was when training started
        opened = open_source(replace(ref, as_of=ref.as_of or record.run_start_time))
        frame, source, note = frames.held(opened.frame), opened.ref.described, opened.note
    else:
        frame, source, note = frames.held(lazy_frame(baseline, "baseline")), f"<{type(baseline).__name__}>", None
        ref = SourceRef("frame", source)
    what = "no dataset" if recorded is None else f"dataset {recorded.name!r} as {_recorded(recorded)}"
    said = (f"{source}, given with --baseline (baseline=); the training run recorded {what}",
            *((note,) if note else ()))
    check = None
    if recorded is not None and recorded.digest and _small(recorded):
        check = check_frame(recorded, frame.collect(), read_from=source)
    dataset = recorded if recorded is not None else DatasetRecord(
        name="baseline", digest="", source_type="given", source=ref, schema=None,
        profile={"num_rows": frame.select(pl.len()).collect(engine="streaming").item()}, context="training",
        run_id=record.run_id,
    )
    return BaselineInput(frame, dataset, source, check, said, recorded, True, said)


def resolve_current(
    current: Any, predictions: Any, table: SourceRef | None, *, time_column: str,
    start: Any, end: Any, trained_until: datetime | None, time_format: str | None,
    engine: str = "polars", spark: Any = None,
) -> CurrentInput:
    """The current data as a LazyFrame (a Spark DataFrame with ``engine="spark"``): ``current``,
    the predictions log, or ``table`` after the training data ends."""
    from mlobs_notebook.sources.tables import load_current
    from mlobs_notebook.times import read_time_column

    if current is None and table is None and predictions is not None:
        current, notes = predictions, ["current data: the predictions log (no --current given)"]
    else:
        notes = []
    if engine == "spark":
        frame, name, more = frames.spark_current(current, table, time_column, time_format, start, end,
                                                 trained_until, spark)
        return CurrentInput(frame, name, (*notes, *more))
    if current is not None:
        if isinstance(current, str | Path | SourceRef):
            name = current.uri if isinstance(current, SourceRef) else str(current)
            return CurrentInput(load_current(current, time_column, start=start, end=end, time_format=time_format), name, tuple(notes))
        return CurrentInput(lazy_frame(current, "current"), f"<{type(current).__name__}>", tuple(notes))
    assert table is not None
    try:
        frame = load_current(table, time_column, start=start, end=end, time_format=time_format)
    except SourceUnreadable as exc:
        raise SourceUnreadable(
            f"{exc}. The current data defaults to the training table as it is now; pass it with --current (current=)"
        ) from exc
    if start is None and trained_until is not None:
        parsed = read_time_column(frame, time_column, time_format=time_format)
        frame = frame.filter(parsed.expr > trained_until)
        notes.append(f"current data: {table.uri} after the training data ends ({trained_until:%Y-%m-%d %H:%M} UTC)")
    return CurrentInput(frame, table.uri, tuple(notes))


def _single_file(ref: SourceRef) -> bool:
    from urllib.parse import urlparse

    if ref.kind == "local":
        return not Path(ref.path or ref.uri).is_dir()
    if ref.kind in ("delta", "iceberg"):
        return False
    return Path(urlparse(ref.uri).path).suffix.lower() in (".parquet", ".pq", ".csv")


def _small(record: DatasetRecord) -> bool:
    return record.num_rows is not None and record.num_rows <= DIGEST_CHECK_ROWS


def _recorded(recorded: DatasetRecord) -> str:
    if recorded.source_type == "code":
        return ("a 'code' source: mlflow.data.from_pandas(df) without source= (or from_numpy) records where the "
                "dataset was built, not where its data lives")
    return f"{recorded.source_type} source {recorded.source.uri}"


def _who(record: ModelVersionRecord) -> str:
    return f"model {record.name!r} version {record.version} (run {record.run_id})" if record.name else f"run {record.run_id}"


def lazy_frame(frame: Any, what: str) -> pl.LazyFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    try:
        with warnings.catch_warnings():
            # pandas 3 deprecates what polars reads of a zone-aware column; nothing for a user to do
            warnings.filterwarnings("ignore", message=".*Series.values returning an ndarray that drops timezone")
            return pl.from_pandas(frame).lazy()
    except Exception as exc:
        raise InputError(
            f"{what} data must be a URI, a polars or pandas frame; got {type(frame).__name__}"
        ) from exc

