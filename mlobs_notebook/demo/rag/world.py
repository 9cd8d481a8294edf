"""Build the rag_assistant world: its documents, the nightly index builds, the app's MLflow traces
with daily assessments, its LoggedModel versions and prompts, and the pipeline's OpenLineage events.

Called by :func:`mlobs_notebook.demo.build_world` for the ``rag_*`` scenarios, inside its
never-half-written guard. The timeline: day 0 .. ``days - 1`` of production traffic from
:data:`~mlobs_notebook.demo.features.DEFAULT_START`; the app version was accepted the day before
with an ``mlflow.genai.evaluate`` run over its own traces; the incident starts on
:func:`incident_day`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlobs_notebook.demo.features import DEFAULT_START
from mlobs_notebook.demo.rag import corpus
from mlobs_notebook.demo.rag.app import LLM_MODEL, RagAssistant, scorers
from mlobs_notebook.demo.rag.lineage import write_events
from mlobs_notebook.demo.scenarios import Scenario

__all__ = ["DEFAULT_DAYS", "DEFAULT_TRACES_PER_DAY", "RagManifest", "build_rag", "incident_day"]

DEFAULT_DAYS = 30
DEFAULT_TRACES_PER_DAY = 40
EXPERIMENT = "rag_assistant"
APP = "rag_assistant"
PROMPT = "rag_answer"
METRICS = ("faithfulness", "relevance")
SPAN_ATTRIBUTES = ("rag_assistant:query.product",)
ACCEPTANCE_QUESTIONS = 2  # each question twice in the acceptance evaluation
CHECKS = "rag_quality_checks@1"
NEW_PRODUCT_SHARE = 0.45  # of the questions, from RAMP_DAYS after the launch
RAMP_DAYS = 5
STORE_BYTES_PER_TRACE = 12_000  # a trace, its spans and assessments in the sqlite store (measured: ~9 KB)


@dataclass(frozen=True)
class RagManifest:
    """What a rag_assistant world holds and where; the same keys as its ``manifest.json``."""

    path: str
    scenario: str
    seed: int
    days: int
    traces_per_day: int
    start_date: str
    incident_date: str | None
    expected_verdict: str
    drifted_features: list[str]
    suspect_job: str | None
    story: str
    tracking_uri: str
    experiment: str
    experiment_id: str
    metric: str
    app_versions: list[dict[str, str]]
    acceptance_run_id: str
    span_attributes: list[str]
    lineage_file: str
    index_dataset: dict[str, str]
    docs_dir: str
    index_file: str
    traces: int
    world: str = "rag_assistant"
    build_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def incident_day(days: int) -> int:
    """The first day of the incident: after the 14 days that set the metric's reference level."""
    return max(15, round(days * 0.55))


def build_rag(out: Path, spec: Scenario, seed: int, days: int, traces_per_day: int) -> RagManifest:
    """Write the world into ``out`` (empty, existing) and return its manifest."""
    from mlobs_notebook.demo.mlflow_store import tracking

    started = time.perf_counter()
    timings: dict[str, float] = {}
    incident = incident_day(days)
    midnights = [_midnight(d) for d in range(days)]
    docs_dir, index_file = out / "rag" / "docs", out / "rag" / "index" / "chunks.jsonl"
    _write_docs(docs_dir)
    good = corpus.chunk_documents(str(docs_dir), sentences=2)
    bad = corpus.chunk_documents(str(docs_dir), words_per_chunk=6)
    buggy = [spec.name == "rag_index_bug" and d >= incident for d in range(days)]
    _write_index(index_file, bad if buggy[-1] else good)
    lineage_file = out / "lineage" / "events.jsonl"
    documents = sum(len(t) for t in corpus.DOCS.values())
    write_events(lineage_file, seed, midnights, docs_dir, index_file,
                 [len(bad if b else good) for b in buggy], buggy, documents)
    timings["documents_and_lineage"] = round(time.perf_counter() - started, 2)

    tracking_uri = f"sqlite:///{(out / 'mlflow.db').resolve()}"
    index_uri = index_file.resolve().as_uri()
    size = (days * traces_per_day + 100) * STORE_BYTES_PER_TRACE
    with _staged_store(out / "mlflow.db", size) as staged, _tracing_env(), tracking(staged):
        import mlflow

        t = time.perf_counter()
        experiment_id = mlflow.create_experiment(EXPERIMENT, artifact_location=(out / "artifacts").resolve().as_uri())
        mlflow.set_experiment(experiment_id=experiment_id)
        versions = [_app_version(mlflow, "v1", 1, "initial grounded prompt")]
        if spec.name == "rag_prompt_change":
            versions.append(_app_version(mlflow, "v2", 2, "friendlier answers with background"))
        timings["app_versions"] = round(time.perf_counter() - t, 2)

        t = time.perf_counter()
        acceptance = _acceptance_run(mlflow, experiment_id, versions[0], RagAssistant(good, corpus.PROMPTS[1], index_uri))
        timings["acceptance_evaluation"] = round(time.perf_counter() - t, 2)

        t = time.perf_counter()
        count = 0
        for day in range(days):
            version = versions[-1] if len(versions) > 1 and day >= incident else versions[0]
            app = RagAssistant(bad if buggy[day] else good, corpus.PROMPTS[version["prompt_version"]], index_uri)
            mlflow.set_active_model(model_id=version["model_id"])
            answers = [app.answer_at(q, at, (seed, day, j)) for j, (q, at) in enumerate(_traffic(seed, day, spec.name, incident, traces_per_day))]
            _log_feedback(mlflow, answers, seed)
            count += len(answers)
        mlflow.clear_active_model()
        timings["traces_and_assessments"] = round(time.perf_counter() - t, 2)

    return RagManifest(
        path=str(out), scenario=spec.name, seed=seed, days=days, traces_per_day=traces_per_day,
        start_date=DEFAULT_START.isoformat(),
        incident_date=(DEFAULT_START + timedelta(days=incident)).isoformat(),
        expected_verdict=spec.expected_verdict, drifted_features=list(spec.drifted_features),
        suspect_job=spec.suspect_job, story=spec.story, tracking_uri=tracking_uri, experiment=EXPERIMENT,
        experiment_id=str(experiment_id), metric=spec.metric or METRICS[0],
        app_versions=[{k: str(v) for k, v in version.items()} for version in versions],
        acceptance_run_id=acceptance, span_attributes=list(SPAN_ATTRIBUTES),
        lineage_file=str(lineage_file), index_dataset={"namespace": "file", "name": str(index_file.resolve())},
        docs_dir=str(docs_dir), index_file=str(index_file), traces=count,
        build_seconds=round(time.perf_counter() - started, 2), timings=timings,
    )


def _midnight(day: int) -> datetime:
    d = DEFAULT_START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def _write_docs(root: Path) -> None:
    for product, topics in corpus.DOCS.items():
        (root / product).mkdir(parents=True, exist_ok=True)
        for topic, text in topics.items():
            (root / product / f"{topic}.md").write_text(f"# {product} / {topic}\n\n{text}\n")


def _write_index(path: Path, chunks: list[corpus.Chunk]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(c)) + "\n" for c in chunks))


def _traffic(seed: int, day: int, scenario: str, incident: int, n: int) -> Iterator[tuple[str, int]]:
    """(question, start time in ns) of the day's requests, in time order, between 06:00 and 22:00."""
    share = 0.0
    if scenario == "rag_topic_shift" and day >= incident:
        share = NEW_PRODUCT_SHARE * min(1.0, (day - incident + 1) / RAMP_DAYS)
    base = _ns(_midnight(day) + timedelta(hours=6))
    span = 16 * 3600 * 1_000_000_000
    for j in range(n):
        if corpus.unit(seed, day, j, "new") < share:
            pool = corpus.NEW_PRODUCT_QUESTIONS
        else:
            pool = corpus.QUESTIONS
        question = pool[int(corpus.unit(seed, day, j, "q") * len(pool))].text
        yield question, base + (span * j) // n + int(corpus.unit(seed, day, j, "t") * span / n)


def _app_version(mlflow: Any, version: str, prompt_version: int, message: str) -> dict[str, Any]:
    """Register the prompt version and the app version as an external LoggedModel; loading the
    prompt with the model active links the two (the model's ``mlflow.linkedPrompts`` tag)."""
    prompt = mlflow.genai.register_prompt(PROMPT, template=corpus.PROMPTS[prompt_version], commit_message=message)
    model = mlflow.create_external_model(
        name=f"{APP}-{version}", model_type="agent",
        params={"llm": LLM_MODEL, "retriever.k": "6", "retriever.min_score": "0.25", "prompt": prompt.uri},
        tags={"app_version": version},
    )
    mlflow.set_active_model(model_id=model.model_id)
    mlflow.genai.load_prompt(prompt.uri)
    return {"name": model.name, "model_id": model.model_id, "version": version, "prompt_version": prompt.version}


def _acceptance_run(mlflow: Any, experiment_id: str, version: dict[str, Any], app: RagAssistant) -> str:
    """The evaluation run the first version was accepted with, the day before production: its
    traces (each question asked twice) scored by ``mlflow.genai.evaluate``."""
    client = mlflow.MlflowClient()
    day = _midnight(-1)
    run = client.create_run(
        experiment_id, start_time=int((day + timedelta(hours=10)).timestamp() * 1000),
        run_name=f"acceptance {version['name']}", tags={"purpose": "acceptance", "app_version": version["version"]},
    )
    mlflow.set_active_model(model_id=version["model_id"])
    questions = [q.text for q in corpus.QUESTIONS] * ACCEPTANCE_QUESTIONS
    with mlflow.start_run(run_id=run.info.run_id):
        start = _ns(day + timedelta(hours=10))
        for i, question in enumerate(questions):
            app.answer_at(question, start + i * 5_000_000_000, ("acceptance", i))
        traces = mlflow.search_traces(locations=[experiment_id], run_id=run.info.run_id)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            mlflow.genai.evaluate(data=traces, scorers=scorers())
    client.set_terminated(run.info.run_id, end_time=int((day + timedelta(hours=11)).timestamp() * 1000))
    return str(run.info.run_id)


def _log_feedback(mlflow: Any, answers: list[Any], seed: int) -> None:
    """The nightly quality job's feedback on each answered trace (code checks, an hour after the
    request), and the thumbs of the users who clicked one (about one in six)."""
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback

    checks = AssessmentSource(source_type=AssessmentSourceType.CODE, source_id=CHECKS)
    users = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="end_user")
    for a in answers:
        if a.answer is None:
            continue
        when = a.end_ns // 1_000_000 + 3_600_000
        faithful = corpus.faithfulness(a.answer, a.context)
        relevant = corpus.relevance(a.question, a.answer)
        for name, value in (("faithfulness", faithful), ("relevance", relevant)):
            mlflow.log_assessment(a.trace_id, Feedback(name=name, value=value, source=checks,
                                                       create_time_ms=when, last_update_time_ms=when))
        if corpus.unit(seed, a.end_ns, "clicked") < 1 / 6:
            happy = faithful >= 0.75 and relevant >= 0.5
            if corpus.unit(seed, a.end_ns, "mood") < 0.1:
                happy = not happy
            mlflow.log_assessment(a.trace_id, Feedback(name="thumbs_up", value=happy, source=users,
                                                       create_time_ms=when, last_update_time_ms=when))


@contextlib.contextmanager
def _staged_store(target: Path, size: int) -> Iterator[str]:
    """The URI of a fresh MLflow store to write, moved to ``target`` once written. It is staged in
    memory (``/dev/shm``) where there is one with room for twice ``size`` bytes: each span and
    assessment MLflow logs is a commit, and on disk each commit waits for its fsync. The store
    starts as a copy of an empty one whose schema migrations ran once per process (they take
    seconds)."""
    shm = Path("/dev/shm")
    roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * size
    stage = Path(tempfile.mkdtemp(prefix="mlobs-rag-", dir=shm if roomy else None))
    try:
        shutil.copyfile(_empty_store(), stage / "mlflow.db")
        yield f"sqlite:///{stage / 'mlflow.db'}"
        shutil.move(str(stage / "mlflow.db"), target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _empty_store() -> Path:
    from mlflow.tracking import MlflowClient

    folder = Path(tempfile.mkdtemp(prefix="mlobs-mlflow-empty-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments(max_results=1)  # runs the migrations
    return path


@contextlib.contextmanager
def _tracing_env() -> Iterator[None]:
    """Export every trace before the next one starts (the asynchronous queue drops traces when a
    replay outruns it), and never fetch a model price catalog over the network."""
    wanted = {"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false", "MLFLOW_MODEL_CATALOG_URI": ""}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

