"""The demo worlds' scenarios: what each one changes, when, and the verdict it should earn.

Two worlds: ``churn`` (a tabular churn model, its Iceberg feature table and pipelines) and
``rag_assistant`` (an LLM support assistant's MLflow traces, assessments and index pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlobs_notebook.errors import UnknownScenario


@dataclass(frozen=True)
class Scenario:
    """A demo story: what changes, when, and what an investigation should find.

    ``incident``: whether something happens on day D (a healthy verdict can still follow one,
    e.g. a drift that does not hurt); ``slice``: the slice that carries the drift, when one does.
    """

    name: str
    expected_verdict: str
    drifted_features: tuple[str, ...]
    suspect_job: str | None
    story: str
    incident: bool = True
    slice: str | None = None
    world: str = "churn"
    metric: str | None = None  # the rag_assistant's quality metric the scenario hurts


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="pipeline_bug",
            expected_verdict="pipeline_bug",
            drifted_features=("user_session_count_7d",),
            suspect_job="churn_features_daily.sessionize",
            story=(
                "On day D the sessionize job's SQL narrows the session window from 7 days to 1 day, "
                "so user_session_count_7d roughly halves (4.3 -> 2.1 on average). AUC falls from "
                "about D+3 as the delayed labels arrive. The billing job also ships a rounding "
                "change near D, but it feeds only monthly_spend and plan, which do not drift."
            ),
        ),
        Scenario(
            name="data_drift",
            expected_verdict="data_drift",
            drifted_features=("tenure_days",),
            suspect_job=None,
            story=(
                "From day D a partner promotion brings a growing cohort of brand-new users "
                "(tenure under 30 days, half of all users within a week) whose churn the "
                "features do not explain. tenure_days shifts; no pipeline changes."
            ),
        ),
        Scenario(
            name="model_drift",
            expected_verdict="model_drift",
            drifted_features=(),
            suspect_job=None,
            story=(
                "From day D a competitor's price cut makes churn depend on monthly spend instead of "
                "activity. Every feature keeps its distribution; only the relation to churn moves."
            ),
        ),
        Scenario(
            name="healthy",
            expected_verdict="healthy",
            drifted_features=(),
            suspect_job=None,
            story="Nothing changes: features, pipelines and the model's AUC stay put.",
            incident=False,
        ),
        Scenario(
            name="join_bug",
            expected_verdict="pipeline_bug",
            drifted_features=(),
            suspect_job="churn_features_daily.build_features",
            story=(
                "On day D build_features joins support tickets on the account id instead of the user "
                "id: every user gets another user's ticket count. The counts' distribution is "
                "unchanged and correlates with no other feature, so no drift shows, alone or "
                "jointly; AUC falls once the labels arrive, and only the timing and the SQL change "
                "(a new join key) point at the job."
            ),
        ),
        Scenario(
            name="unit_change",
            expected_verdict="pipeline_bug",
            drifted_features=("user_session_count_7d",),
            suspect_job="churn_features_daily.sessionize",
            story="On day D sessionize multiplies the session count by 100 (a change meant for a percentage dashboard).",
        ),
        Scenario(
            name="null_flood",
            expected_verdict="pipeline_bug",
            drifted_features=("user_session_count_7d",),
            suspect_job="churn_features_daily.sessionize",
            story=(
                "On day D sessionize renames its output column session_count_7d to sessions_7d; "
                "build_features still reads the old name and writes nulls. The schema change of "
                "analytics.user_sessions names the run."
            ),
        ),
        Scenario(
            name="stale_data",
            expected_verdict="pipeline_bug",
            drifted_features=("user_session_count_7d", "user_recency_days"),
            suspect_job="churn_features_daily.ingest_raw_sessions",
            story=(
                "From day D ingest_raw_sessions fails every day (expired database credentials); the "
                "other jobs carry on over stale sessions, so the 7-day session count decays a day at "
                "a time and recency grows. The drift shows days after the first failure, which is "
                "the run to name."
            ),
        ),
        Scenario(
            name="segment_break",
            expected_verdict="pipeline_bug",
            drifted_features=("user_session_count_7d",),
            suspect_job="churn_features_daily.sessionize",
            story=(
                "On day D sessionize joins the invoices and keeps paying users only (a filter meant "
                "for a revenue report): free users' session counts fall to zero. The slice "
                "plan = 'free' carries the whole drift."
            ),
            slice="plan = 'free'",
        ),
        Scenario(
            name="gradual_drift",
            expected_verdict="data_drift",
            drifted_features=("monthly_spend",),
            suspect_job=None,
            story=(
                "From day D prices inflate 1.5% a day and paying users start to leave as their bill "
                "grows; monthly_spend drifts slowly, no pipeline changes."
            ),
        ),
        Scenario(
            name="weekly_seasonality",
            expected_verdict="healthy",
            drifted_features=(),
            suspect_job=None,
            story=(
                "Users are 70% more active at weekends, in the training data as after it. Nothing "
                "happens: no weekend may read as an onset."
            ),
            incident=False,
        ),
        Scenario(
            name="drift_without_impact",
            expected_verdict="healthy",
            drifted_features=("monthly_spend",),
            suspect_job=None,
            story="On day D prices rise 30%; monthly_spend drifts, but churn does not move: a warning, not an incident.",
        ),
        Scenario(
            name="cosmetic_change",
            expected_verdict="model_drift",
            drifted_features=(),
            suspect_job=None,
            story=(
                "On day D build_features' SQL is laid out anew with comments (same logic), the day a "
                "competitor's price cut changes who churns (as in model_drift). The reformatting is "
                "not a cause."
            ),
        ),
        Scenario(
            name="unrelated_change",
            expected_verdict="data_drift",
            drifted_features=("tenure_days",),
            suspect_job=None,
            story=(
                "A partner cohort of new users grows from day D (as in data_drift), and the same day "
                "aggregate_billing starts rounding spend: column lineage ties that change only to "
                "monthly_spend and plan, which do not drift."
            ),
        ),
        Scenario(
            name="rag_index_bug",
            expected_verdict="pipeline_bug",
            drifted_features=("documents_retrieved", "context_length"),
            suspect_job="build_index",
            world="rag_assistant",
            metric="faithfulness",
            story=(
                "On day D the nightly build_index job switches from two-sentence chunks to "
                "six-word windows. The retriever now returns more, shorter fragments: "
                "documents_retrieved rises, context_length falls, and the assistant pads the "
                "fragments with claims of its own, so faithfulness falls from about 0.95 to 0.6."
            ),
        ),
        Scenario(
            name="rag_topic_shift",
            expected_verdict="data_drift",
            drifted_features=("query.product",),
            suspect_job=None,
            world="rag_assistant",
            metric="relevance",
            story=(
                "On day D Acme launches Acme Vault; within five days 45% of the questions are "
                "about it. The documents do not cover it, so the assistant declines and "
                "relevance falls. The router's query.product drifts; no pipeline or app changes."
            ),
        ),
        Scenario(
            name="rag_prompt_change",
            expected_verdict="app_change",
            drifted_features=(),
            suspect_job=None,
            world="rag_assistant",
            metric="faithfulness",
            story=(
                "On day D version v2 of the app ships prompt rag_answer version 2, which asks "
                "for helpful background: the model adds claims the documents do not hold and "
                "faithfulness falls. No input or retrieval feature moves; only the app changed."
            ),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise UnknownScenario(f"unknown scenario {name!r}. Known scenarios: {known}.") from None
