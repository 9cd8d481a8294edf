"""``mlobs lineage``: read OpenLineage events; summarize them, or list the upstream changes that
could explain a change of a dataset (or one of its columns) in a time range."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lineage",
        help="OpenLineage events: summary, and upstream changes of a dataset or column",
        description=(
            "Read OpenLineage events (a JSON Lines file, a folder of event files, a saved Marquez "
            "lineage response, or a live http(s)://.../api/v1/lineage?nodeId=... URL)."
        ),
    )
    sub = parser.add_subparsers(dest="lineage_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("path", metavar="PATH", help="events file, folder, saved Marquez response or Marquez URL, or a folder of Unity Catalog system table exports")
        p.add_argument("--format", choices=("json", "table"), default="json", help="output format (default json)")
        p.add_argument("--strict", action="store_true", help="fail on the first malformed event instead of listing it")
        p.add_argument("--timeout", type=float, default=10, metavar="S", help="seconds to wait for a live Marquez (default 10)")

    summary = sub.add_parser("summary", help="counts of events, runs, jobs, datasets, and the problems found")
    common(summary)
    summary.set_defaults(run=run_summary)

    changes = sub.add_parser("changes", help="upstream changes of a dataset (or column) in a time range")
    common(changes)
    changes.add_argument("--dataset", required=True, metavar="NAMESPACE/NAME",
                         help="the dataset: NAMESPACE/NAME (e.g. s3://lake/warehouse/t), or a table URI")  # fmt: skip
    changes.add_argument("--column", metavar="C", help="follow this column's lineage only")
    changes.add_argument("--since", metavar="T", help="start of the range (ISO date or timestamp; UTC if no offset)")
    changes.add_argument("--until", metavar="T", help="end of the range (ISO date or timestamp; UTC if no offset; a bare date includes that day)")
    changes.add_argument("--depth", type=int, metavar="N", help="at most N jobs upstream")
    changes.set_defaults(run=run_changes)


def _load(args: argparse.Namespace) -> Any:
    from mlobs_notebook.lineage import load_lineage

    return load_lineage(args.path, strict=args.strict, timeout=args.timeout)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def run_summary(args: argparse.Namespace) -> int:
    summary = _load(args).summary()
    if args.format == "json":
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for key in ("events", "runs", "jobs", "datasets"):
        print(f"{key:<9} {summary[key]}")
    print(f"{'problems':<9} {len(summary['problems'])}")
    if summary["problems"]:
        rows = [[p["source"], str(p["line"] or ""), p["reason"]] for p in summary["problems"]]
        print()
        print(_table(rows, ["source", "line", "reason"]))
    return 0


def run_changes(args: argparse.Namespace) -> int:
    graph = _load(args)
    found = graph.changes(args.dataset, args.column, since=args.since, until=args.until, depth=args.depth)
    if args.format == "json":
        json.dump({"changes": [c.to_dict() for c in found]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = [
        [c.event_time.isoformat(timespec="seconds"), c.kind, c.job.name, c.run_id, str(c.distance), c.detail.splitlines()[0]]
        for c in found
    ]
    print(_table(rows, ["event_time", "kind", "job", "run_id", "hops", "detail"]))
    for c in found:
        if c.diff:
            print(f"\n{c.job.name} run {c.run_id}:\n{c.diff.rstrip()}")
    return 0
