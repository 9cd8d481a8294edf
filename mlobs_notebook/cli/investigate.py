"""``mlobs investigate``: from "the metric dropped" to a verdict with evidence and a postmortem."""

from __future__ import annotations

import argparse
import json
import sys

from mlobs_notebook.cli.engine import add_engine_arguments, cli_session, progress_bar
from mlobs_notebook.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "investigate",
        help="find why a production model's metric dropped: drift, lineage, verdict, postmortem",
        description=(
            "Load the model behind an alias, its training snapshot and the current data; measure "
            "drift per window; find upstream changes in the OpenLineage events; correlate with the "
            "metric; print a verdict (pipeline_bug, data_drift, model_drift, healthy) with evidence. "
            "Exit 0 for any verdict, 2 for bad input."
        ),
    )
    parser.add_argument("--demo", metavar="DIR", help="take every setting from a demo world's manifest.json")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    parser.add_argument("--model", help="registered model name, models:/ URI or run id")
    parser.add_argument("--alias", default=None, help="alias to resolve (default: production)")
    parser.add_argument("--current", help="current data: table URI or path (default: the training table's latest snapshot)")
    parser.add_argument("--time-column", help="the current data's time column")
    parser.add_argument("--granularity", default=None, metavar="N{h,d,w,mo}",
                        help="window size: hours, days, weeks or calendar months, e.g. 1h, 6h, 1d, 1w, 1mo (default: 1d)")
    parser.add_argument("--time-format", metavar="FORMAT",
                        help="how a text time column is written, e.g. '%%m/%%d/%%Y %%H:%%M' (default: ISO 8601 only)")
    parser.add_argument("--lineage", metavar="PATH_OR_URL", help="OpenLineage JSON Lines file, folder or Marquez lineage URL")
    parser.add_argument("--lineage-dataset", metavar="NAMESPACE/NAME", help="the feature table's OpenLineage dataset when the training source does not name it")
    parser.add_argument("--metric", default=None, help="the evaluation metric (default: auc)")
    parser.add_argument("--eval-filter", default=None, help="MLflow filter for evaluation runs (default: tags.env = 'production')")
    parser.add_argument("--columns", help="comma-separated features to compare (default: the model's signature)")
    add_engine_arguments(parser)
    parser.add_argument("--format", default="text", choices=("text", "json"))
    parser.add_argument("--out", metavar="REPORT", help="write the postmortem: report.html or report.md")
    parser.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> dict:
    settings = {
        "tracking_uri": args.tracking_uri, "model": args.model, "alias": args.alias or "production",
        "current": args.current, "time_column": args.time_column, "granularity": args.granularity or "1d",
        "lineage": args.lineage, "metric": args.metric or "auc",
        "eval_filter": args.eval_filter or "tags.env = 'production'",
    }
    if args.demo:
        from mlobs_notebook.demo import Manifest

        m = Manifest.load(args.demo)
        demo = {"tracking_uri": m.tracking_uri, "model": m.model, "alias": m.alias,
                "time_column": m.time_column, "lineage": m.lineage_file, "metric": m.metric,
                "eval_filter": m.eval_filter}
        for key, value in demo.items():
            if getattr(args, key, None) in (None, ""):
                settings[key] = value
    missing = [flag for flag, key in (("--model", "model"), ("--time-column", "time_column")) if not settings[key]]
    if missing:
        raise InputError(f"missing {' and '.join(missing)} (or pass --demo DIR to take them from a demo world)")
    return settings


def run(args: argparse.Namespace) -> int:
    from mlobs_notebook.investigation import investigate

    s = _settings(args)
    if args.out and not args.out.lower().endswith((".html", ".htm", ".md")):
        raise InputError(f"--out {args.out}: use a .html or .md file name")
    with cli_session(args.engine, args.spark_master) as spark, progress_bar(args.progress, f"Investigating {s['model']}") as bar:
        inv = investigate(
            s["model"], s["current"], s["lineage"], metric=s["metric"], time_column=s["time_column"],
            granularity=s["granularity"], alias=s["alias"], tracking_uri=s["tracking_uri"],
            eval_filter=s["eval_filter"], lineage_dataset=args.lineage_dataset,
            columns=[c.strip() for c in args.columns.split(",")] if args.columns else None,
            time_format=args.time_format, progress=bar, engine=args.engine, spark=spark,
        )
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
