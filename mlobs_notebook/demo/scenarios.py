"""The demo worlds' scenarios: what each one changes, when, and the verdict it should earn.

Two worlds: ``churn`` (a tabular churn model, its Iceberg feature table and pipelines) and
``rag_assistant`` (an LLM support assistant's MLflow traces, assessments and index pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlobs_notebook.errors import UnknownScenario


@dataclass(frozen=True)
class Scenario:
    name: str
    expected_verdict: str
    drifted_features: tuple[str, ...]
    suspect_job: str | None
    story: str
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
