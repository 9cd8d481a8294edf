"""``mlobs drift``: drift of current data against a baseline, as JSON or a table."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from mlobs_notebook.cli.engine import add_engine_arguments, cli_session, progress_bar

# Columns shown by --format table; JSON carries every column.
_TABLE_COLUMNS = [
    "window_start",
    "column_name",
    "drift_type",
    "count",
    "percent_null_delta",
    "population_stability_index",
    "js_distance",
    "ks_statistic",
    "wasserstein_normalized",
    "chi_squared_pvalue",
    "unseen_category_share",
    "drifted",
    "status",
]


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="feature drift of current data against a baseline",
        description=(
            "Compare current data with a baseline, per column (and per time window): PSI, JS, "
            "KS, Wasserstein, chi-squared, TV and L-inf distances, null and count changes."
        ),
    )
    parser.add_argument("--baseline", required=True, metavar="URI", help="baseline snapshot (parquet/CSV path or snapshot URI)")
    parser.add_argument("--current", required=True, metavar="URI", help="current data (parquet/CSV path or snapshot URI)")
    parser.add_argument("--time-column", metavar="COL", help="timestamp column that defines the windows")
    parser.add_argument("--granularity", metavar="N{h,d,w,mo}",
                        help="window size with --time-column: 1h, 6h, 1d, 1w, 1mo ...")
    parser.add_argument("--time-format", metavar="FORMAT",
                        help="how a text time column is written, e.g. '%%m/%%d/%%Y %%H:%%M' (default: ISO 8601 only)")
    parser.add_argument("--time-zone", metavar="ZONE",
                        help="window in this IANA zone (e.g. Europe/Berlin) instead of the time column's own")
    parser.add_argument("--columns", metavar="A,B",
                        help="compare only these columns (comma-separated; default: every column but id columns)")
    parser.add_argument("--statistics", metavar="A,B",
                        help="compute only these statistics (comma-separated registry names; default: all)")
    parser.add_argument("--thresholds", choices=("default", "learned"), default="default",
                        help="default: PSI >= 0.2, |percent_null_delta| >= 10, unseen_category_share >= 0.05; "
                             "learned: mean + 3 std of each statistic over the baseline's own windows "
                             "(NannyML's rule; the baseline needs --time-column)")
    parser.add_argument("--min-window-rows", type=int, default=None, metavar="N",
                        help="fewest rows a window needs to be judged (default 10); smaller ones read too_small")
    parser.add_argument("--format", choices=("json", "table", "databricks"), default="json",
                        help="output format (default json); databricks: the drift table in the schema of a Databricks "
                             "monitor's {table}_drift_metrics, written to --out")
    parser.add_argument("--out", metavar="PATH",
                        help="with --format databricks: a Delta table folder to create, or a .parquet file")
    add_engine_arguments(parser)
    parser.set_defaults(run=run)


def _load(uri: str, spark: Any) -> Any:
    if spark is not None:
        from mlobs_notebook.sources.spark_scan import spark_scan

        return spark_scan(uri, spark)
    from mlobs_notebook.sources.tables import load_snapshot

    return load_snapshot(uri)


def _json_number(value: Any) -> Any:
    """JSON has no NaN or infinity: an undefined threshold is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run(args: argparse.Namespace) -> int:
    with cli_session(args.engine, args.spark_master) as spark:
        return _run(args, spark)


def _run(args: argparse.Namespace, spark: Any) -> int:
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.errors import InputError
    from mlobs_notebook.investigation.features import is_id_column
    from mlobs_notebook.investigation.frames import column_names

    if (args.format == "databricks") != bool(args.out):
        raise InputError("--format databricks writes a table: give it --out PATH (a Delta folder or a .parquet file); "
                         "--out goes only with --format databricks")
    if args.out:
        from mlobs_notebook.sources.monitor_tables import check_new_table

        check_new_table(args.out)

    baseline, current = _load(args.baseline, spark), _load(args.current, spark)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    if columns is None:
        # the rule investigate applies: id columns identify rows, they are not features
        names = dict.fromkeys([*column_names(baseline), *column_names(current)])
        ids = [c for c in names if is_id_column(c) and c != args.time_column]
        columns = [c for c in names if c not in ids and c != args.time_column]
        if ids:
            print(f"mlobs drift: note: id column(s) left out: {', '.join(ids)} (name them in --columns to compare them)",
                  file=sys.stderr)
    extra = {"min_window_rows": args.min_window_rows} if args.min_window_rows is not None else {}
    with progress_bar(args.progress, "Drift") as bar:
        report = compute_drift(
            baseline,
            current,
            time_column=args.time_column,
            granularity=args.granularity,
            time_format=args.time_format,
            time_zone=args.time_zone,
            columns=columns,
            statistics=args.statistics,
            thresholds="learned" if args.thresholds == "learned" else None,
            engine=args.engine,
            spark=spark,
            progress=None if bar is None else lambda done, total, windows: bar(
                f"drift: {done}/{total} columns, {windows} windows", done / max(total, 1)),
            **extra,
        )
    for finding in report.schema_findings:
        print(f"mlobs drift: schema: {finding.column}: {finding.detail}", file=sys.stderr)
    for note in report.notes:
        print(f"mlobs drift: note: {note}", file=sys.stderr)
    if args.format == "databricks":
        from mlobs_notebook.sources.monitor_tables import write_table

        frame = report.to_databricks_drift_metrics()
        print(f"{write_table(frame, args.out)}: {frame.height} rows of Databricks drift metrics", file=sys.stderr)
    elif args.format == "json":
        thresholds = [{k: _json_number(v) for k, v in row.items()} for row in report.thresholds.iter_rows(named=True)]
        json.dump({"rows": report.to_rows(), "thresholds": thresholds}, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        import polars as pl

        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=-1, fmt_str_lengths=40):
            print(report.table.select(_TABLE_COLUMNS))
    return 0
