"""The rag_assistant's documents pipeline as OpenLineage events (openlineage-python client).

Every night two jobs run: ``docs_sync`` copies the product documents from the CMS into the docs
folder, then ``build_index`` splits them into chunks and writes the retriever's index. Each run
emits START and COMPLETE; ``build_index`` carries its code in the ``sourceCode`` job facet (so a
change of chunking is a job definition change with a diff) and its output the index's schema and
row count (``outputStatistics``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from mlobs_notebook.demo.lineage_events import PRODUCER, _iso, _uuid7

__all__ = ["BUILD_INDEX", "JOB_NAMESPACE", "index_source", "write_events"]

JOB_NAMESPACE = "rag-pipelines"
BUILD_INDEX = "build_index"
DOCS_SYNC = "docs_sync"
CMS = ("https://cms.acme.example", "/api/v2/spaces/support/documents")

_GOOD = '''from acme_rag.chunking import SentenceWindowSplitter
from acme_rag.io import read_documents, write_jsonl

splitter = SentenceWindowSplitter(sentences=2, overlap=1)
chunks = [chunk for doc in read_documents(DOCS) for chunk in splitter.split(doc)]
write_jsonl(INDEX, chunks)
'''
_BUG = '''from acme_rag.chunking import TokenWindowSplitter
from acme_rag.io import read_documents, write_jsonl

splitter = TokenWindowSplitter(size=6, overlap=0)
chunks = [chunk for doc in read_documents(DOCS) for chunk in splitter.split(doc)]
write_jsonl(INDEX, chunks)
'''


def index_source(buggy: bool) -> str:
    """The index build's code as its ``sourceCode`` facet holds it."""
    return _BUG if buggy else _GOOD


def write_events(
    path: Path, seed: int, days: list[datetime], docs_dir: Path, index_file: Path,
    chunk_counts: list[int], buggy: list[bool], documents: int,
) -> int:
    """One day per ``days`` entry (its midnight): the two runs' START and COMPLETE events,
    appended to ``path`` through the client's file transport. Returns how many were written."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.file import FileConfig, FileTransport

    path.parent.mkdir(parents=True, exist_ok=True)
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=True)))
    count = 0
    for i, midnight in enumerate(days):
        rng = np.random.default_rng([seed, i, 9_001])
        start = midnight + timedelta(hours=2)
        runs = (
            (DOCS_SYNC, start, timedelta(minutes=3), CMS, docs_dir, documents, None),
            (BUILD_INDEX, start + timedelta(minutes=5), timedelta(minutes=7), ("file", str(docs_dir)),
             index_file, chunk_counts[i], index_source(buggy[i])),
        )
        for job, began, took, source, output, rows, code in runs:
            run_id = _uuid7(began, rng)
            for state, when in (("START", began), ("COMPLETE", began + took)):
                client.emit(_event(state, when, run_id, job, source, output, rows, code, midnight))
                count += 1
    return count


def _event(state: str, when: datetime, run_id: str, job: str, source: tuple[str, str],
           output: Path, rows: int, code: str | None, nominal: datetime) -> Any:
    from openlineage.client import event_v2
    from openlineage.client import facet_v2 as f

    job_facets: dict[str, Any] = {
        "jobType": f.job_type_job.JobTypeJobFacet(processingType="BATCH", integration="AIRFLOW", jobType="TASK"),
    }
    if code is not None:
        job_facets["sourceCode"] = f.source_code_job.SourceCodeJobFacet(language="python", sourceCode=code)
    outputs = []
    if state == "COMPLETE":
        fields = (("chunk_id", "STRING"), ("doc_uri", "STRING"), ("product", "STRING"), ("text", "STRING")) \
            if job == BUILD_INDEX else (("path", "STRING"), ("text", "STRING"))
        outputs = [event_v2.OutputDataset(
            namespace="file", name=str(output),
            facets={"schema": f.schema_dataset.SchemaDatasetFacet(
                fields=[f.schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields])},
            outputFacets={"outputStatistics": f.output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=rows)},
        )]
    return event_v2.RunEvent(
        eventType=getattr(event_v2.RunState, state),
        eventTime=_iso(when),
        run=event_v2.Run(runId=run_id, facets={
            "nominalTime": f.nominal_time_run.NominalTimeRunFacet(nominalStartTime=_iso(nominal + timedelta(hours=2))),
        }),
        job=event_v2.Job(namespace=JOB_NAMESPACE, name=job, facets=job_facets),
        producer=PRODUCER,
        inputs=[event_v2.InputDataset(namespace=source[0], name=source[1])],
        outputs=outputs,
    )
