"""Write real OpenLineage events with the openlineage-python client (FileTransport, append mode)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    lifecycle_state_change_dataset,
    output_statistics_output_dataset,
    parent_run,
    schema_dataset,
    sql_job,
    symlinks_dataset,
)
from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.uuid import generate_new_uuid

PRODUCER = "https://github.com/mlobs/mlobs_notebook/tests"


class Writer:
    """Emits START + terminal events for task runs, like an Airflow integration would."""

    def __init__(self, path: Path, namespace: str = "test-airflow") -> None:
        self.path = path
        self.namespace = namespace
        self.client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))

    def run(
        self,
        job: str,
        when: datetime,
        *,
        inputs: list[tuple[str, str]] = (),
        outputs: list[tuple[str, str]] = (),
        sql: str | None = None,
        schema: dict[str, list[tuple[str, str]]] | None = None,
        lineage: dict[str, dict[str, list[tuple[str, str, str]]]] | None = None,
        rows: dict[str, int] | None = None,
        symlinks: dict[str, tuple[str, str]] | None = None,
        drop: tuple[str, ...] = (),
        fail: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> str:
        """One run; returns its run id. ``lineage[out_name][out_field] = [(ns, name, field)]``."""
        run_id = str(generate_new_uuid())
        run_facets = {}
        if parent:
            run_facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=parent[1]), job=parent_run.Job(namespace=self.namespace, name=parent[0])
            )
        job_facets = {"sql": sql_job.SQLJobFacet(query=sql)} if sql else {}
        outs = []
        for ns, name in outputs:
            facets = {}
            if schema and name in schema:
                facets["schema"] = schema_dataset.SchemaDatasetFacet(
                    fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in schema[name]]
                )
            if lineage and name in lineage:
                facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
                    fields={
                        out_field: column_lineage_dataset.Fields(
                            inputFields=[
                                column_lineage_dataset.InputField(
                                    namespace=i_ns, name=i_name, field=i_field,
                                    transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="TRANSFORMATION")],
                                )
                                for i_ns, i_name, i_field in sources
                            ]
                        )
                        for out_field, sources in lineage[name].items()
                    }
                )
            if symlinks and name in symlinks:
                s_ns, s_name = symlinks[name]
                facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
                    identifiers=[symlinks_dataset.Identifier(namespace=s_ns, name=s_name, type="TABLE")]
                )
            if name in drop:
                facets["lifecycleStateChange"] = lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
                    lifecycleStateChange=lifecycle_state_change_dataset.LifecycleStateChange.DROP
                )
            output_facets = {}
            if rows and name in rows:
                output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                    rowCount=rows[name]
                )
            outs.append(OutputDataset(namespace=ns, name=name, facets=facets, outputFacets=output_facets))
        ins = [InputDataset(namespace=ns, name=name) for ns, name in inputs]
        job_obj = Job(namespace=self.namespace, name=job, facets=job_facets)
        # START carries no inputs or outputs, as many integrations send it
        self.client.emit(RunEvent(eventType=RunState.START, eventTime=when.isoformat(),
                                  run=Run(runId=run_id, facets=run_facets), job=job_obj, producer=PRODUCER))
        end_facets = dict(run_facets)
        if fail:
            end_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=fail, programmingLanguage="python")
        self.client.emit(RunEvent(
            eventType=RunState.FAIL if fail else RunState.COMPLETE,
            eventTime=(when + timedelta(minutes=5)).isoformat(),
            run=Run(runId=run_id, facets=end_facets), job=job_obj, inputs=ins, outputs=outs, producer=PRODUCER,
        ))
        return run_id
