"""Build a demo world into a folder, and read its manifest back.

The ``churn`` world (the default scenarios): Iceberg feature table, MLflow store, lineage. The
``rag_assistant`` world (the ``rag_*`` scenarios) is built by :mod:`mlobs_notebook.demo.rag.world`.

A build never leaves a half-written world: it writes into the target folder only after moving an
existing world aside (``force=True``), and on any failure removes what it wrote and puts the old
world back. Paths inside the stores are absolute (MLflow and Iceberg record them), which is why
the world is built in place rather than in a temporary folder and renamed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from mlobs_notebook.demo import features as feat
from mlobs_notebook.demo.pipeline import FEATURE_TABLE
from mlobs_notebook.demo.scenarios import get_scenario
from mlobs_notebook.errors import InputError, OutputUnwritable, WorldExists

if TYPE_CHECKING:
    from mlobs_notebook.demo.rag.world import RagManifest

MANIFEST = "manifest.json"
DEFAULT_SEED = 7
DEFAULT_DAYS = 90
DEFAULT_ROWS_PER_DAY = 4_000
# how the demo logs the model's metric: evaluation runs dated by their start, runs logged by a
# backfill and dated by a tag, or a predictions log
EVALUATIONS = ("runs", "tagged", "predictions")


@dataclass(frozen=True)
class Manifest:
    """What a built world holds and where; the same keys as ``manifest.json``."""

    path: str
    scenario: str
    seed: int
    days: int
    rows_per_day: int
    start_date: str
    training_date: str
    incident_date: str | None
    label_delay_days: int
    expected_verdict: str
    drifted_features: list[str]
    suspect_job: str | None
    story: str
    tracking_uri: str
    experiment: str
    model: str
    alias: str
    model_version: int
    training_run_id: str
    metric: str
    eval_filter: str
    catalog: dict[str, str]
    table: str
    time_column: str
    label: str
    features: list[str]
    training_snapshot_id: int
    training_source_uri: str
    snapshots: dict[str, int]
    lineage_file: str
    lineage_dataset: dict[str, str]
    lineage_events: int
    build_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    # how the metric is logged (EVALUATIONS) and what reads it: the --date-from, or a predictions log
    evaluations: str = "runs"
    date_from: str = "start_time"
    predictions_file: str | None = None
    prediction_column: str | None = None
    label_column: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Manifest:
        path = Path(folder) / MANIFEST
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise WorldExists(
                f"{path} does not exist: {folder} holds no demo world. Build one with "
                f"'mlobs demo --out {folder}'."
            ) from None
        if data.get("world") == "rag_assistant":
            raise InputError(
                f"{folder} holds a rag_assistant world, not a churn world: read its manifest with "
                "mlobs_notebook.demo.load_manifest()"
            )
        return cls(**data)


def check_target(out_dir: str | os.PathLike, force: bool) -> Path:
    """Refuse a target that cannot take a world; returns its absolute path."""
    out = Path(out_dir).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise OutputUnwritable(f"{out} exists and is not a folder; choose another --out")
    if (out / MANIFEST).exists() and not force:
        raise WorldExists(
            f"{out} already holds a demo world; pass --force to replace it, or choose another --out"
        )
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise OutputUnwritable(
            f"{out} is not empty and holds no demo world; refusing to write into it. "
            "Choose an empty or new folder."
        )
    probe_dir = out if out.exists() else out.parent
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir() or not os.access(probe_dir, os.W_OK | os.X_OK):
        raise OutputUnwritable(f"cannot write to {out}: {probe_dir} is not a writable folder")
    return out


def load_manifest(folder: str | os.PathLike) -> Manifest | RagManifest:
    """The manifest of the world in ``folder``, whichever world it is."""
    from mlobs_notebook.demo.rag.world import RagManifest

    path = Path(folder) / MANIFEST
    data = json.loads(path.read_text()) if path.exists() else {}
    return RagManifest(**data) if data.get("world") == "rag_assistant" else Manifest.load(folder)


def build_world(
    out_dir: str | os.PathLike = "mlobs-demo",
    *,
    seed: int = DEFAULT_SEED,
    days: int | None = None,
    scenario: str = "pipeline_bug",
    force: bool = False,
    rows_per_day: int = DEFAULT_ROWS_PER_DAY,
    label_delay: int = 3,
    evaluations: str = "runs",
    traces_per_day: int | None = None,
) -> Manifest | RagManifest:
    """Build the scenario's world into ``out_dir``; deterministic for a seed. Returns its manifest.

    ``days`` defaults to 90 for the churn world and 30 for the rag_assistant world;
    ``rows_per_day``, ``label_delay`` and ``evaluations`` apply to the churn world,
    ``traces_per_day`` (default 40) to the rag_assistant world. ``evaluations`` says how the
    model's metric is logged (:data:`EVALUATIONS`): ``runs`` (one evaluation run a day, started on
    the day it evaluates), ``tagged`` (the same runs logged at once by a backfill with the fluent
    API, so they all start now; the day each evaluated is in ``tags.eval_date``), or
    ``predictions`` (no evaluation runs: a predictions log, the model's score and the label once
    it has arrived, ``predictions/predictions.parquet``).
    """
    from mlobs_notebook.demo.rag.world import DEFAULT_DAYS as RAG_DAYS

    spec = get_scenario(scenario)
    if evaluations not in EVALUATIONS:
        raise InputError(f"unknown evaluations {evaluations!r}; choose one of {', '.join(EVALUATIONS)}")
    rag = spec.world == "rag_assistant"
    if rag and evaluations != "runs":
        raise InputError(f"--evaluations {evaluations} is for the churn scenarios; {scenario} logs assessments on traces")
    days = days if days is not None else (RAG_DAYS if rag else DEFAULT_DAYS)
    if days < 21:
        raise InputError(f"--days must be at least 21 (training, onset and impact); got {days}")
    out = check_target(out_dir, force)

    aside = None
    if out.exists() and (out / MANIFEST).exists():
        aside = out.with_name(f".{out.name}.replaced-{os.getpid()}")
        os.replace(out, aside)
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputUnwritable(f"cannot create {out}: {exc.strerror}") from exc
        with _quiet_mlflow():
            if rag:
                from mlobs_notebook.demo.rag.world import DEFAULT_TRACES_PER_DAY, build_rag

                manifest: Manifest | RagManifest = build_rag(
                    out, spec, seed, days, traces_per_day or DEFAULT_TRACES_PER_DAY)
                (out / MANIFEST).write_text(manifest.to_json())
            else:
                manifest = _build(out, spec, seed, days, rows_per_day, label_delay, evaluations)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        if aside is not None:
            os.replace(aside, out)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return manifest


def _build(out: Path, spec, seed: int, days: int, rows_per_day: int, label_delay: int, evaluations: str) -> Manifest:
    from mlobs_notebook.demo import iceberg_store, lineage_events, mlflow_store
    from mlobs_notebook.sources.dataset_sources import IcebergDatasetSource

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 2)
        return now

    t = time.perf_counter()
    timeline = feat.make_timeline(days, spec.incident, label_delay)
    frames = [feat.day_features(seed, d, timeline, spec.name, rows_per_day) for d in range(days)]
    dates = [timeline.date_of(d).isoformat() for d in range(days)]
    t = lap("generate", t)

    location, snapshots = iceberg_store.write_daily_snapshots(out / "iceberg", zip(dates, frames, strict=True))
    t = lap("iceberg", t)

    tracking_uri = f"sqlite:///{(out / 'mlflow.db').resolve()}"
    training_date = dates[timeline.training_day]
    snapshot_id = snapshots[training_date]
    source = IcebergDatasetSource(
        location.catalog, location.table, snapshot_id, location.properties()
    )
    train = pl.concat(frames[: timeline.training_day + 1])
    with mlflow_store.tracking(tracking_uri):
        registered, model = mlflow_store.log_training(
            tracking_uri, (out / "artifacts").resolve().as_uri(), train, source, timeline.midnight(timeline.training_day), seed
        )
    t = lap("mlflow_training", t)

    reading: dict[str, str | None] = {}
    if evaluations == "predictions":
        predictions = out / "predictions" / "predictions.parquet"
        mlflow_store.write_predictions_log(predictions, model, frames[timeline.training_day + 1:], label_delay)
        reading = {"predictions_file": str(predictions), "prediction_column": mlflow_store.PREDICTION,
                   "label_column": feat.LABEL}
    else:
        eval_days = list(timeline.evaluation_days())
        scored = [frames[d - label_delay] for d in eval_days]
        aucs = mlflow_store.daily_auc(model, scored)
        days_scored = [(timeline.midnight(d), rows, v) for d, rows, v in zip(eval_days, scored, aucs, strict=True)]
        if evaluations == "tagged":
            with mlflow_store.tracking(tracking_uri):
                mlflow_store.log_evaluations_backfilled(registered, days_scored, label_delay)
            reading = {"date_from": mlflow_store.EVAL_DATE_FROM}
        else:
            mlflow_store.log_evaluations(tracking_uri, registered, days_scored, label_delay)
    t = lap("mlflow_evaluations", t)

    lineage_file = out / "lineage" / "events.jsonl"
    count = lineage_events.write_events(lineage_file, seed, timeline, spec.name)
    t = lap("lineage", t)

    d = timeline.incident_day
    manifest = Manifest(
        path=str(out),
        scenario=spec.name,
        seed=seed,
        days=days,
        rows_per_day=rows_per_day,
        start_date=dates[0],
        training_date=training_date,
        incident_date=dates[d] if d is not None else None,
        label_delay_days=label_delay,
        expected_verdict=spec.expected_verdict,
        drifted_features=list(spec.drifted_features),
        suspect_job=spec.suspect_job,
        story=spec.story,
        tracking_uri=tracking_uri,
        experiment=mlflow_store.EXPERIMENT,
        model=registered.name,
        alias=mlflow_store.ALIAS,
        model_version=registered.version,
        training_run_id=registered.run_id,
        metric=mlflow_store.METRIC,
        eval_filter=mlflow_store.EVAL_FILTER,
        catalog={"name": location.catalog, "uri": location.uri, "warehouse": location.warehouse},
        table=location.table,
        time_column=feat.TIME_COLUMN,
        label=feat.LABEL,
        features=list(feat.FEATURES),
        training_snapshot_id=snapshot_id,
        training_source_uri=source.uri,
        snapshots=snapshots,
        lineage_file=str(lineage_file),
        lineage_dataset={"namespace": FEATURE_TABLE.namespace, "name": FEATURE_TABLE.name},
        lineage_events=count,
        build_seconds=round(time.perf_counter() - started, 2),
        timings=timings,
        evaluations=evaluations,
        **reading,  # type: ignore[arg-type]
    )
    (out / MANIFEST).write_text(manifest.to_json())
    _write_pyiceberg_config(out, location)
    return manifest


@contextlib.contextmanager
def _quiet_mlflow():
    """MLflow logs its schema migrations at INFO, warns that our integer features could be null at
    inference and that sklearn's predict has no precise type hint; none is news to a demo user."""
    import mlflow  # noqa: F401  (configures its loggers on import; set ours after)

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for noise in (
                ".*Integer columns in Python cannot represent missing values.*",
                ".*Any type hint is inferred as AnyType.*",
            ):
                warnings.filterwarnings("ignore", message=noise)
            yield
    finally:
        logger.setLevel(level)


def _write_pyiceberg_config(out: Path, location) -> None:
    """A ``.pyiceberg.yaml`` beside the world, for tools that read pyiceberg's own configuration
    (``PYICEBERG_HOME=<world>``)."""
    (out / ".pyiceberg.yaml").write_text(
        "catalog:\n"
        f"  {location.catalog}:\n"
        "    type: sql\n"
        f"    uri: {location.uri}\n"
        f"    warehouse: {location.warehouse}\n"
    )
