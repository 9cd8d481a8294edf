"""An LLM app's versions as its traces show them: the LoggedModels that served, and what changed.

MLflow 3 tracks a GenAI app's versions as LoggedModels: ``mlflow.set_active_model`` tags each
trace with ``mlflow.modelId`` ("Version tracking and LoggedModel",
https://docs.databricks.com/aws/mlflow3/genai/prompt-version-mgmt/version-tracking/version-concepts).
A model's parameters hold its configuration, and loading a prompt from the registry while the
model is active links them (the model's ``mlflow.linkedPrompts`` tag). A version change is the first trace
of a LoggedModel after another one served; what changed is the difference of the two models'
parameters and linked prompt versions, with the prompt templates' unified diff.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import polars as pl

from mlobs_notebook.diagnose import AppChange
from mlobs_notebook.records import ModelVersionRecord
from mlobs_notebook.sources.mlflow_access import first_line, is_missing
from mlobs_notebook.times import from_epoch_ms

__all__ = ["app_changes", "app_record", "served_versions"]

LINKED_PROMPTS = "mlflow.linkedPrompts"


def served_versions(features: pl.DataFrame) -> pl.DataFrame:
    """``model_id, first, last, traces``: each LoggedModel that served, in order of first trace."""
    return (
        features.drop_nulls("model_id")
        .group_by("model_id")
        .agg(pl.col("request_time").min().alias("first"), pl.col("request_time").max().alias("last"),
             pl.len().alias("traces"))
        .sort("first", "model_id")
    )


def _model(client: Any, model_id: str, notes: list[str]) -> Any:
    try:
        return client.get_logged_model(model_id)
    except Exception as exc:
        if not is_missing(exc):
            raise
        notes.append(f"the traces name LoggedModel {model_id}, which the store does not hold ({first_line(exc)})")
        return None


def _label(model: Any, model_id: str) -> str:
    return f"{model.name} ({model_id})" if model is not None and model.name else model_id


def _prompts(model: Any) -> dict[str, str]:
    try:
        linked = json.loads((model.tags or {}).get(LINKED_PROMPTS, "[]")) if model is not None else []
    except ValueError:
        return {}
    return {str(p["name"]): str(p["version"]) for p in linked if isinstance(p, dict) and "name" in p}


def _template(client: Any, name: str, version: str) -> str | None:
    try:
        prompt = client.get_prompt_version(name, version)
    except Exception as exc:
        if not is_missing(exc):
            raise
        return None
    template = getattr(prompt, "template", None)
    return template if isinstance(template, str) else (json.dumps(template, indent=1) if template else None)


def _change(client: Any, before: tuple[str, Any], after: tuple[str, Any], at: Any) -> AppChange:
    (old_id, old), (new_id, new) = before, after
    changes, diffs = [], []
    old_prompts, new_prompts = _prompts(old), _prompts(new)
    for name in sorted(set(old_prompts) | set(new_prompts)):
        a, b = old_prompts.get(name), new_prompts.get(name)
        if a == b:
            continue
        changes.append(f"prompt {name}: version {a or 'none'} -> {b or 'none'}")
        texts = [(_template(client, name, v) if v else None) or "" for v in (a, b)]
        diffs.append("".join(difflib.unified_diff(
            texts[0].splitlines(keepends=True), texts[1].splitlines(keepends=True),
            fromfile=f"prompt {name} version {a}", tofile=f"prompt {name} version {b}")))
    old_params, new_params = dict(getattr(old, "params", None) or {}), dict(getattr(new, "params", None) or {})
    changed = sorted(k for k in set(old_params) | set(new_params) if old_params.get(k) != new_params.get(k))
    if changed:
        changes.append("parameters " + ", ".join(f"{k}: {old_params.get(k, '(none)')} -> {new_params.get(k, '(none)')}"
                                                 for k in changed))
        diffs.append("".join(difflib.unified_diff(
            [f"{k} = {old_params[k]}\n" for k in sorted(old_params)], [f"{k} = {new_params[k]}\n" for k in sorted(new_params)],
            fromfile=f"{_label(old, old_id)} parameters", tofile=f"{_label(new, new_id)} parameters")))
    return AppChange(at=at, before=_label(old, old_id), after=_label(new, new_id), changes=tuple(changes),
                     diff="".join(diffs) or None, before_id=old_id, after_id=new_id)


def app_changes(client: Any, features: pl.DataFrame) -> tuple[list[AppChange], list[str]]:
    """(changes, notes): each LoggedModel that started serving after another, oldest first."""
    notes: list[str] = []
    served = served_versions(features)
    models = {m: _model(client, m, notes) for m in served["model_id"].to_list()}
    rows = served.iter_rows(named=True)
    previous = next(rows, None)
    out = []
    for row in rows:
        assert previous is not None
        out.append(_change(client, (previous["model_id"], models[previous["model_id"]]),
                           (row["model_id"], models[row["model_id"]]), row["first"]))
        previous = row
    return out, notes


def app_record(client: Any, uri: str, features: pl.DataFrame, experiment: str, experiment_id: str) -> ModelVersionRecord:
    """The app as the investigation names it: the LoggedModel serving the latest trace (its name,
    id, parameters and tags), or the experiment when the traces name no LoggedModel."""
    latest = features.drop_nulls("model_id").sort("request_time")["model_id"].tail(1).to_list()
    model = _model(client, latest[0], []) if latest else None
    if model is None:
        return ModelVersionRecord(name=experiment, version=None, aliases=(), run_id="", logged_model_id=None,
                                  creation_time=None, tracking_uri=uri, experiment_id=experiment_id)
    return ModelVersionRecord(
        name=model.name, version=None, aliases=(), run_id=model.source_run_id or "",
        logged_model_id=model.model_id, creation_time=from_epoch_ms(model.creation_timestamp),
        params=dict(model.params or {}), tags=dict(model.tags or {}), tracking_uri=uri,
        source=f"models:/{model.model_id}", experiment_id=experiment_id,
    )
