"""The promotion gate: check a candidate run, then register it and point an alias at it.

``promote(run_id, model, metric="auc", min_value=0.90)`` runs every check and writes nothing unless
all of them pass. The checks, in order:

- ``run_finished``: the run's status is FINISHED;
- ``metric``: the run's metric meets ``min_value``;
- ``training_data``: the run logged a training dataset input and its snapshot can be read;
- ``null_rate``: no column of the training data is null more often than ``max_null_rate``;
- ``drift``: the largest PSI of the training data against the training data of the model
  holding ``production_alias`` stays under ``max_psi`` (passes when nothing holds that alias);
- ``no_regression`` (with ``no_regression=True``): the metric is at least the production holder's.

On success the run's logged model becomes a new version of ``model`` and ``alias`` points at it;
the version that held ``alias`` keeps ``previous_<alias>``. The writes go in an order that a
failure can undo (see :func:`mlobs_notebook.actions.promotion.promote_version`); a rerun finds the
run's version already holding the alias and changes nothing, and a rerun after an interrupted
promotion reuses the version it created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from mlobs_notebook import markup
from mlobs_notebook.actions.promotion import logged_model, promote_version
from mlobs_notebook.errors import (
    AliasNotFound,
    MlobsError,
    ModelNotFound,
    NoDatasetInputs,
    SourceUnreadable,
    UnknownMetric,
)
from mlobs_notebook.sources.mlflow_access import connect, get_run, mlflow_errors

__all__ = ["GateCheck", "GateResult", "gate", "promote"]


@dataclass(frozen=True)
class GateCheck:
    """One check of the gate: what was measured (``figure``) against what was allowed (``limit``)."""

    name: str
    passed: bool
    figure: float | str | None
    limit: float | str | None
    message: str

    def line(self) -> str:
        figure = _fmt(self.figure)
        limit = f" (limit {_fmt(self.limit)})" if self.limit is not None else ""
        return f"{'ok  ' if self.passed else 'FAIL'} {self.name:<14} {figure}{limit}: {self.message}"


@dataclass(frozen=True)
class GateResult:
    """What the gate found and did.

    ``action``: ``promoted`` (a new version now holds the alias), ``aliased`` (the run's existing
    version now holds it), ``unchanged`` (it already did) or ``rejected`` (a check failed).
    """

    run_id: str
    model: str
    alias: str
    checks: tuple[GateCheck, ...]
    action: str
    version: int | None = None
    previous_version: int | None = None
    stage: str | None = None
    tracking_uri: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[GateCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def summary(self) -> str:
        head = f"run {self.run_id} for {self.model}@{self.alias}: "
        if self.action == "rejected":
            return head + f"REJECTED, {len(self.failures)} check(s) failed; nothing was written"
        if self.action == "unchanged":
            return head + f"PASS, v{self.version} already holds @{self.alias}; nothing changed"
        previous = (
            f"; v{self.previous_version} keeps @previous_{self.alias}" if self.previous_version else ""
        )
        stage = f"; stage {self.stage}" if self.stage else ""
        done = "registered" if self.action == "promoted" else "pointed at the run's existing"
        return head + f"PASS, {done} v{self.version} as @{self.alias}{previous}{stage}"

    def to_polars(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "name": [c.name for c in self.checks],
                "passed": [c.passed for c in self.checks],
                "figure": [_fmt(c.figure) for c in self.checks],
                "limit": [None if c.limit is None else _fmt(c.limit) for c in self.checks],
                "message": [c.message for c in self.checks],
            }
        )

    def _repr_html_(self) -> str:
        rows = [("✔" if c.passed else "✘", c.name, _fmt(c.figure), _fmt(c.limit), c.message) for c in self.checks]
        return markup.render("gate_result.html.j2", summary=self.summary(), rows=rows,
                             head=["", "check", "figure", "limit", "message"])


def promote(
    run_id: str,
    model: str,
    *,
    metric: str = "auc",
    min_value: float,
    alias: str = "staging",
    max_psi: float | None = 0.2,
    max_null_rate: float | None = 0.05,
    no_regression: bool = False,
    production_alias: str = "production",
    stage: str | None = None,
    greater_is_better: bool = True,
    tracking_uri: str | None = None,
) -> GateResult:
    """Check run ``run_id`` and, when every check passes, make its model ``model@alias``.

    Bad input raises (an unknown run, a run without a logged model, a metric the run never
    logged); a failed check never does: it is in the result, whose ``action`` is ``rejected``.
    ``stage`` also moves the version to a legacy registry stage (``Staging``), warning
    :class:`mlobs_notebook.sources.models.StageDeprecated` with MLflow's deprecation message.
    ``max_psi=None`` or ``max_null_rate=None`` skips that check.
    """
    client, uri = connect(tracking_uri)
    with mlflow_errors(uri):
        run = get_run(client, run_id, "pass the id of the candidate's training run")
        metrics = run.data.metrics
        if metric not in metrics:
            raise UnknownMetric(
                f"run {run_id} logged no metric {metric!r}. Its metrics: "
                f"{', '.join(sorted(metrics)) or 'none'}. Pass --metric with one of them."
            )
        source, model_id = logged_model(client, run)
        holder = _production_holder(model, production_alias, uri)
        checks = _checks(
            run, uri, metric, float(metrics[metric]), min_value, greater_is_better, holder,
            production_alias, max_psi, max_null_rate, no_regression,
        )
        common: dict[str, Any] = {"run_id": run_id, "model": model, "alias": alias, "checks": checks,
                                  "tracking_uri": uri}
        if not all(c.passed for c in checks):
            return GateResult(action="rejected", **common)
        tags = {"mlobs.gate": "passed", "mlobs.gate.checks": json.dumps(
            {c.name: _fmt(c.figure) for c in checks})}
        action, version, previous = promote_version(client, model, run_id, source, model_id,
                                                    alias, stage, tags)
    return GateResult(action=action, version=version, previous_version=previous, stage=stage,
                      **common)


# ``mlobs_notebook.actions.gate`` is this module, so the package exports the function as ``promote``
gate = promote


def _checks(
    run: Any, uri: str, metric: str, value: float, min_value: float, greater_is_better: bool,
    holder: Any, production_alias: str, max_psi: float | None, max_null_rate: float | None,
    no_regression: bool,
) -> tuple[GateCheck, ...]:
    status = run.info.status
    checks = [GateCheck("run_finished", status == "FINISHED", status, "FINISHED",
                        "the run finished" if status == "FINISHED" else
                        f"the run is {status}, not FINISHED: only a finished run can be promoted")]
    ok = value >= min_value if greater_is_better else value <= min_value
    checks.append(GateCheck("metric", ok, value, f"{'>=' if greater_is_better else '<='} {min_value:g}",
                            f"{metric} = {value:.4f}"))
    frame, check = _training_frame(run.info.run_id, uri)
    checks.append(check)
    if max_null_rate is not None:
        checks.append(_null_check(frame, max_null_rate))
    if max_psi is not None:
        checks.append(_drift_check(frame, holder, production_alias, max_psi, run.info.run_id))
    if no_regression:
        checks.append(_regression_check(value, holder, metric, production_alias, greater_is_better))
    return tuple(checks)


def _training_frame(run_id: str, uri: str) -> tuple[pl.DataFrame | None, GateCheck]:
    from mlobs_notebook.sources.models import training_datasets

    try:
        records = training_datasets(run_id, tracking_uri=uri)
    except NoDatasetInputs as exc:
        return None, GateCheck("training_data", False, None, "a training dataset input", str(exc))
    record = records[0]  # training context first
    if record.context != "training":
        return None, GateCheck("training_data", False, None, "a training dataset input",
                               f"the run's dataset inputs have no context 'training' "
                               f"(found {', '.join(repr(r.context) for r in records)})")
    try:
        frame = _collect(record)
    except MlobsError as exc:
        return None, GateCheck("training_data", False, None, "a readable snapshot",
                               f"dataset {record.name!r} at {record.uri} cannot be read: {exc}")
    return frame, GateCheck("training_data", True, frame.height, None,
                            f"dataset {record.name!r} at {record.uri}: {frame.height} rows")


def _collect(record: Any) -> pl.DataFrame:
    from mlobs_notebook.sources.tables import load_snapshot

    try:
        # the digest is not rechecked here: reading the snapshot is what the gate needs
        return load_snapshot(record, check_digest=False).collect()
    except MlobsError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader failing deep down is an unreadable source
        raise SourceUnreadable(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}") from exc


def _null_check(frame: pl.DataFrame | None, limit: float) -> GateCheck:
    if frame is None:
        return GateCheck("null_rate", False, None, limit, "not checked: no readable training data")
    if frame.height == 0:
        return GateCheck("null_rate", False, None, limit, "the training data has no rows")
    rates = {c: frame[c].null_count() / frame.height for c in frame.columns}
    worst = sorted(rates.items(), key=lambda kv: (-kv[1], kv[0]))
    column, rate = worst[0]
    over = [f"{c} ({r:.1%})" for c, r in worst if r > limit]
    message = (f"null rate over {limit:.1%} in {', '.join(over)}" if over
               else f"highest null rate {rate:.1%} in {column}")
    return GateCheck("null_rate", not over, rate, limit, message)


def _drift_check(frame: pl.DataFrame | None, holder: Any, production_alias: str, limit: float,
                 run_id: str) -> GateCheck:
    if frame is None:
        return GateCheck("drift", False, None, limit, "not checked: no readable training data")
    if holder is None:
        return GateCheck("drift", True, None, limit,
                         f"no model holds @{production_alias}: nothing to compare against")
    if holder.run_id == run_id:
        return GateCheck("drift", True, 0.0, limit, f"the run already holds @{production_alias}")
    from mlobs_notebook.drift import compute_drift
    from mlobs_notebook.sources.models import training_datasets

    try:
        baseline = _collect(training_datasets(holder, tracking_uri=holder.tracking_uri)[0])
    except MlobsError as exc:
        return GateCheck("drift", False, None, limit,
                         f"the training data of {holder.name} v{holder.version} "
                         f"(@{production_alias}) cannot be read: {exc}")
    shared = [c for c in frame.columns if c in baseline.columns]
    report = compute_drift(baseline.select(shared), frame.select(shared), consecutive=False,
                           statistics=["population_stability_index"])
    scores = (report.table.filter(pl.col("population_stability_index").is_not_null())
              .select("column_name", "population_stability_index")
              .sort("population_stability_index", "column_name", descending=[True, False]))
    if scores.height == 0:
        return GateCheck("drift", False, None, limit, "no column shared with the production "
                         f"training data could be compared (columns: {', '.join(frame.columns)})")
    over = [f"{c} ({v:.3f})" for c, v in scores.iter_rows() if v >= limit]
    column, top = scores.row(0)
    against = f"against the training data of {holder.name} v{holder.version} (@{production_alias})"
    message = (f"PSI at or over {limit:g} in {', '.join(over)} {against}" if over
               else f"highest PSI {top:.3f} in {column} {against}")
    return GateCheck("drift", not over, float(top), limit, message)


def _regression_check(value: float, holder: Any, metric: str, production_alias: str,
                      greater_is_better: bool) -> GateCheck:
    if holder is None:
        return GateCheck("no_regression", True, None, None,
                         f"no model holds @{production_alias}: nothing to regress against")
    if metric not in holder.metrics:
        return GateCheck("no_regression", False, None, None,
                         f"{holder.name} v{holder.version} (@{production_alias}) has no metric "
                         f"{metric!r} to compare with")
    reference = holder.metrics[metric]
    delta = (value - reference) if greater_is_better else (reference - value)
    return GateCheck("no_regression", delta >= 0, delta, 0.0,
                     f"{metric} {value:.4f} vs {reference:.4f} of {holder.name} v{holder.version} "
                     f"(@{production_alias})")


def _production_holder(model: str, alias: str, uri: str) -> Any:
    from mlobs_notebook.sources.models import load_production_model

    try:
        return load_production_model(model, alias=alias, tracking_uri=uri)
    except (ModelNotFound, AliasNotFound):
        return None


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
