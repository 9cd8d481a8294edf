"""The rag_assistant demo world: the pure generators change what each scenario says and nothing
else, and the built worlds hold real MLflow traces, assessments, app versions, prompts, an
mlflow.genai.evaluate run and OpenLineage events that validate against the spec."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from conftest import RAG_DAYS, RAG_TRACES_PER_DAY, shared_path
from ol_spec import validation_errors

from mlobs_notebook.demo import get_scenario, load_manifest
from mlobs_notebook.demo.rag import corpus
from mlobs_notebook.demo.rag.lineage import index_source
from mlobs_notebook.demo.rag.world import _traffic, incident_day
from mlobs_notebook.errors import InputError

GOOD = corpus.chunk_documents("/docs", sentences=2)
BAD = corpus.chunk_documents("/docs", words_per_chunk=6)


def _answer(question: str, chunks, prompt: int = 1) -> tuple[str, list[str]]:
    context = [c.text for c, _ in corpus.retrieve(question, chunks)]
    return corpus.generate(corpus.render_prompt(corpus.PROMPTS[prompt], question, context), question, context), context


def _mean(metric, chunks, prompt: int = 1, questions=corpus.QUESTIONS) -> float:
    values = []
    for q in questions:
        answer, context = _answer(q.text, chunks, prompt)
        values.append(corpus.faithfulness(answer, context) if metric == "faithfulness" else corpus.relevance(q.text, answer))
    return statistics.mean(values)


def test_the_stories_hold_on_the_pure_app():
    """The grounded app is faithful; six-word chunks and the background prompt each make it invent
    claims; questions on a product the documents do not cover get no relevant answer."""
    assert _mean("faithfulness", GOOD) > 0.9
    assert _mean("faithfulness", BAD) < 0.7
    assert _mean("faithfulness", GOOD, prompt=2) < 0.7
    assert _mean("relevance", GOOD, prompt=2) == pytest.approx(_mean("relevance", GOOD), abs=0.05)
    assert _mean("relevance", GOOD, questions=corpus.NEW_PRODUCT_QUESTIONS) < 0.1
    assert {corpus.route(q.text) for q in corpus.NEW_PRODUCT_QUESTIONS} == {"vault"}
    assert all(corpus.route(q.text) == q.product for q in corpus.QUESTIONS)


def test_the_invented_sentences_are_not_in_the_documents():
    text = " ".join(t for topics in corpus.DOCS.values() for t in topics.values())
    answer, context = _answer(corpus.QUESTIONS[1].text, GOOD, prompt=2)
    added = answer.split(". ")[-1]
    assert added.rstrip(".") not in text and corpus.faithfulness(answer, context) < 1


def test_traffic_differs_between_scenarios_only_in_the_new_product_after_the_launch():
    incident = incident_day(RAG_DAYS)
    for day in (0, incident - 1, incident, RAG_DAYS - 1):
        base = list(_traffic(7, day, "rag_index_bug", incident, 40))
        assert base == list(_traffic(7, day, "rag_prompt_change", incident, 40))
        shift = list(_traffic(7, day, "rag_topic_shift", incident, 40))
        assert [t for _, t in shift] == [t for _, t in base]  # same request times
        new = [q for q, _ in shift if corpus.route(q) == "vault"]
        assert (len(new) > 0) == (day >= incident)
        assert all(a == b for (a, _), (b, _) in zip(base, shift, strict=True) if corpus.route(b) != "vault")
    assert list(_traffic(7, 3, "rag_index_bug", incident, 40)) != list(_traffic(8, 3, "rag_index_bug", incident, 40))


def test_the_rag_scenarios_are_registered():
    for name, verdict in (("rag_index_bug", "pipeline_bug"), ("rag_topic_shift", "data_drift"),
                          ("rag_prompt_change", "app_change")):
        spec = get_scenario(name)
        assert (spec.world, spec.expected_verdict) == ("rag_assistant", verdict) and spec.metric


@pytest.fixture(scope="module")
def client(rag_worlds):
    from mlflow import MlflowClient

    world = rag_worlds[1]["rag_prompt_change"]
    return MlflowClient(world.tracking_uri, registry_uri=world.tracking_uri), world


def test_the_world_holds_its_traces_versions_prompts_and_acceptance_run(client):
    c, world = client
    assert load_manifest(world.path) == world
    assert world.traces == RAG_DAYS * RAG_TRACES_PER_DAY
    run = c.get_run(world.acceptance_run_id)
    assert run.data.tags["mlflow.runType"] == "genai_evaluate"  # mlflow.genai.evaluate made it
    assert run.data.metrics["faithfulness/mean"] > 0.9
    v1, v2 = (c.get_logged_model(v["model_id"]) for v in world.app_versions)
    assert json.loads(v2.tags["mlflow.linkedPrompts"]) == [{"name": "rag_answer", "version": "2"}]
    assert c.get_prompt_version("rag_answer", 2).template == corpus.PROMPTS[2]
    assert (v1.params["prompt"], v2.params["prompt"]) == ("prompts:/rag_answer/1", "prompts:/rag_answer/2")


def test_lineage_events_validate_and_the_chunking_changes_on_the_incident_day(rag_worlds):
    spec = shared_path("openlineage-spec")
    for scenario, world in rag_worlds[1].items():
        builds = []
        for number, line in enumerate(Path(world.lineage_file).read_text().splitlines(), start=1):
            event = json.loads(line)
            errors = validation_errors(event, spec)
            assert not errors, f"{scenario} line {number}: {errors[:3]}"
            if event["job"]["name"] == "build_index" and event["eventType"] == "COMPLETE":
                builds.append((event["eventTime"][:10], event["job"]["facets"]["sourceCode"]["sourceCode"],
                               event["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"]))
        assert len(builds) == world.days
        buggy = [day for day, code, _ in builds if code == index_source(True)]
        if scenario == "rag_index_bug":
            assert buggy[0] == world.incident_date and len(buggy) == world.days - incident_day(world.days)
            assert {rows for day, _, rows in builds if day in buggy} == {len(BAD)}
        else:
            assert buggy == [] and {rows for _, _, rows in builds} == {len(GOOD)}


def test_a_churn_manifest_reader_refuses_a_rag_world(rag_worlds):
    from mlobs_notebook.demo import Manifest

    with pytest.raises(InputError, match="rag_assistant world"):
        Manifest.load(rag_worlds[1]["rag_topic_shift"].path)
