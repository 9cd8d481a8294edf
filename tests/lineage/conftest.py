"""A small churn-like pipeline written with the real openlineage-python client.

Days 0..13 at 02:00 UTC. On day 10 sessionize's SQL changes its window (7 -> 1 day) and
aggregate_billing's SQL changes its rounding; on day 9 ingest_invoices fails once and is retried;
on day 11 raw/sessions gets a tenth of its usual rows; on day 12 sessionize changes the type of
session_count_7d and adds a column. build_features declares column lineage; so do sessionize and
aggregate_billing. ingest_raw_sessions gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .olwriter import Writer

LAKE = "s3://churn-lake"
START = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
SESSIONS_SQL = (
    "SELECT user_id,\n"
    "       count(*) FILTER (WHERE ts > now() - INTERVAL '{days}' DAY) AS session_count_7d\n"
    "FROM raw.sessions\n"
    "GROUP BY user_id"
)
BILLING_SQL = "SELECT user_id, {spend} AS monthly_spend, plan\nFROM raw.invoices\nGROUP BY user_id, plan"


@dataclass(frozen=True)
class MiniWorld:
    path: Path
    change_day: datetime
    sessionize_change_run: str
    billing_change_run: str
    failed_run: str
    volume_run: str
    schema_run: str
    dag_runs: dict[int, str]


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def write_world(path: Path) -> MiniWorld:
    w = Writer(path, namespace="churn-airflow")
    runs: dict[str, str] = {}
    dag_runs = {}
    for d in range(14):
        t = day(d)
        dag = dag_runs[d] = w.run("churn_features_daily", t - timedelta(minutes=30))
        parent = ("churn_features_daily", dag)
        w.run("churn_features_daily.ingest_raw_sessions", t, inputs=[("postgres://app-db:5432", "app.public.events")],
              outputs=[(LAKE, "raw/sessions")], rows={"raw/sessions": 100 if d == 11 else 1000 + 7 * d}, parent=parent)
        if d == 11:
            runs["volume"] = list(_last_run_ids(path, "churn_features_daily.ingest_raw_sessions"))[-1]
        if d == 9:
            runs["failed"] = w.run("billing_daily.ingest_invoices", t, inputs=[("postgres://billing-db:5432", "billing.public.invoices")],
                                   outputs=[(LAKE, "raw/invoices")], fail="connection reset by peer")
        w.run("billing_daily.ingest_invoices", t + timedelta(minutes=10), inputs=[("postgres://billing-db:5432", "billing.public.invoices")],
              outputs=[(LAKE, "raw/invoices")])
        typ = "bigint" if d >= 12 else "int"
        cols = [("user_id", "string"), ("session_count_7d", typ)] + ([("avg_gap", "double")] if d >= 12 else [])
        rid = w.run(
            "churn_features_daily.sessionize", t + timedelta(hours=1), parent=parent,
            inputs=[(LAKE, "raw/sessions")], outputs=[(LAKE, "warehouse/analytics/user_sessions")],
            sql=SESSIONS_SQL.format(days=1 if d >= 10 else 7),
            schema={"warehouse/analytics/user_sessions": cols},
            symlinks={"warehouse/analytics/user_sessions": ("iceberg://mlobs_demo", "analytics.user_sessions")},
            lineage={"warehouse/analytics/user_sessions": {
                "user_id": [(LAKE, "raw/sessions", "user_id")],
                "session_count_7d": [(LAKE, "raw/sessions", "ts"), (LAKE, "raw/sessions", "session_id")],
            }},
        )  # fmt: skip
        if d == 10:
            runs["sessionize"] = rid
        if d == 12:
            runs["schema"] = rid
        rid = w.run(
            "billing_daily.aggregate_billing", t + timedelta(hours=1, minutes=5),
            inputs=[(LAKE, "raw/invoices")], outputs=[(LAKE, "warehouse/analytics/user_billing_summary")],
            sql=BILLING_SQL.format(spend="round(sum(amount), 0)" if d >= 10 else "round(sum(amount), 2)"),
            schema={"warehouse/analytics/user_billing_summary": [("user_id", "string"), ("monthly_spend", "double"), ("plan", "string")]},
            lineage={"warehouse/analytics/user_billing_summary": {
                "user_id": [(LAKE, "raw/invoices", "user_id")],
                "monthly_spend": [(LAKE, "raw/invoices", "amount")],
                "plan": [(LAKE, "raw/invoices", "plan")],
            }},
        )  # fmt: skip
        if d == 10:
            runs["billing"] = rid
        w.run(
            "churn_features_daily.build_features", t + timedelta(hours=2), parent=parent,
            inputs=[(LAKE, "warehouse/analytics/user_sessions"), (LAKE, "warehouse/analytics/user_billing_summary")],
            outputs=[(LAKE, "warehouse/features/user_activity_features")],
            sql="SELECT s.user_id, s.session_count_7d AS user_session_count_7d, b.monthly_spend, b.plan\n"
                "FROM user_sessions s JOIN user_billing_summary b USING (user_id)",
            schema={"warehouse/features/user_activity_features": [
                ("user_id", "string"), ("user_session_count_7d", "bigint"), ("monthly_spend", "double"), ("plan", "string")]},
            symlinks={"warehouse/features/user_activity_features": ("iceberg://mlobs_demo", "features.user_activity_features")},
            lineage={"warehouse/features/user_activity_features": {
                "user_id": [(LAKE, "warehouse/analytics/user_sessions", "user_id")],
                "user_session_count_7d": [(LAKE, "warehouse/analytics/user_sessions", "session_count_7d")],
                "monthly_spend": [(LAKE, "warehouse/analytics/user_billing_summary", "monthly_spend")],
                "plan": [(LAKE, "warehouse/analytics/user_billing_summary", "plan")],
            }},
        )  # fmt: skip
        w.run("churn_features_daily.cleanup_tmp", t + timedelta(hours=3), parent=parent,
              outputs=[(LAKE, "tmp/staging")], drop=("tmp/staging",))
    return MiniWorld(path, day(10), runs["sessionize"], runs["billing"], runs["failed"], runs["volume"],
                     runs["schema"], dag_runs)  # fmt: skip


def _last_run_ids(path: Path, job: str):
    import json

    for line in path.read_text().splitlines():
        ev = json.loads(line)
        if ev["job"]["name"] == job and ev["eventType"] == "COMPLETE":
            yield ev["run"]["runId"]


@pytest.fixture(scope="session")
def mini_world(tmp_path_factory: pytest.TempPathFactory) -> MiniWorld:
    path = tmp_path_factory.mktemp("lineage") / "events.jsonl"
    return write_world(path)


def corpus_dir() -> Path:
    """The shared OpenLineage corpus, next to the repository (../shared/openlineage-corpus)."""
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "openlineage-corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if not path.is_dir():
        pytest.skip(f"the OpenLineage corpus is not at {path.resolve()} (it lives in ../shared next to the repo)")
    return path.resolve()
