"""diagnose_app: an LLM app's verdict from input, retrieval and behaviour features, the index
pipeline's changes and the app's own version changes. Pure records; no stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mlobs_notebook.correlate import FeatureOnset, MetricDrop
from mlobs_notebook.diagnose import APP_CHANGE, VERDICTS, AppChange, UpstreamChange, diagnose_app

DAY = date(2026, 6, 16)
MIDNIGHT = datetime(2026, 6, 16, tzinfo=UTC)
ROLES = {"query.product": "input", "request_length": "input", "documents_retrieved": "retrieval",
         "context_length": "retrieval", "prompt_tokens": "app", "response_length": "app"}


def _onset(feature: str, when: date | None = DAY) -> FeatureOnset:
    return FeatureOnset(feature, when, 8 if when else 0, 24, 5.0 if when else 0.1, 4.0 if when else None,
                        "population_stability_index")


def _quiet(*drifted: FeatureOnset) -> list[FeatureOnset]:
    named = {o.feature for o in drifted}
    return [*drifted, *(_onset(f, None) for f in ROLES if f not in named)]


def _drop(when: date | None = DAY) -> MetricDrop:
    return MetricDrop("faithfulness", 0.96, 0.08, when, 0.6 if when else None, 0.55 if when else None, 24, "threshold")


def _release(hours: float = 6) -> AppChange:
    return AppChange(MIDNIGHT + timedelta(hours=hours), "assistant-v1 (m-1)", "assistant-v2 (m-2)",
                     ("prompt rag_answer: version 1 -> 2",), "--- prompt v1\n+++ prompt v2\n-only\n+background\n", "m-1", "m-2")


def _rebuild() -> UpstreamChange:
    return UpstreamChange("build_index", "run-7", MIDNIGHT + timedelta(hours=2), "job_definition",
                          "job definition changed (source_code)", 1, False)


def test_app_change_is_a_documented_verdict():
    assert APP_CHANGE in VERDICTS


def test_a_new_version_and_no_input_drift_is_an_app_change():
    d = diagnose_app(_quiet(_onset("prompt_tokens"), _onset("response_length")), _drop(), {}, [_release()], roles=ROLES)
    assert d.verdict == APP_CHANGE
    assert "No input or retrieval feature drifted before the drop (4 compared" in d.evidence[1]
    assert "assistant-v2 (m-2) replaced assistant-v1 (m-1) from 2026-06-16 06:00 UTC, in the window the drop began" in d.evidence[2]
    assert "prompt rag_answer: version 1 -> 2" in d.evidence[2]
    moved = [e for e in d.evidence if "moved with it" in e]
    assert len(moved) == 2 and all("not its input" in e for e in moved)
    assert d.recommendation.startswith("Roll back to assistant-v1 (m-1)")
    assert [o.feature for o in d.drifted] == ["prompt_tokens", "response_length"]


def test_a_version_days_before_the_drop_still_counts_within_the_lookback():
    d = diagnose_app(_quiet(), _drop(), {}, [_release(hours=-40)], roles=ROLES)
    assert d.verdict == APP_CHANGE and "40 hours before the drop's window" in d.evidence[2]


def test_a_version_long_before_the_drop_is_only_a_warning():
    d = diagnose_app(_quiet(), _drop(), {}, [_release(hours=-24 * 9)], roles=ROLES)
    assert d.verdict == "model_drift"
    assert any("assistant-v2 (m-2) replaced" in w for w in d.warnings)
    assert "LLM provider" in d.recommendation  # an app's advice, not "retrain"


def test_an_index_rebuild_behind_retrieval_drift_is_a_pipeline_bug_even_with_a_release():
    d = diagnose_app(_quiet(_onset("documents_retrieved"), _onset("context_length"), _onset("prompt_tokens")),
                     _drop(), {"documents_retrieved": [_rebuild()], "context_length": [_rebuild()]},
                     [_release()], roles=ROLES)
    assert d.verdict == "pipeline_bug" and [s.job for s in d.suspects] == ["build_index"]
    # the inputs first, then the app's behaviour: the panels open on the first drifted feature
    assert [o.feature for o in d.drifted] == ["documents_retrieved", "context_length", "prompt_tokens"]
    assert any("assistant-v2 (m-2) replaced" in w for w in d.warnings)
    assert "rebuild what it wrote" in d.recommendation and "retrain" not in d.recommendation


def test_input_drift_and_a_release_together_stay_data_drift_and_say_so():
    d = diagnose_app(_quiet(_onset("query.product")), _drop(), {}, [_release()], roles=ROLES)
    assert d.verdict == "data_drift"
    assert any("query.product describes the requests themselves" in e for e in d.evidence)
    assert any("cannot be told apart from the input drift" in e for e in d.evidence)
    assert not any(e.startswith("No upstream run of") for e in d.evidence)
    assert "add documents on the new topics" in d.recommendation


@pytest.mark.parametrize("searched, words", [(True, "No run of the index pipeline changed"),
                                             (False, "cannot be ruled out")])
def test_unexplained_retrieval_drift_says_what_was_searched(searched, words):
    d = diagnose_app(_quiet(_onset("documents_retrieved")), _drop(), {"documents_retrieved": []}, [],
                     roles=ROLES, lineage_searched=searched)
    assert d.verdict == "data_drift" and any(words in e for e in d.evidence)


def test_behaviour_drift_alone_never_counts_as_input_drift():
    d = diagnose_app(_quiet(_onset("prompt_tokens")), _drop(), {}, [], roles=ROLES)
    assert d.verdict == "model_drift"


def test_no_drop_is_healthy_and_names_the_release():
    d = diagnose_app(_quiet(_onset("query.product")), _drop(None), {}, [_release()], roles=ROLES)
    assert d.verdict == "healthy"
    assert any("query.product drifted" in w for w in d.warnings) and any("replaced" in w for w in d.warnings)


def test_app_change_to_dict_round_trips_its_fields():
    c = _release()
    assert c.to_dict() == {"at": "2026-06-16T06:00:00+00:00", "before": c.before, "after": c.after,
                           "before_id": "m-1", "after_id": "m-2", "changes": list(c.changes), "diff": c.diff}
    naive = AppChange(datetime(2026, 6, 16, 6), "a", "b", ())
    assert naive.at.tzinfo is not None and naive.what == "no recorded parameter or prompt differs"
