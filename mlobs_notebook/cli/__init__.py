"""The ``mlobs`` command: thin subcommands over the toolkit.

Each subcommand lives in ``mlobs_notebook/cli/<name>.py`` and exposes
``add_parser(subparsers)``, which registers its arguments and sets ``run(args) -> int``.
Exit codes: 0 success (any verdict), 1 a check failed (gate), 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mlobs_notebook.errors import InputError, MlobsError

# Order is the order shown in ``mlobs --help``.
COMMANDS = ("demo", "drift", "lineage", "investigate", "gate", "export-notebook")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlobs",
        description="Investigate a degraded model: registry, snapshots, drift, lineage, verdict.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mlobs_notebook.cli.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mlobs_notebook.cli.{name.replace('-', '_')}":
                raise
            continue  # a command not built yet
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f"mlobs {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MlobsError as exc:
        print(f"mlobs {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away; say nothing more
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
