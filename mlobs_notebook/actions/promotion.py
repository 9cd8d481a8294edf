"""The promotion gate's registry writes: register, alias, stage, and undo them on failure.

Kept apart from the checks (gate.py): this is the only part of the gate that writes. The order
of the writes and the undo steps are described in :func:`promote_version`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

from mlobs_notebook.errors import NoLoggedModel, PromotionFailed
from mlobs_notebook.sources.mlflow_access import first_line, is_connection_error, is_missing

__all__ = ["logged_model", "promote_version"]


def logged_model(client: Any, run: Any) -> tuple[str, str | None]:
    """The run's model as (source URI, logged model id): its latest LoggedModel (MLflow 3), else
    an MLmodel under the run's ``model/`` artifacts (MLflow 2 style)."""
    run_id = run.info.run_id
    outputs = list(getattr(run.outputs, "model_outputs", None) or [])
    if outputs:
        latest = max(outputs, key=lambda o: (o.step or 0))
        return f"models:/{latest.model_id}", latest.model_id
    try:
        logged = client.search_logged_models(
            [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'")
    except Exception as exc:  # noqa: BLE001 - older servers lack the logged model API
        if is_connection_error(exc):
            raise
        logged = []
    if logged:
        latest = max(logged, key=lambda m: m.creation_timestamp or 0)
        return latest.model_uri, latest.model_id
    try:
        names = {a.path.rsplit("/", 1)[-1] for a in client.list_artifacts(run_id, "model")}
    except Exception:  # noqa: BLE001 - a run without artifacts
        names = set()
    if "MLmodel" in names:
        return f"runs:/{run_id}/model", None
    raise NoLoggedModel(
        f"run {run_id} logged no model, so there is nothing to register. Log one in the "
        "training job (mlflow.<flavor>.log_model(model, name='model')) or pass the run that did."
    )


def promote_version(client: Any, model: str, run_id: str, source: str, model_id: str | None,
                    alias: str, stage: str | None, tags: dict[str, str]) -> tuple[str, int, int | None]:
    """Register and alias, in an order a failure can undo.

    1. the registered model (created if missing), 2. the version (reused when an earlier,
    interrupted promotion of this run created it), 3. ``previous_<alias>`` onto the current holder,
    4. ``alias`` onto the version, 5. the legacy stage. Until step 4 nothing a reader follows has
    changed; a failure undoes the steps done, newest first, and says what could not be undone.
    """
    holder = _alias_version(client, model, alias)
    mine = _versions_of_run(client, model, run_id)
    if holder is not None and holder.run_id == run_id and (
            stage is None or holder.current_stage == stage):
        return "unchanged", int(holder.version), None
    undo: list[tuple[str, Any]] = []
    try:
        if not _exists(client, model):
            client.create_registered_model(model)
            undo.append((f"delete registered model {model}",
                         lambda: client.delete_registered_model(model)))
        if mine:  # registered before (by hand, or by a promotion that died): no duplicate
            version = max(mine, key=lambda v: int(v.version))
            action = "aliased"
        else:
            action = "promoted"
            with _global_tracking(client):
                version = client.create_model_version(model, source, run_id=run_id, tags=tags,
                                                      model_id=model_id)
            number = str(version.version)
            undo.append((f"delete version {number}",
                         lambda: client.delete_model_version(model, number)))
        number = str(version.version)
        previous = None
        if holder is not None and str(holder.version) != number:
            previous = int(holder.version)
            _move_alias(client, model, f"previous_{alias}", str(holder.version), undo)
        _move_alias(client, model, alias, number, undo)
        if stage is not None:
            _transition(client, model, number, stage, undo)
    except Exception as exc:
        raise PromotionFailed(_rollback(model, alias, undo, exc)) from exc
    return action, int(number), previous


@contextlib.contextmanager
def _global_tracking(client: Any) -> Iterator[None]:
    """A sqlite registry resolves ``models:/<logged model id>`` through MLflow's global tracking
    URI, not the client's; point it at our store for the call, then restore the caller's."""
    import mlflow

    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(client.tracking_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None restores MLflow's default


def _move_alias(client: Any, model: str, alias: str, version: str, undo: list) -> None:
    old = _alias_version(client, model, alias)
    client.set_registered_model_alias(model, alias, version)
    if old is None:
        undo.append((f"remove @{alias}", lambda: client.delete_registered_model_alias(model, alias)))
    else:
        old_version = str(old.version)
        undo.append((f"point @{alias} back at v{old_version}",
                     lambda: client.set_registered_model_alias(model, alias, old_version)))


def _transition(client: Any, model: str, version: str, stage: str, undo: list) -> None:
    from mlobs_notebook.errors import StageDeprecated

    before = client.get_model_version(model, version).current_stage or "None"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.transition_model_version_stage(model, version, stage)
    undo.append((f"move v{version} back to stage {before}",
                 lambda: client.transition_model_version_stage(model, version, before)))
    mlflow_says = " ".join(str(w.message) for w in caught if issubclass(w.category, FutureWarning))
    warnings.warn(StageDeprecated(
        f"moved {model} v{version} to the legacy registry stage {stage!r}; MLflow deprecated "
        f"stages in favour of aliases (the gate also set the alias). MLflow: {mlflow_says}".strip()
    ), stacklevel=4)


def _rollback(model: str, alias: str, undo: list, exc: Exception) -> str:
    undone, left = [], []
    for what, step in reversed(undo):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # undoing a stage move
                step()
            undone.append(what)
        except Exception as again:  # noqa: BLE001 - reported in the message, the first error is raised
            left.append(f"{what} ({type(again).__name__}: {first_line(again, 120)})")
    reason = first_line(exc)
    text = f"promoting to {model}@{alias} failed midway ({reason}). "
    text += f"Rolled back: {', '.join(undone)}. " if undone else "Nothing had been written. "
    if left:
        text += (f"Could not undo: {'; '.join(left)}. Rerun the gate: it reuses the version and "
                 "completes the alias moves.")
    return text.strip()


def _alias_version(client: Any, model: str, alias: str) -> Any:
    try:
        return client.get_model_version_by_alias(model, alias)
    except Exception as exc:
        if not is_missing(exc):
            raise
        return None


def _versions_of_run(client: Any, model: str, run_id: str) -> list[Any]:
    if not _exists(client, model):
        return []
    versions = client.search_model_versions(f"run_id = '{run_id}'")
    return [v for v in versions if v.name == model]


def _exists(client: Any, model: str) -> bool:
    try:
        client.get_registered_model(model)
    except Exception as exc:
        if not is_missing(exc, frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})):
            raise
        return False
    return True
