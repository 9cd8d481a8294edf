"""The demo's scheduler, described as data: its DAGs, tasks, datasets, columns and SQL.

Pure: no OpenLineage client here, only the plan of what ran when and what it read and wrote.
``demo.lineage_events`` turns the plan into events with the openlineage-python client.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

JOB_NAMESPACE = "churn-airflow"
LAKE = "s3://churn-lake"
APP_DB = "postgres://app-db:5432"
CRM_DB = "postgres://crm-db:5432"
BILLING_DB = "postgres://billing-db:5432"
CATALOG_NAMESPACE = "iceberg://mlobs_demo"


@dataclass(frozen=True)
class DatasetSpec:
    namespace: str
    name: str
    fields: tuple[tuple[str, str], ...]
    table: str | None = None  # the catalog name, recorded as a symlink

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass(frozen=True)
class ColumnSource:
    dataset: DatasetSpec
    field: str
    kind: str  # DIRECT or INDIRECT
    subtype: str  # IDENTITY, TRANSFORMATION, AGGREGATION
    description: str = ""


@dataclass(frozen=True)
class TaskSpec:
    dag: str
    task: str
    inputs: tuple[DatasetSpec, ...]
    output: DatasetSpec
    sql: str
    start_minute: int  # minutes after the DAG's nominal start
    minutes: int
    columns: dict[str, tuple[ColumnSource, ...]] = field(default_factory=dict)
    rows: int = 0  # the output's usual row count

    @property
    def job(self) -> str:
        return f"{self.dag}.{self.task}"


APP_EVENTS = DatasetSpec(
    APP_DB, "app.public.events",
    (("event_id", "BIGINT"), ("user_id", "BIGINT"), ("event_type", "VARCHAR"), ("occurred_at", "TIMESTAMP")),
)
APP_USERS = DatasetSpec(
    APP_DB, "app.public.users",
    (("user_id", "BIGINT"), ("created_at", "TIMESTAMP"), ("cancelled_at", "TIMESTAMP")),
)
SUPPORT_TICKETS = DatasetSpec(
    CRM_DB, "crm.public.support_tickets",
    (("ticket_id", "BIGINT"), ("user_id", "BIGINT"), ("opened_at", "TIMESTAMP")),
)
INVOICES = DatasetSpec(
    BILLING_DB, "billing.public.invoices",
    (("invoice_id", "BIGINT"), ("user_id", "BIGINT"), ("amount", "DECIMAL(10,2)"), ("plan_code", "VARCHAR"), ("issued_at", "TIMESTAMP")),
)
RAW_SESSIONS = DatasetSpec(
    LAKE, "raw/sessions",
    (("session_id", "STRING"), ("user_id", "BIGINT"), ("started_at", "TIMESTAMP"), ("ended_at", "TIMESTAMP")),
)
RAW_INVOICES = DatasetSpec(
    LAKE, "raw/invoices",
    (("invoice_id", "BIGINT"), ("user_id", "BIGINT"), ("amount", "DECIMAL(10,2)"), ("plan_code", "STRING"), ("issued_at", "TIMESTAMP")),
)
USER_SESSIONS = DatasetSpec(
    LAKE, "warehouse/analytics/user_sessions",
    (("user_id", "BIGINT"), ("session_count_7d", "INT"), ("last_session_at", "TIMESTAMP")),
    table="analytics.user_sessions",
)
BILLING_SUMMARY = DatasetSpec(
    LAKE, "warehouse/analytics/user_billing_summary",
    (("user_id", "BIGINT"), ("monthly_spend", "DOUBLE"), ("plan", "STRING")),
    table="analytics.user_billing_summary",
)
FEATURE_TABLE = DatasetSpec(
    LAKE, "warehouse/features/user_activity_features",
    (
        ("user_id", "BIGINT"), ("feature_timestamp", "TIMESTAMP"), ("user_session_count_7d", "BIGINT"),
        ("user_recency_days", "DOUBLE"), ("tenure_days", "BIGINT"), ("support_tickets_30d", "BIGINT"),
        ("monthly_spend", "DOUBLE"), ("plan", "STRING"), ("is_churned", "BOOLEAN"),
    ),
    table="features.user_activity_features",
)
TRAINING_FEATURES = DatasetSpec(LAKE, "training/churn_features", FEATURE_TABLE.fields)

SESSIONIZE_SQL = """INSERT OVERWRITE analytics.user_sessions
SELECT user_id,
       COUNT(DISTINCT session_id) AS session_count_7d,
       MAX(started_at) AS last_session_at
FROM raw.sessions
WHERE started_at >= TIMESTAMP '{{ ds }}' - INTERVAL '{window}' DAY
GROUP BY user_id"""

BILLING_SQL = """INSERT OVERWRITE analytics.user_billing_summary
SELECT user_id,
       {spend} AS monthly_spend,
       MAX_BY(plan_code, issued_at) AS plan
FROM raw.invoices
WHERE issued_at >= TIMESTAMP '{{ ds }}' - INTERVAL '30' DAY
GROUP BY user_id"""

FEATURES_SQL = """INSERT INTO features.user_activity_features
SELECT s.user_id,
       TIMESTAMP '{{ ts }}' AS feature_timestamp,
       s.session_count_7d AS user_session_count_7d,
       DATE_DIFF('day', s.last_session_at, TIMESTAMP '{{ ts }}') AS user_recency_days,
       DATE_DIFF('day', u.created_at, TIMESTAMP '{{ ts }}') AS tenure_days,
       COUNT(t.ticket_id) AS support_tickets_30d,
       b.monthly_spend,
       b.plan,
       u.cancelled_at IS NOT NULL AS is_churned
FROM analytics.user_sessions s
JOIN app.users u USING (user_id)
LEFT JOIN analytics.user_billing_summary b USING (user_id)
LEFT JOIN crm.support_tickets t
       ON t.user_id = s.user_id AND t.opened_at >= TIMESTAMP '{{ ts }}' - INTERVAL '30' DAY
GROUP BY 1, 2, 3, 4, 5, 7, 8, 9"""


def _direct(dataset: DatasetSpec, column: str, subtype: str = "IDENTITY", text: str = "") -> ColumnSource:
    return ColumnSource(dataset, column, "DIRECT", subtype, text)


@dataclass(frozen=True)
class Knobs:
    """What a scenario turns in the pipeline on a given day; the defaults are the healthy pipeline.

    ``sessionize_window``: days the session count covers; ``billing_rounds``: aggregate_billing
    rounds spend; ``sessions_times_100``: sessionize multiplies the count by 100 (a unit change);
    ``paying_users_only``: sessionize keeps only paying users' sessions (a filter that drops a
    segment); ``sessions_column``: the name sessionize writes the count under (a rename
    build_features does not follow); ``tickets_key``: the key build_features joins support
    tickets on (a wrong key shuffles the counts across users); ``features_reformatted``:
    build_features' SQL laid out anew with comments (a cosmetic change);
    ``sessions_ingest_fails``: ingest_raw_sessions fails (the sessions go stale).
    """

    sessionize_window: int = 7
    billing_rounds: bool = False
    sessions_times_100: bool = False
    paying_users_only: bool = False
    sessions_column: str = "session_count_7d"
    tickets_key: str = "user_id"
    features_reformatted: bool = False
    sessions_ingest_fails: bool = False


def _sessionize_sql(knobs: Knobs) -> str:
    sql = SESSIONIZE_SQL.replace("{window}", str(knobs.sessionize_window))
    if knobs.sessions_times_100:
        sql = sql.replace("COUNT(DISTINCT session_id) AS", "COUNT(DISTINCT session_id) * 100 AS")
    if knobs.sessions_column != "session_count_7d":
        sql = sql.replace("AS session_count_7d", f"AS {knobs.sessions_column}")
    if knobs.paying_users_only:
        sql = sql.replace(
            "FROM raw.sessions\n",
            "FROM raw.sessions\nJOIN raw.invoices USING (user_id)\n",
        ).replace("GROUP BY user_id", "  AND plan_code <> 'free'\nGROUP BY user_id")
    return sql


def _features_sql(knobs: Knobs) -> str:
    sql = FEATURES_SQL.replace("ON t.user_id = s.user_id", f"ON t.{knobs.tickets_key} = s.user_id")
    if knobs.features_reformatted:
        sql = (
            "-- churn features, one row per user and day (reformatted; logic unchanged)\n"
            + sql.replace("SELECT s.user_id,", "SELECT\n    s.user_id,").replace("\n       ", "\n    ")
            .replace("LEFT JOIN", "  LEFT JOIN").replace("GROUP BY", "GROUP BY  -- every column but the count\n   ")
        )
    return sql


def tasks(knobs: Knobs | None = None) -> tuple[TaskSpec, ...]:
    """The day's tasks, in the order they run, as ``knobs`` (the scenario's turns) have them."""
    knobs = knobs or Knobs()
    spend = "ROUND(SUM(amount), 2)" if knobs.billing_rounds else "SUM(amount)"
    sessions = replace(
        USER_SESSIONS,
        fields=tuple((knobs.sessions_column, t) if n == "session_count_7d" else (n, t) for n, t in USER_SESSIONS.fields),
    )
    return (
        TaskSpec(
            "billing_daily", "ingest_invoices", (INVOICES,), RAW_INVOICES,
            "COPY billing.public.invoices TO 's3://churn-lake/raw/invoices/{{ ds }}/' (FORMAT PARQUET)",
            start_minute=0, minutes=6,
            columns={c: (_direct(INVOICES, c),) for c, _ in RAW_INVOICES.fields},
            rows=6_000,
        ),
        TaskSpec(
            "billing_daily", "aggregate_billing", (RAW_INVOICES,), BILLING_SUMMARY,
            BILLING_SQL.replace("{spend}", spend), start_minute=8, minutes=7,
            columns={
                "user_id": (_direct(RAW_INVOICES, "user_id"),),
                "monthly_spend": (_direct(RAW_INVOICES, "amount", "AGGREGATION", "SUM over 30 days"),),
                "plan": (_direct(RAW_INVOICES, "plan_code", "AGGREGATION", "latest plan"),),
            },
            rows=4_000,
        ),
        TaskSpec(
            "churn_features_daily", "ingest_raw_sessions", (APP_EVENTS,), RAW_SESSIONS,
            "INSERT INTO raw.sessions SELECT session_id, user_id, MIN(occurred_at), MAX(occurred_at) "
            "FROM app.public.events WHERE occurred_at::date = '{{ ds }}' GROUP BY 1, 2",
            start_minute=60, minutes=6,
            columns={
                "session_id": (_direct(APP_EVENTS, "event_id", "AGGREGATION"),),
                "user_id": (_direct(APP_EVENTS, "user_id"),),
                "started_at": (_direct(APP_EVENTS, "occurred_at", "AGGREGATION", "MIN"),),
                "ended_at": (_direct(APP_EVENTS, "occurred_at", "AGGREGATION", "MAX"),),
            },
            rows=31_000,
        ),
        TaskSpec(
            "churn_features_daily", "sessionize",
            (RAW_SESSIONS, RAW_INVOICES) if knobs.paying_users_only else (RAW_SESSIONS,), sessions,
            _sessionize_sql(knobs), start_minute=67, minutes=9,
            columns={
                "user_id": (_direct(RAW_SESSIONS, "user_id"),),
                knobs.sessions_column: (_direct(RAW_SESSIONS, "session_id", "AGGREGATION", "COUNT DISTINCT in the window"),),
                "last_session_at": (_direct(RAW_SESSIONS, "started_at", "AGGREGATION", "MAX"),),
            },
            rows=4_000,
        ),
        TaskSpec(
            "churn_features_daily", "build_features",
            (USER_SESSIONS, BILLING_SUMMARY, APP_USERS, SUPPORT_TICKETS), FEATURE_TABLE,
            _features_sql(knobs), start_minute=77, minutes=12,
            columns={
                "user_id": (_direct(USER_SESSIONS, "user_id"),),
                "user_session_count_7d": (_direct(USER_SESSIONS, "session_count_7d"),),
                "user_recency_days": (_direct(USER_SESSIONS, "last_session_at", "TRANSFORMATION", "days since"),),
                "tenure_days": (_direct(APP_USERS, "created_at", "TRANSFORMATION", "days since"),),
                "support_tickets_30d": (_direct(SUPPORT_TICKETS, "ticket_id", "AGGREGATION", "COUNT over 30 days"),),
                "monthly_spend": (_direct(BILLING_SUMMARY, "monthly_spend"),),
                "plan": (_direct(BILLING_SUMMARY, "plan"),),
                "is_churned": (_direct(APP_USERS, "cancelled_at", "TRANSFORMATION", "IS NOT NULL"),),
            },
            rows=4_000,
        ),
        TaskSpec(
            "churn_features_daily", "snapshot_training_features", (FEATURE_TABLE,), TRAINING_FEATURES,
            "INSERT OVERWRITE training.churn_features SELECT * FROM features.user_activity_features",
            start_minute=90, minutes=4,
            columns={c: (_direct(FEATURE_TABLE, c),) for c, _ in FEATURE_TABLE.fields},
            rows=4_000,
        ),
    )
