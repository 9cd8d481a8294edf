"""``mlobs gate``: the CI promotion gate. Exit 0 pass, 1 a check failed, 2 bad input."""

from __future__ import annotations

import sys
import warnings
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gate",
        help="check a candidate run and promote its model (CI)",
        description=(
            "Check a candidate run (finished, metric over the minimum, readable training data, "
            "null rates, drift against the production model's training data, optionally no "
            "regression) and, when every check passes, register its model and point the alias "
            "at it, keeping the previous holder as previous_<alias>. Rerunning is a no-op. "
            "Exit 0 pass, 1 a check failed (nothing written), 2 bad input."
        ),
    )
    parser.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    parser.add_argument("--run-id", required=True, metavar="ID", help="the candidate's training run")
    parser.add_argument("--model", required=True, metavar="NAME", help="registered model name")
    parser.add_argument("--metric", default="auc", help="metric the run must meet (default auc)")
    parser.add_argument("--min", type=float, required=True, dest="min_value", metavar="VALUE",
                        help="minimum value of the metric")
    parser.add_argument("--alias", default="staging", help="alias to point at the new version (default staging)")
    parser.add_argument("--max-psi", type=float, default=0.2, metavar="PSI",
                        help="largest PSI allowed against the production model's training data (default 0.2)")
    parser.add_argument("--max-null-rate", type=float, default=0.05, metavar="RATE",
                        help="largest null rate allowed in any training column (default 0.05)")
    parser.add_argument("--no-regression", action="store_true",
                        help="fail when the metric is below the production model's")
    parser.add_argument("--production-alias", default="production", metavar="ALIAS",
                        help="alias of the model to compare with (default production)")
    parser.add_argument("--stage", metavar="STAGE",
                        help="also move the version to this legacy registry stage (deprecated by MLflow)")
    parser.set_defaults(run=run)


def run(args: Any) -> int:
    from mlobs_notebook.actions.gate import promote

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FutureWarning)
        result = promote(
            args.run_id,
            args.model,
            metric=args.metric,
            min_value=args.min_value,
            alias=args.alias,
            max_psi=args.max_psi,
            max_null_rate=args.max_null_rate,
            no_regression=args.no_regression,
            production_alias=args.production_alias,
            stage=args.stage,
            tracking_uri=args.tracking_uri,
        )
    for warning in caught:
        if warning.category.__module__.startswith("mlobs_notebook"):
            print(f"mlobs gate: warning: {warning.message}", file=sys.stderr)
    out = sys.stdout if result.passed else sys.stderr
    print(f"mlobs gate: {result.summary()}", file=out)
    for check in result.checks:
        print(f"  {check.line()}", file=out)
    return 0 if result.passed else 1
