"""``mlobs investigate --traces``: the options of an LLM app's investigation from its MLflow traces.

Not a subcommand: :mod:`mlobs_notebook.cli.investigate` adds these options to its parser and,
when ``--traces`` is given (or ``--demo`` names a rag_assistant world), investigates through
:func:`~mlobs_notebook.investigation.traces.investigate_traces`.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

__all__ = ["add_arguments", "investigate", "wants_traces"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("an LLM app's traces")
    group.add_argument("--traces", metavar="EXPERIMENT_OR_RUN",
                       help="investigate an LLM app from its MLflow traces: an experiment name or id, a run id, "
                            "or models:/<LoggedModel id> (then --metric names a feedback, e.g. faithfulness, "
                            "or error_rate, latency_p95)")
    group.add_argument("--span-attribute", action="append", default=[], metavar="SPAN:KEY",
                       help="a further feature: the attribute KEY of the spans named (or typed) SPAN; repeatable")
    group.add_argument("--trace-start", metavar="T", help="only traces started at or after T (ISO date or time)")
    group.add_argument("--trace-end", metavar="T", help="only traces started at or before T (a bare date includes it)")
    group.add_argument("--read-method", choices=("auto", "sql", "api"), default="auto",
                       help="read traces with SQL on a local sqlite store or through MLflow's API (default: auto)")
    # the tabular investigation may define --baseline too; the traces read it the same way
    with contextlib.suppress(argparse.ArgumentError):
        group.add_argument("--baseline", metavar="RUN_OR_RANGE",
                           help="with --traces: the evaluation run whose traces are the baseline, or START..END "
                                "(default: the mlflow.genai.evaluate run that accepted the app)")


def _demo(args: argparse.Namespace) -> Any:
    if not getattr(args, "demo", None):
        return None
    from mlobs_notebook.demo import load_manifest
    from mlobs_notebook.demo.rag.world import RagManifest

    manifest = load_manifest(args.demo)
    return manifest if isinstance(manifest, RagManifest) else None


def wants_traces(args: argparse.Namespace) -> bool:
    return bool(args.traces) or _demo(args) is not None


def investigate(args: argparse.Namespace) -> Any:
    """The investigation the options ask for (``--demo`` fills what they leave out)."""
    from mlobs_notebook.investigation.traces import investigate_traces

    demo = _demo(args)
    traces = args.traces or (demo.experiment if demo else None)
    return investigate_traces(
        traces,
        args.lineage or (demo.lineage_file if demo else None),
        metric=args.metric or (demo.metric if demo else "faithfulness"),
        tracking_uri=args.tracking_uri or (demo.tracking_uri if demo else None),
        baseline=getattr(args, "baseline", None),
        start=args.trace_start, end=args.trace_end,
        granularity=args.granularity or "1d",
        span_attributes=args.span_attribute or (demo.span_attributes if demo else ()),
        lineage_dataset=args.lineage_dataset,
        method=args.read_method,
    )
