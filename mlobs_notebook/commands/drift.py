"""``mlobs drift``: drift of current data against a baseline, as JSON or a table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlobs_notebook.errors import SourceUnreadable

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
    parser.add_argument("--granularity", metavar="G", help="window size: 1h, 1d, 1w (with --time-column)")
    parser.add_argument("--columns", metavar="A,B", help="compare only these columns (comma-separated)")
    parser.add_argument("--format", choices=("json", "table"), default="json", help="output format (default json)")
    parser.set_defaults(run=run)


def _load(uri: str) -> Any:
    try:
        from mlobs_notebook.snapshots import load_snapshot
    except ImportError:
        return _load_local(uri)
    return load_snapshot(uri)


def _load_local(uri: str) -> Any:
    """Fallback reader for local parquet/CSV paths when the snapshots module is unavailable."""
    import polars as pl

    path = Path(uri.removeprefix("file://"))
    if not path.exists():
        raise SourceUnreadable(f"{uri}: no such file or folder")
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    suffixes = {f.suffix.lower() for f in files if f.is_file()}
    try:
        if suffixes <= {".parquet", ".pq"} and suffixes:
            return pl.scan_parquet([str(f) for f in files if f.is_file()])
        if suffixes == {".csv"}:
            return pl.scan_csv([str(f) for f in files if f.is_file()], try_parse_dates=True)
    except Exception as exc:  # polars raises several error types for unreadable files
        raise SourceUnreadable(f"{uri}: cannot read it: {exc}") from exc
    raise SourceUnreadable(f"{uri}: not parquet or CSV (found {', '.join(sorted(suffixes)) or 'no files'})")


def run(args: argparse.Namespace) -> int:
    from mlobs_notebook.drift import compute_drift

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    report = compute_drift(
        _load(args.baseline),
        _load(args.current),
        time_column=args.time_column,
        granularity=args.granularity,
        columns=columns,
    )
    for finding in report.schema_findings:
        print(f"mlobs drift: schema: {finding.column}: {finding.detail}", file=sys.stderr)
    for note in report.notes:
        print(f"mlobs drift: note: {note}", file=sys.stderr)
    if args.format == "json":
        json.dump({"rows": report.to_rows()}, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        import polars as pl

        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=40):
            print(report.table.select(_TABLE_COLUMNS))
    return 0
