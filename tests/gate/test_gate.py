"""The promotion gate on a real sqlite store: CLI exit codes, what it writes, and what it never does.

Every test runs on a private copy of the gate world (tests/gate/conftest.py): version 1 holds
@staging, version 2 @production; ``good_run`` passes every check, ``bad_run`` fails several.
"""

from __future__ import annotations

import json
import warnings

import pytest

from mlobs_notebook.actions.gate import promote
from mlobs_notebook.cli import main
from mlobs_notebook.errors import (
    NoLoggedModel,
    PromotionFailed,
    RunNotFound,
    StageDeprecated,
    UnknownMetric,
)

pytest_plugins = ["tests.mlflow_fixtures"]

MODEL = "churn_model"


def _client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def registry_state(uri: str) -> dict:
    """Everything the gate could write: versions (with stage and tags) and aliases."""
    client = _client(uri)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    return {
        "aliases": aliases(uri),
        "versions": sorted(
            (int(v.version), v.run_id, v.current_stage, tuple(sorted(v.tags.items())))
            for v in versions
        ),
    }


def aliases(uri: str) -> dict[str, int]:
    # versions are ints on sqlite and strings over HTTP
    return {k: int(v) for k, v in _client(uri).get_registered_model(MODEL).aliases.items()}


def gate_cli(world, *args: str) -> int:
    return main(["gate", "--tracking-uri", world.tracking_uri, "--model", MODEL, "--min", "0.9", *args])


def test_failing_run_exits_1_with_each_reason_and_writes_nothing(gate_world, capsys):
    before = registry_state(gate_world.tracking_uri)

    code = gate_cli(gate_world, "--run-id", gate_world.bad_run, "--no-regression")

    err = capsys.readouterr().err
    assert code == 1
    assert "REJECTED, 5 check(s) failed; nothing was written" in err
    failed = {line.split()[1]: line for line in err.splitlines() if line.strip().startswith("FAIL")}
    assert set(failed) == {"run_finished", "metric", "null_rate", "drift", "no_regression"}
    assert "FAILED (limit FINISHED)" in failed["run_finished"]
    assert "0.82 (limit >= 0.9)" in failed["metric"]
    assert "plan (33.3%)" in failed["null_rate"]
    assert "sessions_7d" in failed["drift"] and "churn_model v2 (@production)" in failed["drift"]
    assert "-0.03 (limit 0)" in failed["no_regression"]
    assert registry_state(gate_world.tracking_uri) == before


def test_failing_checks_carry_figures_against_limits(gate_world):
    result = promote(gate_world.bad_run, MODEL, min_value=0.9, max_psi=0.2, max_null_rate=0.05,
                     tracking_uri=gate_world.tracking_uri)
    checks = {c.name: c for c in result.checks}
    assert result.action == "rejected" and not result.passed
    assert checks["metric"].figure == pytest.approx(0.82)
    assert checks["null_rate"].figure == pytest.approx(100 / 300)
    assert checks["drift"].figure > 0.2
    assert checks["training_data"].passed and checks["training_data"].figure == 300
    # a looser gate lets the same data through: the limits decide, not the data alone
    loose = promote(gate_world.bad_run, MODEL, min_value=0.8, max_psi=None, max_null_rate=0.5,
                    tracking_uri=gate_world.tracking_uri)
    assert [c.name for c in loose.failures] == ["run_finished"]
    assert loose.to_polars().height == len(loose.checks)


def test_passing_run_is_registered_aliased_and_keeps_previous_holder(gate_world, capsys):
    code = gate_cli(gate_world, "--run-id", gate_world.good_run, "--no-regression")

    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS, registered v3 as @staging; v1 keeps @previous_staging" in out
    client = _client(gate_world.tracking_uri)
    held = aliases(gate_world.tracking_uri)
    assert held["staging"] == 3 and held["previous_staging"] == 1
    assert held["production"] == 2  # the gate never touches the production alias
    version = client.get_model_version(MODEL, "3")
    assert version.run_id == gate_world.good_run
    model_id = client.get_run(gate_world.good_run).outputs.model_outputs[0].model_id
    assert version.source == f"models:/{model_id}"  # the run's LoggedModel
    assert version.tags["mlobs.gate"] == "passed"
    assert json.loads(version.tags["mlobs.gate.checks"])["metric"] == "0.93"


def test_rerun_changes_nothing(gate_world, capsys):
    assert gate_cli(gate_world, "--run-id", gate_world.good_run) == 0
    after_first = registry_state(gate_world.tracking_uri)
    capsys.readouterr()

    assert gate_cli(gate_world, "--run-id", gate_world.good_run) == 0

    assert "v3 already holds @staging; nothing changed" in capsys.readouterr().out
    assert registry_state(gate_world.tracking_uri) == after_first


def test_second_candidate_moves_alias_and_previous(gate_world):
    """Promoting again with another run: previous_staging follows the holder it replaced."""
    first = promote(gate_world.good_run, MODEL, min_value=0.9, alias="candidate",
                    tracking_uri=gate_world.tracking_uri)
    assert (first.action, first.version, first.previous_version) == ("promoted", 3, None)
    held = aliases(gate_world.tracking_uri)
    assert held["candidate"] == 3 and "previous_candidate" not in held


@pytest.mark.parametrize(
    ("run", "metric", "expected"),
    [
        ("0123456789abcdef0123456789abcdef", "auc", "no run '0123456789abcdef0123456789abcdef'"),
        ("no_model_run", "auc", "logged no model, so there is nothing to register"),
        ("good_run", "f1", "logged no metric 'f1'. Its metrics: auc"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(gate_world, capsys, run, metric, expected):
    run_id = getattr(gate_world, run, run)
    before = registry_state(gate_world.tracking_uri)

    code = gate_cli(gate_world, "--run-id", run_id, "--metric", metric)

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("mlobs gate: error: ") and expected in err
    assert "Traceback" not in err
    assert registry_state(gate_world.tracking_uri) == before


def test_bad_input_raises_the_named_errors(gate_world):
    uri = gate_world.tracking_uri
    with pytest.raises(RunNotFound):
        promote("f" * 32, MODEL, min_value=0.9, tracking_uri=uri)
    with pytest.raises(NoLoggedModel, match=gate_world.no_model_run):
        promote(gate_world.no_model_run, MODEL, min_value=0.5, tracking_uri=uri)
    with pytest.raises(UnknownMetric):
        promote(gate_world.good_run, MODEL, metric="rmse", min_value=0.9, tracking_uri=uri)


def _fail_on(monkeypatch, method: str, when):
    """Make one registry call fail, as a lost connection or a refused write would."""
    from mlflow.tracking import MlflowClient

    real = getattr(MlflowClient, method)

    def failing(self, *args, **kwargs):
        if when(*args):
            raise RuntimeError(f"injected failure in {method}{args}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, method, failing)


def test_failure_moving_the_alias_rolls_back_everything(gate_world, monkeypatch):
    before = registry_state(gate_world.tracking_uri)
    _fail_on(monkeypatch, "set_registered_model_alias", lambda name, alias, version: alias == "staging")

    with pytest.raises(PromotionFailed) as caught:
        promote(gate_world.good_run, MODEL, min_value=0.9, tracking_uri=gate_world.tracking_uri)

    message = str(caught.value)
    assert "injected failure" in message
    assert "Rolled back: remove @previous_staging, delete version 3" in message
    assert registry_state(gate_world.tracking_uri) == before
    monkeypatch.undo()
    # the next run completes the promotion as if nothing had happened
    result = promote(gate_world.good_run, MODEL, min_value=0.9, tracking_uri=gate_world.tracking_uri)
    assert (result.action, result.previous_version) == ("promoted", 1)


def test_interrupted_promotion_is_repaired_by_the_rerun(gate_world):
    """A version the gate created before dying (no alias yet) is reused, not duplicated."""
    client = _client(gate_world.tracking_uri)
    model_id = client.get_run(gate_world.good_run).outputs.model_outputs[0].model_id
    import mlflow

    mlflow.set_tracking_uri(gate_world.tracking_uri)
    try:
        orphan = client.create_model_version(MODEL, f"models:/{model_id}", run_id=gate_world.good_run,
                                             model_id=model_id)
    finally:
        mlflow.set_tracking_uri(None)

    result = promote(gate_world.good_run, MODEL, min_value=0.9, tracking_uri=gate_world.tracking_uri)

    assert (result.action, result.version) == ("aliased", int(orphan.version))
    assert "pointed at the run's existing v3 as @staging; v1 keeps @previous_staging" in result.summary()
    assert len(registry_state(gate_world.tracking_uri)["versions"]) == 3
    assert aliases(gate_world.tracking_uri)["staging"] == int(orphan.version)


def test_legacy_stage_transition_warns_with_mlflows_deprecation(gate_world):
    with pytest.warns(StageDeprecated, match="legacy registry stage 'Staging'") as caught:
        result = promote(gate_world.good_run, MODEL, min_value=0.9, stage="Staging",
                         tracking_uri=gate_world.tracking_uri)
    # MLflow's own deprecation text is passed on, not only ours
    assert "transition_model_version_stage`` is deprecated since" in str(caught[0].message)
    assert _client(gate_world.tracking_uri).get_model_version(MODEL, str(result.version)).current_stage == "Staging"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rerun does not transition again, so it does not warn
        again = promote(gate_world.good_run, MODEL, min_value=0.9, stage="Staging",
                        tracking_uri=gate_world.tracking_uri)
    assert again.action == "unchanged"


def test_cli_shows_the_stage_deprecation(gate_world, capsys):
    assert gate_cli(gate_world, "--run-id", gate_world.good_run, "--stage", "Staging") == 0
    err = capsys.readouterr().err
    assert "mlobs gate: warning: moved churn_model v3 to the legacy registry stage 'Staging'" in err


def test_failed_stage_transition_rolls_back_the_aliases(gate_world, monkeypatch):
    before = registry_state(gate_world.tracking_uri)
    _fail_on(monkeypatch, "transition_model_version_stage", lambda name, version, stage: stage == "Staging")

    with pytest.raises(PromotionFailed, match="point @staging back at v1"):
        promote(gate_world.good_run, MODEL, min_value=0.9, stage="Staging",
                tracking_uri=gate_world.tracking_uri)

    assert registry_state(gate_world.tracking_uri) == before


def test_mlflow2_style_run_registers_its_model_folder(gate_world):
    result = promote(gate_world.legacy_run, MODEL, min_value=0.9, tracking_uri=gate_world.tracking_uri)
    assert result.action == "promoted"
    version = _client(gate_world.tracking_uri).get_model_version(MODEL, str(result.version))
    assert version.source == f"runs:/{gate_world.legacy_run}/model"
    assert version.run_id == gate_world.legacy_run
