"""Options the commands that compute drift share: the engine, the Spark master, progress."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["add_engine_arguments", "cli_session", "progress_bar"]


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("polars", "spark"), default="polars",
                        help="compute drift with polars on this machine (large inputs are streamed out of core) or with Spark")
    parser.add_argument("--spark-master", metavar="URL",
                        help="with --engine spark: the master to start a session on (default: the session spark-submit "
                             "gives, else local[*])")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on stderr (default: when stderr is a terminal)")


def progress_bar(wanted: bool | None, title: str) -> Any:
    """A ProgressBar on stderr when ``wanted`` (None: when stderr is a terminal), else nothing."""
    from contextlib import nullcontext

    from mlobs_notebook.widgets.progress import ProgressBar

    if wanted is False or (wanted is None and not sys.stderr.isatty()):
        return nullcontext(None)
    return ProgressBar(title, mode="terminal" if sys.stderr.isatty() else "text", stream=sys.stderr)


@contextmanager
def cli_session(engine: str, master: str | None) -> Iterator[Any]:
    """The Spark session of ``--engine spark`` (None for polars): the one spark-submit started
    (or one already running), else a local session on ``master`` (default local[*]), which is
    stopped when the command ends."""
    if engine != "spark":
        yield None
        return
    from mlobs_notebook.drift.engines.spark_support import local_session, require_pyspark

    require_pyspark("--engine spark")
    from pyspark.sql import SparkSession

    if master is None and (SparkSession.getActiveSession() is not None or "PYSPARK_GATEWAY_PORT" in os.environ):
        yield SparkSession.builder.getOrCreate()
        return
    session = local_session(master or "local[*]", app="mlobs")
    try:
        yield session
    finally:
        session.stop()
