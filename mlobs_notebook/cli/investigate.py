"""``mlobs investigate``: from "the metric dropped" to a verdict with evidence and a postmortem."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlobs_notebook.cli import trace_options
from mlobs_notebook.cli.engine import add_engine_arguments, cli_session, progress_bar
from mlobs_notebook.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "investigate",
        help="find why a production model's metric dropped: drift, lineage, verdict, postmortem",
        description=(
            "Load the model behind an alias, its training snapshot and the current data; measure "
            "drift per window; find upstream changes in the OpenLineage events; correlate with the "
            "metric (and the joint distribution, slices, the metric estimated from scores); print a "
            "verdict (pipeline_bug, data_drift, model_drift, healthy, or inconclusive with the flag that "
            "would settle it) with its causes and evidence. With --traces, investigate an LLM app from "
            "its MLflow traces instead (verdicts also app_change). Exit 0 for any verdict, 2 for bad input."
        ),
    )
    parser.add_argument("--demo", metavar="DIR", help="take every setting from a demo world's manifest.json")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    parser.add_argument("--model", help="registered model name, models:/ URI (models:/NAME/VERSION, models:/NAME/Production) or run id")
    parser.add_argument("--alias", default=None, help="alias to resolve, or a legacy stage name such as Production (default: production)")
    parser.add_argument("--baseline", metavar="URI",
                        help="the training data, when the training run's dataset cannot be read: parquet/CSV file or folder "
                             "(local, s3://, gs://, az://), iceberg://CATALOG/NS.TABLE@SNAPSHOT, delta:///PATH@VERSION, "
                             "or an Iceberg/Delta table folder (default: the run's training dataset input)")
    parser.add_argument("--current", help="current data: table URI or path (default: the training table's latest snapshot)")
    parser.add_argument("--time-column", help="the current data's time column")
    parser.add_argument("--granularity", default=None, metavar="N{h,d,w,mo}",
                        help="window size: hours, days, weeks or calendar months, e.g. 1h, 6h, 1d, 1w, 1mo (default: 1d)")
    parser.add_argument("--time-format", metavar="FORMAT",
                        help="how a text time column is written, e.g. '%%m/%%d/%%Y %%H:%%M' (default: ISO 8601 only)")
    parser.add_argument("--time-zone", metavar="ZONE",
                        help="label the windows in this IANA zone (e.g. Europe/Berlin) instead of the time column's own")
    parser.add_argument("--lineage", metavar="PATH_OR_URL",
                        help="OpenLineage JSON Lines file, folder or Marquez lineage URL, or a folder of Unity Catalog "
                             "system table exports (system.access.*_lineage, system.lakeflow.*)")
    parser.add_argument("--lineage-dataset", metavar="NAMESPACE/NAME", help="the feature table's OpenLineage dataset when the training source does not name it")
    metric = parser.add_argument_group("the metric series (default: evaluation runs tagged env=production)")
    metric.add_argument("--metric", default=None, help="the metric (default: auc; from a predictions log auc is the ROC AUC)")
    metric.add_argument("--eval-filter", default=None, metavar="FILTER",
                        help="MLflow filter for evaluation runs; \"\" for no filter (default: tags.env = 'production' "
                             "when it matches runs, else the model's own MLflow 3 metrics, else every run)")
    metric.add_argument("--date-from", default=None, metavar="WHEN",
                        help="what dates an evaluation run: start_time (default), end_time, metric_timestamp, "
                             "tags.NAME or params.NAME holding a date; for --metric-run also step:DATE (step 0's date)")
    metric.add_argument("--metric-run", metavar="RUN_ID", help="read the metric's history logged by one run (its steps)")
    metric.add_argument("--predictions", metavar="URI", help="a predictions log: compute the metric per window from it")
    metric.add_argument("--prediction-column", metavar="COL", help="the predictions log's score or prediction column")
    metric.add_argument("--label-column", metavar="COL",
                        help="the label: in the predictions log (null until it arrives), or in the training data "
                             "to calibrate the scores of --score-column")
    metric.add_argument("--predictions-time-column", metavar="COL", help="the predictions log's time column (default: --time-column)")
    metric.add_argument("--threshold", type=float, default=0.5, help="score threshold for accuracy, precision, recall and f1 (default: 0.5)")
    metric.add_argument("--min-evaluations", type=int, default=None, metavar="N",
                        help="windows with a metric value needed after the training data for a verdict (default: 17)")
    metric.add_argument("--baseline-value", type=float, default=None, metavar="V",
                        help="the metric's level before any fall (default: the median of its first 14 windows)")
    metric.add_argument("--tolerance", type=float, default=None, metavar="T",
                        help="how far below that level a fall counts (default: 3 x the 1.4826 MAD of those windows)")
    parser.add_argument("--columns", help="comma-separated features to compare (default: the model's signature)")
    parser.add_argument("--drift-metrics", metavar="PATH",
                        help="a Databricks monitor's {table}_drift_metrics export (Delta or parquet) read as the drift; nothing recomputed")
    parser.add_argument("--profile-metrics", metavar="PATH",
                        help="its InferenceLog {table}_profile_metrics export: the metric series (--metric names the column)")
    parser.add_argument("--slice", metavar="KEY=VALUE", help="the monitor slice to read (default: the whole table)")
    parser.add_argument("--thresholds", choices=("default", "learned"), default="default",
                        help="drift thresholds: the registered defaults, or learned from the training data's own "
                             "windows (mean + 3 std, NannyML's rule; the training data needs the time column)")
    parser.add_argument("--label-delay", type=int, metavar="DAYS",
                        help="how many days labels arrive after the predictions: a metric drop no drift explains is "
                             "traced back to the changes made when its predictions were (default: unknown, up to 7)")
    parser.add_argument("--score-column", metavar="COLUMN",
                        help="the model's score in the current data: estimates the metric per window before labels "
                             "arrive (confidence-based, as NannyML's CBPE)")
    parser.add_argument("--slicing-exprs", metavar="EXPR", action="append",
                        help="a slice to check drifted features in: a column name (one slice per value) or a SQL "
                             "predicate such as \"device = 'web'\" (repeatable; categorical columns are sliced anyway)")
    parser.add_argument("--no-multivariate", action="store_true",
                        help="skip the joint-distribution drift (domain classifier, PCA reconstruction error)")
    add_engine_arguments(parser)
    parser.add_argument("--format", default="text", choices=("text", "json"))
    parser.add_argument("--out", metavar="REPORT", help="write the postmortem: report.html or report.md")
    trace_options.add_arguments(parser)
    parser.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> dict:
    from mlobs_notebook.sources.evaluations import DEFAULT_EVAL_FILTER

    settings = {
        "tracking_uri": args.tracking_uri, "model": args.model, "alias": args.alias or "production",
        "current": args.current, "time_column": args.time_column, "granularity": args.granularity or "1d",
        "lineage": args.lineage, "metric": args.metric or "auc",
        # None: the default filter (with its fall-backs); "": no filter at all
        "eval_filter": DEFAULT_EVAL_FILTER if args.eval_filter is None else args.eval_filter,
        "date_from": args.date_from or "start_time", "predictions": args.predictions,
        "prediction_column": args.prediction_column, "label_column": args.label_column, "label_delay": args.label_delay,
    }
    if args.demo:
        from mlobs_notebook.demo import Manifest

        m = Manifest.load(args.demo)
        demo = {"tracking_uri": m.tracking_uri, "model": m.model, "alias": m.alias,
                "time_column": m.time_column, "lineage": m.lineage_file, "metric": m.metric,
                "eval_filter": m.eval_filter, "date_from": m.date_from, "predictions": m.predictions_file,
                "prediction_column": m.prediction_column, "label_column": m.label_column,
                "label_delay": m.label_delay_days}
        for key, value in demo.items():
            if getattr(args, key, None) is None and value is not None:
                settings[key] = value
    missing = [flag for flag, key in (("--model", "model"), ("--time-column", "time_column")) if not settings[key]]
    if missing:
        raise InputError(f"missing {' and '.join(missing)} (or pass --demo DIR to take them from a demo world)")
    return settings


def run(args: argparse.Namespace) -> int:
    import warnings

    from mlobs_notebook.errors import StageDeprecated
    from mlobs_notebook.investigation import investigate

    if args.out and not args.out.lower().endswith((".html", ".htm", ".md")):
        raise InputError(f"--out {args.out}: use a .html or .md file name")
    if args.out and not Path(args.out).expanduser().resolve().parent.is_dir():
        raise InputError(f"--out {args.out}: the folder {Path(args.out).expanduser().resolve().parent} does not exist; "
                         "create it first (checked before the investigation starts)")
    with warnings.catch_warnings(), cli_session(args.engine, args.spark_master) as spark, \
            progress_bar(args.progress, "Investigating") as bar:
        # a legacy stage is a finding: it is in the investigation's notes, printed once below
        warnings.simplefilter("ignore", StageDeprecated)
        if trace_options.wants_traces(args):
            inv = trace_options.investigate(args)
        else:
            s = _settings(args)
            inv = investigate(
                s["model"], s["current"], s["lineage"], metric=s["metric"], time_column=s["time_column"],
                granularity=s["granularity"], alias=s["alias"], tracking_uri=s["tracking_uri"],
                eval_filter=s["eval_filter"], lineage_dataset=args.lineage_dataset,
                columns=[c.strip() for c in args.columns.split(",")] if args.columns else None,
                time_format=args.time_format, time_zone=args.time_zone, baseline=args.baseline, date_from=s["date_from"],
                metric_run=args.metric_run, predictions=s["predictions"], prediction_column=s["prediction_column"],
                label_column=s["label_column"], predictions_time_column=args.predictions_time_column,
                threshold=args.threshold, min_evaluations=args.min_evaluations, baseline_value=args.baseline_value,
                tolerance=args.tolerance,
                drift_metrics=args.drift_metrics, profile_metrics=args.profile_metrics, monitor_slice=args.slice,
                thresholds="learned" if args.thresholds == "learned" else None, label_delay=s["label_delay"],
                score_column=args.score_column, slicing_exprs=args.slicing_exprs,
                multivariate=not args.no_multivariate, progress=bar, engine=args.engine, spark=spark,
            )
    # where the inputs came from, on stderr so that --format json stays clean
    for note in inv.model.notes:
        print(f"mlobs investigate: note: {note}", file=sys.stderr)
    if inv.metric_source is not None:
        print(f"mlobs investigate: the {inv.metric_name} series: {inv.metric_source.description}", file=sys.stderr)
    written = inv.write(args.out) if args.out else None
    if args.format == "json":
        payload = inv.to_dict()
        if written:
            payload["report"] = written
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from mlobs_notebook.postmortem import text_summary

        print(text_summary(inv))
        if written:
            print(f"\nPostmortem written to {written}")
    return 0
