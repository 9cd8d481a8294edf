"""Worlds of the harder incident families, of our own: other names, timings and pipelines than
the demo's, built with the real stores (a parquet training snapshot logged as an MLflow run's
input, a scikit-learn model registered with an alias, evaluation runs with late labels, current
data as parquet holding the model's scores, OpenLineage events written by the openlineage-python
client with SQL, schema, column lineage and failures).

The pipeline of every world: ``ingest`` copies a source table into a staging table; ``dims`` and
``profile`` export two attribute tables; ``build`` joins the three into the feature table. The
features: ``f[0]`` an activity count over the last days, ``f[1]`` an engagement score from the
profile table that follows activity closely, ``f[2]`` an amount, ``f[3]`` a quantity from
staging, ``f[4]`` an attribute from the dims table that correlates with nothing; plus a segment
column that is not a model input. The label follows the latent activity, the engagement beyond
it, the real amount, the quantity and the dims attribute.

Families (``IncidentSpec.family``) and what they change from the incident day on:

- ``join_bug``: ``build`` joins dims on the wrong key; ``f[4]`` is shuffled across rows.
- ``join_bug_correlated``: ``build`` joins profile on the wrong key; ``f[1]`` is shuffled, and
  no longer follows activity.
- ``unit_change``: ``ingest`` writes the amount in cents (``* 100``).
- ``null_flood``: the source renames ``f[3]``'s column; staging's schema changes, ``f[3]`` is null.
- ``stale_data``: ``ingest`` fails every day; the count decays as its window slides past the last
  day staged (to 0 after ``STALE_DAYS``).
- ``segment_break``: ``ingest`` filters out one segment's events; its rows' count goes to 0.
- ``gradual_drift``: the amount inflates 1.5% a day, and the price-sensitive start to leave.
- ``weekly_seasonality``: weekends look different, in training and after alike; nothing happens.
- ``drift_without_impact``: ``f[3]`` shifts for every row alike; the model's ranking holds.
- ``cosmetic_change``: ``build``'s SQL is reformatted and commented, the day the relation between
  activity and the label weakens (a concept change).
- ``unrelated_change``: a cohort with larger amounts grows (the amount drifts for real) while
  ``dims``' SQL changes, which column lineage ties only to ``f[4]``.
- ``mixed``: two causes at once: ``ingest`` writes the amount in cents, and a cohort with larger
  quantities (``f[3]``) and its own reasons to leave grows.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

EXPECTED = {
    "join_bug": "pipeline_bug", "join_bug_correlated": "pipeline_bug", "unit_change": "pipeline_bug",
    "null_flood": "pipeline_bug", "stale_data": "pipeline_bug", "segment_break": "pipeline_bug",
    "gradual_drift": "data_drift", "weekly_seasonality": "healthy", "drift_without_impact": "healthy",
    "cosmetic_change": "model_drift", "unrelated_change": "data_drift", "mixed": "pipeline_bug",
}
# the job whose run is the culprit, per family (None: no culprit)
CULPRIT_JOB = {
    "join_bug": "build", "join_bug_correlated": "build", "unit_change": "ingest", "null_flood": "ingest",
    "stale_data": "ingest", "segment_break": "ingest", "mixed": "ingest",
}
# the feature the incident moves, for the families where one does
# the activity count's window: once staging stops being refreshed the count loses a day of
# events each day, and is 0 after this many
STALE_DAYS = 4
# how strongly the price-sensitive react to inflation (gradual_drift): log-odds per unit of log price
GRADUAL_EFFECT = 8.0
# the spread of log amounts: a 1.5% daily inflation reaches PSI 0.2 after about 0.43 spreads
AMOUNT_SIGMA = 0.2
MOVED = {"unit_change": 2, "null_flood": 3, "stale_data": 0, "segment_break": 0, "gradual_drift": 2,
         "drift_without_impact": 3, "unrelated_change": 2}


@dataclass(frozen=True)
class IncidentSpec:
    name: str
    family: str
    features: tuple[str, str, str, str, str]
    segment: str
    segment_values: tuple[str, str, str]
    metric: str  # roc_auc | f1
    label_delay: int
    days: int = 50
    train_days: int = 16
    incident: int = 34
    rows: int = 2000
    start: date = date(2025, 9, 1)
    column_lineage: bool = True
    seed: int = 0
    namespace: str = "orders-airflow"
    lake: str = "s3://orders-lake"

    @property
    def expected(self) -> str:
        return EXPECTED[self.family]

    def job(self, role: str) -> str:
        return f"{self.name}.{role}"


@dataclass(frozen=True)
class BuiltIncident:
    spec: IncidentSpec
    tracking_uri: str
    model: str
    alias: str
    current: str
    lineage: str
    lineage_dataset: str
    incident_date: date
    culprit_run: str | None
    culprit_job: str | None
    extras: dict = field(default_factory=dict)


# --- data --------------------------------------------------------------------------------------
def _day(spec: IncidentSpec, day: int, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    """One day's rows as the feature table holds them, and the true labels."""
    n, fam, d0 = spec.rows, spec.family, spec.incident
    after = day >= d0
    when = spec.start + timedelta(days=day)
    weekend = when.weekday() >= 5
    seasonal = fam == "weekly_seasonality"
    seg_p = (0.3, 0.2, 0.5) if seasonal and weekend else (0.5, 0.3, 0.2)
    segment = rng.choice(np.asarray(spec.segment_values), size=n, p=seg_p)
    activity = rng.gamma(2.0, 0.35, n) * (1.8 if seasonal and weekend else 1.0)
    f0 = rng.poisson(activity * 7.0).astype(float)
    own = rng.normal(0, 1.0, n)  # what engagement says beyond activity
    f1 = 1.5 * np.log1p(activity * 7.0) + 0.8 * own
    amount = rng.lognormal(3.0, AMOUNT_SIGMA, n)
    f3 = rng.normal(10.0, 2.0, n)
    f4 = rng.normal(0.0, 1.0, n)
    z = lambda x: (x - x.mean()) / (x.std() + 1e-9)  # noqa: E731
    logit = -0.2 - 1.8 * z(activity) + 1.4 * own + 0.7 * z(np.log(amount)) + 1.6 * z(f3) + 0.9 * f4
    cohort = np.zeros(n, dtype=bool)
    if fam == "cosmetic_change" and after:
        w = min(1.0, (day - d0 + 1) / 3)
        logit = (1 - w) * logit + w * (-0.2 + 0.7 * z(np.log(amount)) + 1.6 * z(f3) + 0.9 * f4 - 1.8 * rng.normal(size=n))
    if fam == "unrelated_change" and after:
        cohort = rng.random(n) < 0.5 * min(1.0, (day - d0 + 1) / 5)
        amount = np.where(cohort, rng.lognormal(4.2, 0.4, n), amount)
        logit = np.where(cohort, logit + rng.normal(0.0, 2.5, n) - 0.7 * z(np.log(amount)), logit)
    if fam == "mixed" and after:
        cohort = rng.random(n) < 0.5 * min(1.0, (day - d0 + 1) / 3)
        f3 = np.where(cohort, rng.normal(15.0, 2.0, n), f3)
        logit = np.where(cohort, logit + rng.normal(0.0, 2.5, n) - 1.6 * z(f3), logit)
    inflation = 1.0
    if fam == "gradual_drift" and after:
        inflation = 1.015 ** (day - d0 + 1)
        logit = logit - GRADUAL_EFFECT * np.log(inflation) * z(np.log(amount))
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    obs_amount = amount * inflation
    if fam in ("unit_change", "mixed") and after:
        obs_amount = obs_amount * 100
    if fam == "stale_data" and after:
        f0 = np.round(f0 * max(0.0, STALE_DAYS - (day - d0 + 1)) / STALE_DAYS)
    if fam == "segment_break" and after:
        f0 = np.where(segment == spec.segment_values[1], 0.0, f0)
    if fam == "join_bug" and after:
        f4 = rng.permutation(f4)
    if fam == "join_bug_correlated" and after:
        f1 = rng.permutation(f1)
    if fam == "drift_without_impact" and after:
        f3 = f3 + 4.0 * min(1.0, (day - d0 + 1) / 3)
    values = {spec.features[0]: f0, spec.features[1]: f1, spec.features[2]: obs_amount.round(2),
              spec.features[3]: f3, spec.features[4]: f4}
    frame = pl.DataFrame(values).with_columns(
        pl.Series(spec.segment, segment),
        pl.Series("event_time", [datetime(when.year, when.month, when.day, tzinfo=UTC) + timedelta(seconds=int(s))
                                 for s in rng.integers(0, 86_400, n)], dtype=pl.Datetime("us", "UTC")),
        pl.Series("label", label),
    )
    if fam == "null_flood" and after:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(spec.features[3]))
    return frame, label


# --- lineage -----------------------------------------------------------------------------------
def _sql(spec: IncidentSpec, day: int) -> dict[str, str]:
    f, fam, after = spec.features, spec.family, day >= spec.incident
    amount = "amount * 100" if fam in ("unit_change", "mixed") and after else "amount"
    seg_filter = f" AND {spec.segment} <> '{spec.segment_values[1]}'" if fam == "segment_break" and after else ""
    ingest = (f"INSERT INTO staging SELECT user_id, {amount} AS raw_{f[2]}, qty AS raw_{f[3]}, events_7d AS raw_{f[0]}, "
              f"{spec.segment} FROM src.public.orders WHERE day = DATE '{{{{ ds }}}}'{seg_filter}")
    dims_key = "d.account_id" if fam == "join_bug" and after else "d.user_id"
    prof_key = "p.account_id" if fam == "join_bug_correlated" and after else "p.user_id"
    build = (f"INSERT INTO features SELECT s.user_id, s.raw_{f[0]} AS {f[0]}, p.score AS {f[1]}, s.raw_{f[2]} AS {f[2]}, "
             f"s.raw_{f[3]} AS {f[3]}, d.attr AS {f[4]}, s.{spec.segment} FROM staging s "
             f"LEFT JOIN profile p ON {prof_key} = s.user_id LEFT JOIN dims d ON {dims_key} = s.user_id")
    if fam == "cosmetic_change" and after:
        build = ("-- " + spec.name + ": one column a line, no change in logic\n"
                 + build.replace(" FROM ", "\nFROM ").replace(" LEFT JOIN ", "\n  LEFT JOIN ").replace(", ", ",\n       ")
                 + "  -- keyed by user")
    attr = "ROUND(attr, 4)" if fam == "unrelated_change" and after else "attr"
    dims = f"INSERT OVERWRITE dims SELECT user_id, account_id, {attr} AS attr FROM crm.public.accounts"
    profile = "INSERT OVERWRITE profile SELECT user_id, account_id, engagement AS score FROM app.public.profiles"
    return {"ingest": ingest, "build": build, "dims": dims, "profile": profile}


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4))


def _events(spec: IncidentSpec, root: Path, rng: np.random.Generator) -> tuple[str, str, str | None]:
    """Write the world's lineage; returns (path, feature table URI, the culprit's run id)."""
    from openlineage.client import OpenLineageClient, event_v2, facet_v2
    from openlineage.client.transport.file import FileConfig, FileTransport

    path = root / "lineage.jsonl"
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    f, lake, fam = spec.features, spec.lake, spec.family
    staging, dims, profile, table = (f"{spec.name}/{t}" for t in ("staging", "dims", "profile", "features"))
    cl = facet_v2.column_lineage_dataset
    culprit = None
    for day in range(spec.days):
        after = day >= spec.incident
        base = datetime(spec.start.year, spec.start.month, spec.start.day, 2, tzinfo=UTC) + timedelta(days=day)
        f3_col = f"raw_{f[3]}_v2" if fam == "null_flood" and after else f"raw_{f[3]}"
        staging_fields = [("user_id", "BIGINT"), (f"raw_{f[0]}", "BIGINT"), (f"raw_{f[2]}", "DOUBLE"),
                          (f3_col, "DOUBLE"), (spec.segment, "STRING")]
        sql = _sql(spec, day)
        jobs = (
            ("ingest", [("postgres://src:5432", "src.public.orders")], staging, staging_fields,
             {f"raw_{f[0]}": [("postgres://src:5432", "src.public.orders", "events_7d")],
              f"raw_{f[2]}": [("postgres://src:5432", "src.public.orders", "amount")],
              f3_col: [("postgres://src:5432", "src.public.orders", f3_col.replace(f"raw_{f[3]}", "qty"))],
              spec.segment: [("postgres://src:5432", "src.public.orders", spec.segment)]}),
            ("dims", [("postgres://crm:5432", "crm.public.accounts")], dims,
             [("user_id", "BIGINT"), ("account_id", "BIGINT"), ("attr", "DOUBLE")],
             {"attr": [("postgres://crm:5432", "crm.public.accounts", "attr")]}),
            ("profile", [("postgres://app:5432", "app.public.profiles")], profile,
             [("user_id", "BIGINT"), ("account_id", "BIGINT"), ("score", "DOUBLE")],
             {"score": [("postgres://app:5432", "app.public.profiles", "engagement")]}),
            ("build", [(lake, staging), (lake, profile), (lake, dims)], table,
             [(c, "DOUBLE") for c in f] + [(spec.segment, "STRING")],
             {f[0]: [(lake, staging, f"raw_{f[0]}")], f[1]: [(lake, profile, "score")],
              f[2]: [(lake, staging, f"raw_{f[2]}")], f[3]: [(lake, staging, f"raw_{f[3]}")],
              f[4]: [(lake, dims, "attr")], spec.segment: [(lake, staging, spec.segment)]}),
        )
        for i, (role, inputs, output, fields, lineage) in enumerate(jobs):
            when = base + timedelta(minutes=15 * i)
            run_id = _uuid(rng)
            failed = fam == "stale_data" and role == "ingest" and after
            if after and day == spec.incident and role == CULPRIT_JOB.get(fam):
                culprit = run_id
            facets = {"schema": facet_v2.schema_dataset.SchemaDatasetFacet(
                fields=[facet_v2.schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields])}
            if lineage and spec.column_lineage:
                facets["columnLineage"] = cl.ColumnLineageDatasetFacet(fields={
                    out: cl.Fields(inputFields=[cl.InputField(namespace=ns, name=nm, field=fd) for ns, nm, fd in src])
                    for out, src in lineage.items()
                })
            job = event_v2.Job(namespace=spec.namespace, name=spec.job(role),
                               facets={"sql": facet_v2.sql_job.SQLJobFacet(query=sql[role], dialect="trino")})
            end_state = event_v2.RunState.FAIL if failed else event_v2.RunState.COMPLETE
            run_facets = {}
            if failed:
                run_facets["errorMessage"] = facet_v2.error_message_run.ErrorMessageRunFacet(
                    message="S3 AccessDenied: the role lost read access to the source export", programmingLanguage="python")
            for state, at, outputs in (
                (event_v2.RunState.START, when, []),
                (end_state, when + timedelta(minutes=6),
                 [] if failed else [event_v2.OutputDataset(namespace=lake, name=output, facets=facets)]),
            ):
                client.emit(event_v2.RunEvent(
                    eventType=state, eventTime=at.isoformat(), producer="https://example.com/incident-worlds",
                    run=event_v2.Run(runId=run_id, facets=run_facets if state == end_state else {}), job=job,
                    inputs=[event_v2.InputDataset(namespace=ns, name=nm) for ns, nm in inputs], outputs=outputs,
                ))
    return str(path), f"{lake}/{table}", culprit


# --- stores ------------------------------------------------------------------------------------
def build_incident(spec: IncidentSpec, root: Path, empty_store: Path) -> BuiltIncident:
    import mlflow
    from mlflow.data.dataset_source_registry import get_dataset_source_from_json
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    rng = np.random.default_rng([spec.seed, len(spec.name)])
    root.mkdir(parents=True)
    frames = [_day(spec, d, rng)[0] for d in range(spec.days)]
    train = pl.concat(frames[: spec.train_days])
    x = lambda frame: frame.select(spec.features).fill_null(0.0).to_pandas()  # noqa: E731
    model = LogisticRegression(max_iter=500).fit(x(train), train["label"].to_numpy())
    train_path = root / "training.parquet"
    train.write_parquet(train_path)
    current = pl.concat(frames[spec.train_days:])
    current = current.with_columns(pl.Series("score", model.predict_proba(x(current))[:, 1]))
    current_path = root / "current.parquet"
    current.drop("label").write_parquet(current_path)

    shutil.copy(empty_store, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.create_experiment(spec.name, artifact_location=(root / "artifacts").as_uri())
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment) as run:
            source = get_dataset_source_from_json(json.dumps({"uri": str(train_path)}), "local")
            mlflow.log_input(mlflow.data.from_pandas(train.to_pandas(), source=source, name=f"{spec.name}_train"),
                             context="training")
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

    score = {"f1": lambda y, p: f1_score(y, p >= 0.5), "roc_auc": roc_auc_score}[spec.metric]
    for day in range(spec.train_days + spec.label_delay, spec.days):
        rows = frames[day - spec.label_delay]
        value = float(score(rows["label"].to_numpy(), model.predict_proba(x(rows))[:, 1]))
        at = int((datetime(spec.start.year, spec.start.month, spec.start.day, 12, tzinfo=UTC)
                  + timedelta(days=day)).timestamp() * 1000)
        r = client.create_run(experiment, start_time=at, tags={"stage": "live"})
        client.log_batch(r.info.run_id, metrics=[Metric(spec.metric, value, at, 0)])
        client.set_terminated(r.info.run_id, end_time=at + 1000)

    lineage, dataset, culprit = _events(spec, root, rng)
    culprit_job = CULPRIT_JOB.get(spec.family)
    return BuiltIncident(spec, uri, spec.name, "champion", str(current_path), lineage, dataset,
                         spec.start + timedelta(days=spec.incident), culprit,
                         spec.job(culprit_job) if culprit_job else None, {"model": model})


def true_lead(world: BuiltIncident, tolerance: float, rows: int = 20_000) -> float | None:
    """The lead time the world holds, read without sampling noise (days): the day the metric of
    ``rows`` fresh rows a day first falls below its pre-incident level minus ``tolerance``, plus
    the label delay, minus the day the moved feature's PSI against training first reaches 0.2
    (the incident day for a joint drift). None where no drift is there to lead (a join on an
    uncorrelated column, a concept change) or the metric does not fall."""
    from sklearn.metrics import f1_score, roc_auc_score

    spec = world.spec
    if spec.expected in ("healthy", "model_drift") or spec.family == "join_bug":
        return None
    big = replace(spec, rows=rows)
    rng = np.random.default_rng([spec.seed, 99])
    model = world.extras["model"]
    x = lambda frame: frame.select(spec.features).fill_null(0.0).to_pandas()  # noqa: E731
    score = {"f1": lambda y, p: f1_score(y, p >= 0.5), "roc_auc": roc_auc_score}[spec.metric]
    train = pl.concat([_day(big, d, rng)[0] for d in range(3)])
    before = [_day(big, d, rng)[0] for d in range(spec.incident - 4, spec.incident)]
    reference = float(np.mean([score(f["label"].to_numpy(), model.predict_proba(x(f))[:, 1]) for f in before]))
    drift_day = metric_day = None
    for day in range(spec.incident, spec.days - spec.label_delay):
        frame = _day(big, day, rng)[0]
        if drift_day is None:
            moved = MOVED.get(spec.family)
            if moved is None or _psi(train[spec.features[moved]], frame[spec.features[moved]]) >= 0.2:
                drift_day = day
        value = score(frame["label"].to_numpy(), model.predict_proba(x(frame))[:, 1])
        if metric_day is None and value < reference - tolerance:
            metric_day = day
        if drift_day is not None and metric_day is not None:
            return float(metric_day + spec.label_delay - drift_day)
    return None


def _psi(baseline: pl.Series, current: pl.Series) -> float:
    """PSI on the baseline's deciles plus a null bin, as the drift report has it."""
    b = baseline.drop_nulls().to_numpy()
    edges = np.unique(np.quantile(b, np.arange(1, 10) / 10))

    def shares(values: pl.Series) -> np.ndarray:
        present = values.drop_nulls().to_numpy()
        counts = np.append(np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1),
                           values.null_count())
        p = counts / counts.sum()
        return np.where(p == 0, 1e-4, p)

    pb, pc = shares(baseline), shares(current)
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def investigate_incident(world: BuiltIncident, **options):
    """``investigate`` as a user of this world calls it."""
    from mlobs_notebook.investigation import investigate

    spec = world.spec
    return investigate(
        world.model, world.current, world.lineage, alias=world.alias, tracking_uri=world.tracking_uri,
        metric=spec.metric, eval_filter="tags.stage = 'live'", time_column="event_time",
        lineage_dataset=world.lineage_dataset, score_column="score", **options,
    )


F1_FAMILIES = ("join_bug", "unit_change", "null_flood", "stale_data", "cosmetic_change",
               "unrelated_change")
FEATURE_NAMES = (
    ("order_count_7d", "engagement_score", "basket_value", "items_per_order", "loyalty_index"),
    ("txn_count_7d", "app_affinity", "ticket_amount", "units_bought", "crm_tier_score"),
    ("visits_7d", "propensity", "cart_total", "quantity", "risk_attr"),
)
SEGMENTS = (("channel", ("app", "web", "store")), ("device_type", ("ios", "android", "desktop")),
            ("region", ("north", "south", "east")))


def spec_for(family: str, index: int, label_delay: int, *, column_lineage: bool = True, **overrides) -> IncidentSpec:
    """A world of ``family`` with names and timings varied by ``index``."""
    names = FEATURE_NAMES[index % len(FEATURE_NAMES)]
    segment, values = SEGMENTS[index % len(SEGMENTS)]
    # F1 at a fixed threshold moves with any shift of the scores, and barely with some harms (a
    # segment's counts at zero): those families are judged by ROC AUC
    metric = "f1" if index % 2 and family in F1_FAMILIES else "roc_auc"
    base = {
        "name": f"{family}_{index}", "family": family, "features": names, "segment": segment,
        "segment_values": values, "metric": metric, "label_delay": label_delay,
        "incident": 33 + index % 3, "start": date(2025, 3 + index % 9, 1 + index % 20), "seed": index,
        "column_lineage": column_lineage,
    }
    if family == "gradual_drift":
        base["rows"] = 4000  # a slow fall is timed by a steady metric: more rows, less noise a day
    base.update(overrides)
    return IncidentSpec(**base)
