"""Small investigation worlds of our own, unlike the demo in names and timings, so that the
investigation is tested on what it must generalise over, not on the demo's feature names.

Each world: a parquet training snapshot logged as a run's training input (a local source, not
Iceberg), a tiny real scikit-learn model registered with an alias, evaluation runs of another
metric with another label delay, current data as parquet, and OpenLineage events written by the
openlineage-python client for another pipeline (another incident kind: a schema change).
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

JOB_NS = "payments-dagster"
LAKE = "gs://risk-lake"


@dataclass(frozen=True)
class WorldSpec:
    name: str
    scenario: str  # pipeline_bug | data_drift
    features: tuple[str, ...]
    drifting: str  # the feature the incident moves
    metric: str
    label_delay: int
    days: int
    train_days: int
    incident: int  # day index of the incident
    rows: int
    start: date
    jobs: tuple[str, str]  # (upstream job writing the staging table, job writing the features)


@dataclass(frozen=True)
class BuiltWorld:
    spec: WorldSpec
    tracking_uri: str
    model: str
    alias: str
    current: str
    lineage: str
    lineage_dataset: str
    incident_date: date


def _frame(spec: WorldSpec, day: int, rng: np.random.Generator) -> pl.DataFrame:
    n = spec.rows
    after = day >= spec.incident
    signal = rng.normal(size=n)
    cols = {}
    for i, feature in enumerate(spec.features):
        noise = rng.normal(size=n)
        cols[feature] = signal * (1.0 if i == 0 else 0.3) + noise + 5 * i
    truth = cols[spec.features[0]] - 0.5 * cols[spec.features[1]]
    label = rng.random(n) < 1 / (1 + np.exp(-(truth - np.median(truth))))
    if after:
        ramp = min(1.0, (day - spec.incident + 1) / 3)
        if spec.scenario == "pipeline_bug":
            # the upstream job now writes the column in cents instead of units
            cols[spec.drifting] = cols[spec.drifting] * (1 + 99 * ramp)
        else:
            cols[spec.drifting] = cols[spec.drifting] + 2.5 * ramp * rng.normal(1.0, 1.0, n)
    start = datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=UTC) + timedelta(days=day)
    cols["event_time"] = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 86_400, n)]
    cols["label"] = label
    return pl.DataFrame(cols).with_columns(pl.col("event_time").cast(pl.Datetime("us", "UTC")))


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4))


def _events(spec: WorldSpec, root: Path, rng: np.random.Generator) -> tuple[str, str]:
    from openlineage.client import OpenLineageClient, event_v2, facet_v2
    from openlineage.client.transport.file import FileConfig, FileTransport

    path = root / "lineage.jsonl"
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    staging, features = f"{spec.name}/staging", f"{spec.name}/features"
    cl = facet_v2.column_lineage_dataset
    for day in range(spec.days):
        when = datetime(spec.start.year, spec.start.month, spec.start.day, 3, tzinfo=UTC) + timedelta(days=day)
        changed = spec.scenario == "pipeline_bug" and day >= spec.incident
        staging_fields = [(f"raw_{f}", "DOUBLE" if not (changed and f == spec.drifting) else "BIGINT") for f in spec.features]
        for job, inputs, output, fields, lineage in (
            (spec.jobs[0], [("postgres://core:5432", "core.public.ledger")], staging, staging_fields, None),
            (spec.jobs[1], [(LAKE, staging)], features, [(f, "DOUBLE") for f in spec.features],
             {f: [(LAKE, staging, f"raw_{f}")] for f in spec.features}),
        ):
            run_id = _uuid(rng)
            facets = {"schema": facet_v2.schema_dataset.SchemaDatasetFacet(
                fields=[facet_v2.schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields])}
            if lineage:
                facets["columnLineage"] = cl.ColumnLineageDatasetFacet(fields={
                    f: cl.Fields(inputFields=[cl.InputField(namespace=ns, name=nm, field=fd) for ns, nm, fd in src])
                    for f, src in lineage.items()
                })
            for state, at, outputs in (
                (event_v2.RunState.START, when, []),
                (event_v2.RunState.COMPLETE, when + timedelta(minutes=7),
                 [event_v2.OutputDataset(namespace=LAKE, name=output, facets=facets)]),
            ):
                client.emit(event_v2.RunEvent(
                    eventType=state, eventTime=at.isoformat(), producer="https://example.com/tests",
                    run=event_v2.Run(runId=run_id), job=event_v2.Job(namespace=JOB_NS, name=job),
                    inputs=[event_v2.InputDataset(namespace=ns, name=nm) for ns, nm in inputs], outputs=outputs,
                ))
            when += timedelta(minutes=10)
    return str(path), f"{LAKE}/{features}"


def build(spec: WorldSpec, root: Path, empty_store: Path, seed: int = 3) -> BuiltWorld:
    import mlflow
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    frames = [_frame(spec, d, rng) for d in range(spec.days)]
    train = pl.concat(frames[: spec.train_days])
    train_path = root / "training.parquet"
    train.write_parquet(train_path)
    current_path = root / "current.parquet"
    pl.concat(frames[spec.train_days :]).write_parquet(current_path)

    shutil.copy(empty_store, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.create_experiment(spec.name, artifact_location=(root / "artifacts").as_uri())
    x = lambda f: f.select(spec.features).to_pandas()  # noqa: E731
    model = LogisticRegression(max_iter=200).fit(x(train), train["label"].to_numpy())
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment) as run:
            # built from JSON: resolving a bare path warns that MLflow's two 'local' classes match
            source = get_dataset_source_from_json(json.dumps({"uri": str(train_path)}), "local")
            dataset = mlflow.data.from_pandas(train.to_pandas(), source=source, name=f"{spec.name}_train")
            mlflow.log_input(dataset, context="training")
            info = mlflow.sklearn.log_model(
                model, name="model", pip_requirements=["scikit-learn"],
                signature=mlflow.models.infer_signature(x(train.head(50)), model.predict(x(train.head(50)))),
            )
        client.create_registered_model(spec.name)
        version = client.create_model_version(spec.name, info.model_uri, run.info.run_id)
        client.set_registered_model_alias(spec.name, "champion", version.version)
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])

    score = {"f1": lambda y, p: f1_score(y, p > 0.5), "roc_auc": roc_auc_score}[spec.metric]
    for day in range(spec.train_days + spec.label_delay, spec.days):
        rows = frames[day - spec.label_delay]
        value = float(score(rows["label"].to_numpy(), model.predict_proba(x(rows))[:, 1]))
        at = int((datetime(spec.start.year, spec.start.month, spec.start.day, 12, tzinfo=UTC) + timedelta(days=day)).timestamp() * 1000)
        r = client.create_run(experiment, start_time=at, tags={"stage": "live"})
        client.log_batch(r.info.run_id, metrics=[Metric(spec.metric, value, at, 0)])
        client.set_terminated(r.info.run_id, end_time=at + 1000)

    lineage, dataset_name = _events(spec, root, rng)
    return BuiltWorld(spec, uri, spec.name, "champion", str(current_path), lineage, dataset_name,
                      spec.start + timedelta(days=spec.incident))


FRAUD = WorldSpec(
    name="fraud_scorer", scenario="pipeline_bug",
    features=("txn_amount_avg", "merchant_risk", "device_age_days", "login_count_24h"),
    drifting="merchant_risk", metric="f1", label_delay=5, days=48, train_days=20, incident=33,
    rows=1500, start=date(2025, 11, 3), jobs=("ledger_export", "risk_features"),
)
LOANS = WorldSpec(
    name="loan_default", scenario="data_drift",
    features=("debt_to_income", "utilization", "months_on_book"),
    drifting="utilization", metric="roc_auc", label_delay=1, days=40, train_days=15, incident=26,
    rows=1500, start=date(2026, 2, 14), jobs=("bureau_pull", "credit_features"),
)
