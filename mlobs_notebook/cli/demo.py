"""``mlobs demo``: build the demo world, then run the main job on it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mlobs_notebook.demo.scenarios import SCENARIOS
from mlobs_notebook.demo.world import EVALUATIONS
from mlobs_notebook.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build the embedded demo world (Iceberg, MLflow, OpenLineage) and investigate it",
        description=(
            "Build a reproducible demo world: a churn model in a sqlite MLflow store, its "
            "feature table as an Iceberg table with one snapshot per day, and the scheduler's "
            "OpenLineage events; or (the rag_* scenarios) an LLM support assistant's MLflow traces "
            "with daily assessments, its app versions and prompts, and its index pipeline's "
            "OpenLineage events. Scenarios: " + ", ".join(SCENARIOS) + "."
        ),
    )
    parser.add_argument("--out", default="mlobs-demo", metavar="DIR", help="where to build (default: ./mlobs-demo)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--days", type=int, default=None, help="simulated days (default: 90, 30 for rag_*; at least 21)")
    parser.add_argument("--scenario", default="pipeline_bug", metavar="NAME",
                        help="pipeline_bug (default), " + ", ".join(s for s in SCENARIOS if s != "pipeline_bug"))
    parser.add_argument("--evaluations", default="runs", choices=EVALUATIONS,
                        help="how the model's metric is logged: runs (one evaluation run a day, default), tagged "
                             "(evaluation runs logged at once by a backfill, dated by tags.eval_date), or "
                             "predictions (a predictions log instead of evaluation runs); churn scenarios")
    parser.add_argument("--traces-per-day", type=int, default=None, metavar="N",
                        help="rag_* scenarios: the assistant's requests a day (default: 40)")
    parser.add_argument("--force", action="store_true", help="replace a world already in DIR")
    parser.add_argument("--build-only", action="store_true", help="build the world and print its summary; do not investigate")
    parser.add_argument("--export-databricks", metavar="DIR",
                        help="also write the world's drift as Databricks monitor tables and its lineage as Unity Catalog "
                             "system table exports (Delta) into DIR; a world already in --out is reused unless --force")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlobs_notebook.demo import Manifest, build_world, get_scenario
    from mlobs_notebook.demo.databricks import check_export_target, export_databricks
    from mlobs_notebook.demo.world import MANIFEST, check_target

    # fail on bad input before saying anything or touching the folder
    spec = get_scenario(args.scenario)
    if args.days is not None and args.days < 21:
        raise InputError(f"--days must be at least 21 (training, onset and impact); got {args.days}")
    if args.traces_per_day is not None and args.traces_per_day < 1:
        raise InputError(f"--traces-per-day must be at least 1; got {args.traces_per_day}")
    rag = spec.world == "rag_assistant"
    export = args.export_databricks
    if export and rag:
        raise InputError("--export-databricks exports a churn world's monitor tables; the rag_* scenarios have none")
    if export:
        check_export_target(export, args.force)
    manifest: Any
    if export and (Path(args.out) / MANIFEST).exists() and not args.force:
        manifest = Manifest.load(args.out)
        print(f"Using the demo world in {manifest.path} ({manifest.scenario}; --force rebuilds it)", flush=True)
    else:
        check_target(args.out, args.force)
        days = f"{args.days} days" if args.days is not None else "default days"
        print(f"Building the demo world ({args.scenario}, seed {args.seed}, {days}) in {args.out} ...", flush=True)
        manifest = build_world(
            args.out, seed=args.seed, days=args.days, scenario=args.scenario, force=args.force,
            evaluations=args.evaluations, traces_per_day=args.traces_per_day,
        )
        print(rag_summary(manifest) if rag else summary(manifest))
    sys.stdout.flush()
    if args.build_only and not export:
        return 0
    if rag:
        return investigate_rag_world(manifest)
    inv = investigate_world(manifest)
    if export:
        written = export_databricks(manifest, inv, export, force=args.force)
        print(export_summary(manifest, written))
    return 0


def investigate_world(manifest):
    """The main job on the demo world: investigate, print the verdict, write the postmortem;
    returns the Investigation."""
    from pathlib import Path

    from mlobs_notebook.investigation import investigate
    from mlobs_notebook.postmortem import text_summary

    print("\nInvestigating the production model ...", flush=True)
    m = manifest
    inv = investigate(
        m.model, None, m.lineage_file, alias=m.alias, tracking_uri=m.tracking_uri, time_column=m.time_column,
        metric=m.metric, eval_filter=m.eval_filter, date_from=m.date_from, predictions=m.predictions_file,
        prediction_column=m.prediction_column, label_column=m.label_column, label_delay=m.label_delay_days,
    )
    report = inv.write(str(Path(manifest.path) / "postmortem.html"))
    print(text_summary(inv))
    print(f"\nVerdict: {inv.verdict} (expected for this scenario: {manifest.expected_verdict})")
    print(f"Postmortem: {report}")
    return inv


def export_summary(manifest, written) -> str:
    return "\n".join([
        f"\nDatabricks export written to {written.path}:",
        f"  drift metrics     {written.drift_metrics}",
        f"  profile metrics   {written.profile_metrics}",
        f"  model quality     {written.quality_metrics} (InferenceLog, roc_auc_score)",
        f"  system tables     {written.system_tables} (access/table_lineage, access/column_lineage, "
        "lakeflow/jobs, lakeflow/job_tasks, lakeflow/job_run_timeline)",
        "Investigate from them:",
        f"  mlobs investigate --demo {manifest.path} --drift-metrics {written.drift_metrics}",
        f"  mlobs investigate --demo {manifest.path} --lineage {written.system_tables}",
        f"  mlobs investigate --demo {manifest.path} --drift-metrics {written.drift_metrics} "
        f"--profile-metrics {written.quality_metrics} --lineage {written.system_tables}",
    ])


def investigate_rag_world(manifest) -> int:
    """The rag_assistant world's investigation: from its traces, print the verdict, write the postmortem."""
    from pathlib import Path

    from mlobs_notebook.investigation.traces import investigate_traces
    from mlobs_notebook.postmortem import text_summary

    print(f"\nInvestigating the assistant's {manifest.metric} from its traces ...", flush=True)
    inv = investigate_traces(
        manifest.experiment, manifest.lineage_file, metric=manifest.metric, tracking_uri=manifest.tracking_uri,
        span_attributes=manifest.span_attributes,
    )
    report = inv.write(str(Path(manifest.path) / "postmortem.html"))
    print(text_summary(inv))
    print(f"\nVerdict: {inv.verdict} (expected for this scenario: {manifest.expected_verdict})")
    print(f"Postmortem: {report}")
    return 0


def rag_summary(manifest) -> str:
    versions = ", ".join(f"{v['name']} ({v['model_id']})" for v in manifest.app_versions)
    lines = [
        f"Demo world built in {manifest.build_seconds:.1f} s: {manifest.path}",
        f"  scenario          {manifest.scenario}: {manifest.story}",
        f"  MLflow            {manifest.tracking_uri}, experiment {manifest.experiment}",
        f"  traces            {manifest.traces} over {manifest.days} days ({manifest.traces_per_day} a day), "
        "feedback faithfulness, relevance, thumbs_up",
        f"  app versions      {versions}",
        f"  accepted by       evaluation run {manifest.acceptance_run_id} (mlflow.genai.evaluate)",
        f"  index             {manifest.index_file}, built nightly from {manifest.docs_dir}",
        f"  lineage           {manifest.lineage_file}",
        f"  incident day      {manifest.incident_date}; expected verdict: {manifest.expected_verdict}",
        f"  manifest          {manifest.path}/manifest.json",
    ]
    return "\n".join(lines)


def summary(manifest) -> str:
    lines = [
        f"Demo world built in {manifest.build_seconds:.1f} s: {manifest.path}",
        f"  scenario          {manifest.scenario}: {manifest.story}",
        f"  MLflow            {manifest.tracking_uri}",
        f"  model             {manifest.model}@{manifest.alias} = version {manifest.model_version} (run {manifest.training_run_id})",
        f"  trained on        {manifest.training_source_uri} ({manifest.training_date})",
        f"  feature table     {manifest.table}: {manifest.days} daily snapshots, {manifest.rows_per_day} rows a day",
        f"  evaluations       {_evaluations(manifest)}, labels {manifest.label_delay_days} days late",
        f"  lineage           {manifest.lineage_file} ({manifest.lineage_events} events)",
        f"  incident day      {manifest.incident_date or 'none'}; expected verdict: {manifest.expected_verdict}",
        f"  manifest          {manifest.path}/manifest.json",
    ]
    return "\n".join(lines)


def _evaluations(manifest) -> str:
    if manifest.predictions_file:
        return (f"a predictions log {manifest.predictions_file} ({manifest.prediction_column} against "
                f"{manifest.label_column}; read with --predictions), no evaluation runs")
    if manifest.date_from != "start_time":
        return (f"daily '{manifest.metric}' runs tagged env=production, all logged now by a backfill "
                f"(read with --date-from {manifest.date_from})")
    return f"daily '{manifest.metric}' runs tagged env=production"
