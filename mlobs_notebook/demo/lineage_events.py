"""The demo scheduler's OpenLineage events, built and written with the openlineage-python client.

Each day runs two DAGs (billing, then churn features); each task run emits START and COMPLETE
(or FAIL) with its parent DAG run, nominal time, SQL, and on its output the schema, the column
lineage, the symlink to the catalog table and the row count. Run ids are UUIDv7 built from the
event time and the seed, so the same seed writes the same bytes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from mlobs_notebook.demo.features import Timeline
from mlobs_notebook.demo.pipeline import JOB_NAMESPACE, DatasetSpec, Knobs, TaskSpec, tasks

PRODUCER = "https://github.com/mlobs/mlobs_notebook/tree/0.1.0/mlobs_notebook/demo"
NOMINAL_HOUR = 1  # both DAGs are scheduled at 01:00 UTC


def _uuid7(moment: datetime, rng: np.random.Generator) -> str:
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    rand_a = int(rng.integers(0, 1 << 12))
    rand_b = int(rng.integers(0, 1 << 62, dtype=np.int64))
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def failure_day(timeline: Timeline) -> int:
    """A day far from any incident on which billing ingestion fails once and is retried."""
    return timeline.training_day + 5


def knobs(day: int, timeline: Timeline, scenario: str) -> Knobs:
    """The pipeline as the scenario has it on ``day`` (the healthy pipeline before the incident)."""
    d = timeline.incident_day
    if d is None:
        return Knobs()
    after = day >= d
    if scenario == "pipeline_bug":
        return Knobs(sessionize_window=1 if after else 7, billing_rounds=day >= d - 1)
    if scenario == "unrelated_change":
        return Knobs(billing_rounds=after)
    turns = {
        "join_bug": Knobs(tickets_key="account_id"),
        "unit_change": Knobs(sessions_times_100=True),
        "null_flood": Knobs(sessions_column="sessions_7d"),
        "stale_data": Knobs(sessions_ingest_fails=True),
        "segment_break": Knobs(paying_users_only=True),
        "cosmetic_change": Knobs(features_reformatted=True),
    }
    return turns.get(scenario, Knobs()) if after else Knobs()


class _EventBuilder:
    def __init__(self) -> None:
        from openlineage.client import event_v2, facet_v2

        self.ev = event_v2
        self.f = facet_v2

    def _dataset_facets(self, spec: DatasetSpec, with_schema: bool) -> dict:
        f = self.f
        facets: dict = {}
        if with_schema:
            facets["schema"] = f.schema_dataset.SchemaDatasetFacet(
                fields=[f.schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in spec.fields]
            )
        if spec.table:
            facets["symlinks"] = f.symlinks_dataset.SymlinksDatasetFacet(
                identifiers=[
                    f.symlinks_dataset.Identifier(
                        namespace="iceberg://mlobs_demo", name=spec.table, type="TABLE"
                    )
                ]
            )
        return facets

    def _column_lineage(self, task: TaskSpec):
        cl = self.f.column_lineage_dataset
        fields = {}
        for column, sources in task.columns.items():
            fields[column] = cl.Fields(
                inputFields=[
                    cl.InputField(
                        namespace=s.dataset.namespace,
                        name=s.dataset.name,
                        field=s.field,
                        transformations=[
                            cl.Transformation(type=s.kind, subtype=s.subtype, description=s.description)
                        ],
                    )
                    for s in sources
                ]
            )
        return cl.ColumnLineageDatasetFacet(fields=fields)

    def run_event(
        self,
        state: str,
        when: datetime,
        run_id: str,
        job: str,
        *,
        nominal: datetime,
        parent: tuple[str, str] | None = None,
        task: TaskSpec | None = None,
        rows: int | None = None,
        error: str | None = None,
    ):
        ev, f = self.ev, self.f
        run_facets: dict = {
            "nominalTime": f.nominal_time_run.NominalTimeRunFacet(nominalStartTime=_iso(nominal))
        }
        if parent is not None:
            parent_job, parent_run = parent
            run_facets["parent"] = f.parent_run.ParentRunFacet(
                run=f.parent_run.Run(runId=parent_run),
                job=f.parent_run.Job(namespace=JOB_NAMESPACE, name=parent_job),
                root=f.parent_run.Root(
                    run=f.parent_run.RootRun(runId=parent_run),
                    job=f.parent_run.RootJob(namespace=JOB_NAMESPACE, name=parent_job),
                ),
            )
        if error is not None:
            run_facets["errorMessage"] = f.error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python"
            )
        job_facets: dict = {
            "jobType": f.job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="AIRFLOW", jobType="TASK" if task else "DAG"
            )
        }
        inputs, outputs = [], []
        if task is not None:
            job_facets["sql"] = f.sql_job.SQLJobFacet(query=task.sql, dialect="trino")
            inputs = [
                ev.InputDataset(namespace=d.namespace, name=d.name, facets=self._dataset_facets(d, True))
                for d in task.inputs
            ]
            if state == "COMPLETE":
                out = task.output
                facets = self._dataset_facets(out, True)
                facets["columnLineage"] = self._column_lineage(task)
                outputs = [
                    ev.OutputDataset(
                        namespace=out.namespace,
                        name=out.name,
                        facets=facets,
                        outputFacets={
                            "outputStatistics": f.output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                                rowCount=rows
                            )
                        },
                    )
                ]
        return ev.RunEvent(
            eventType=getattr(ev.RunState, state),
            eventTime=_iso(when),
            run=ev.Run(runId=run_id, facets=run_facets),
            job=ev.Job(namespace=JOB_NAMESPACE, name=job, facets=job_facets),
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs,
        )


def day_events(seed: int, day: int, timeline: Timeline, scenario: str) -> list:
    """Every event of one simulated day, in time order."""
    rng = np.random.default_rng([seed, day, 7_001])
    builder = _EventBuilder()
    nominal = timeline.midnight(day) + timedelta(hours=NOMINAL_HOUR)
    turned = knobs(day, timeline, scenario)
    events = []
    by_dag: dict[str, list[TaskSpec]] = {}
    for task in tasks(turned):
        by_dag.setdefault(task.dag, []).append(task)

    for dag, dag_tasks in by_dag.items():
        dag_start = nominal + timedelta(minutes=dag_tasks[0].start_minute)
        dag_run = _uuid7(dag_start, rng)
        events.append(builder.run_event("START", dag_start, dag_run, dag, nominal=nominal))
        delay = timedelta(0)
        for task in dag_tasks:
            start = nominal + timedelta(minutes=task.start_minute) + delay
            rows = int(task.rows * rng.normal(1.0, 0.02))
            common: dict[str, Any] = {"nominal": nominal, "parent": (dag, dag_run), "task": task}
            if task.job == "billing_daily.ingest_invoices" and day == failure_day(timeline):
                failed = _uuid7(start, rng)
                events.append(builder.run_event("START", start, failed, task.job, **common))
                events.append(
                    builder.run_event(
                        "FAIL", start + timedelta(minutes=2), failed, task.job,
                        error="psycopg2.OperationalError: could not connect to server: Connection timed out "
                        "(billing-db:5432)", **common,
                    )
                )
                delay = timedelta(minutes=10)  # the retry runs after the scheduler's back-off
                start = start + delay
            run_id = _uuid7(start, rng)
            end = start + timedelta(minutes=task.minutes)
            events.append(builder.run_event("START", start, run_id, task.job, **common))
            if turned.sessions_ingest_fails and task.job == "churn_features_daily.ingest_raw_sessions":
                events.append(builder.run_event(
                    "FAIL", end, run_id, task.job, error="FATAL: password authentication failed for user "
                    "\"etl_reader\" (app-db:5432)", **common,
                ))
                continue
            events.append(builder.run_event("COMPLETE", end, run_id, task.job, rows=rows, **common))
        dag_end = nominal + timedelta(minutes=dag_tasks[-1].start_minute + dag_tasks[-1].minutes + 1) + delay
        events.append(builder.run_event("COMPLETE", dag_end, dag_run, dag, nominal=nominal))
    events.sort(key=lambda e: e.eventTime)
    return events


def write_events(path: Path, seed: int, timeline: Timeline, scenario: str) -> int:
    """Write every day's events through the client's file transport (append, one per line)."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport

    path.parent.mkdir(parents=True, exist_ok=True)
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    count = 0
    for day in range(timeline.days):
        for event in day_events(seed, day, timeline, scenario):
            client.emit(event)
            count += 1
    return count
