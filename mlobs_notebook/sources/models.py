"""From a registered model to its run, its training datasets and its metric history (MLflow).

Works against any MLflow store: a sqlite file (``sqlite:////abs/path/mlflow.db``) or a tracking
server (``http://host:5000``). MLflow is imported inside the functions: it takes seconds.

Three calls take an investigation from a model name to data::

    model = load_production_model("churn_predictor")          # alias "production"
    [dataset] = training_datasets(model)                       # what it was trained on
    series = metric_series(model, metric="auc")                # how it has done since

Investigating never loads a model's pickle: everything here reads metadata.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import replace
from datetime import datetime
from typing import Any

from mlobs_notebook.errors import (
    AliasNotFound,
    ModelNotFound,
    NoDatasetInputs,
    StageDeprecated,
    VersionNotFound,
)
from mlobs_notebook.records import DatasetRecord, ModelVersionRecord
from mlobs_notebook.sources.mlflow_access import connect, get_run, is_missing, mlflow_errors
from mlobs_notebook.sources.refs import parse_source
from mlobs_notebook.times import from_epoch_ms

__all__ = ["as_record", "load_production_model", "model_inputs", "training_datasets"]

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_LOGGED_MODEL_SOURCE = re.compile(r"^models:/(m-[0-9a-f]+)$")
_STAGES = {"production": "Production", "staging": "Staging", "archived": "Archived", "none": "None"}
_CONTEXT_TAG = "mlflow.data.context"


def load_production_model(
    name_or_uri: str, alias: str | None = "production", tracking_uri: str | None = None
) -> ModelVersionRecord:
    """The model version serving under ``alias`` (or the one a URI names), with its run.

    ``name_or_uri``: a registered name (looked up by ``alias``; ``alias=None`` takes the latest
    version), ``models:/name@alias``, ``models:/name/<version>``, ``models:/name/latest``, a
    legacy stage ``models:/name/Production`` (reading only; warns :class:`StageDeprecated`),
    ``models:/<logged model id>``, ``runs:/<run id>`` or a bare run id.
    """
    client, uri = connect(tracking_uri)
    text = str(name_or_uri).strip()
    with mlflow_errors(uri):
        if text.startswith("runs:/"):
            return _from_run(client, uri, text[len("runs:/"):].split("/")[0])
        if _RUN_ID.match(text):
            return _from_run(client, uri, text)
        if text.startswith("models:/"):
            rest = text[len("models:/"):].strip("/")
            if "@" in rest:
                name, _, alias = rest.partition("@")
                return _by_alias(client, uri, name, alias)
            if "/" in rest:
                name, _, selector = rest.rpartition("/")
                return _by_selector(client, uri, name, selector)
            if rest.startswith("m-"):
                return _from_logged_model(client, uri, rest)
            return _by_alias(client, uri, rest, None)
        return _by_alias(client, uri, text, alias)


def training_datasets(
    model: ModelVersionRecord | str, tracking_uri: str | None = None
) -> list[DatasetRecord]:
    """The dataset inputs of the model's run, those logged with context "training" first.

    Sources are parsed from the JSON MLflow stored, so datasets logged with a custom source class
    (such as mlobs_notebook's ``iceberg``) read fine where that class is not registered.
    """
    record = as_record(model, tracking_uri)
    client, uri = connect(tracking_uri or record.tracking_uri)
    with mlflow_errors(uri):
        run = get_run(client, record.run_id)
    inputs = list(run.inputs.dataset_inputs) if run.inputs else []
    if not inputs:
        raise NoDatasetInputs(
            f"{_describe(record)} logged no dataset inputs, so its training "
            "data is unknown. Log it with mlflow.log_input(mlflow.data.from_pandas(df, "
            "source=...), context='training') in the training job."
        )
    started = from_epoch_ms(run.info.start_time)
    records = [_dataset_record(item, record.run_id, started) for item in inputs]
    return sorted(records, key=lambda r: r.context != "training")


def _dataset_record(item: Any, run_id: str, started: datetime | None) -> DatasetRecord:
    dataset = item.dataset
    context = next((t.value for t in item.tags or [] if t.key == _CONTEXT_TAG), None)
    # a table recorded without its snapshot or version is read as it was when training started
    source = replace(parse_source(dataset.source_type, dataset.source), as_of=started)
    return DatasetRecord(
        name=dataset.name,
        digest=dataset.digest,
        source_type=dataset.source_type,
        source=source,
        schema=_parse_schema(dataset.schema),
        profile=_parse_json(dataset.profile),
        context=context,
        run_id=run_id,
    )


def _parse_schema(text: str | None) -> dict[str, str] | None:
    raw = _parse_json(text)
    if not isinstance(raw, dict):
        return None
    columns = raw.get("mlflow_colspec", raw.get("mlflow_tensorspec"))
    if isinstance(columns, str):  # tensor specs nest one more JSON string
        columns = _parse_json(columns)
    if not isinstance(columns, list):
        return None
    return {
        str(col.get("name", i)): str(col.get("type", col.get("dtype", "")))
        for i, col in enumerate(columns)
        if isinstance(col, dict)
    }


def _parse_json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None


def as_record(model: ModelVersionRecord | str, tracking_uri: str | None) -> ModelVersionRecord:
    if isinstance(model, ModelVersionRecord):
        return model
    return load_production_model(model, tracking_uri=tracking_uri)


def _by_alias(client: Any, uri: str, name: str, alias: str | None) -> ModelVersionRecord:
    registered = _registered_model(client, uri, name)
    if alias is None:
        return _by_selector(client, uri, name, "latest")
    version = registered.aliases.get(alias)
    if version is None:
        stage = _STAGES.get(alias.lower())
        if stage is not None and stage != "None" and stage in _stages_held(registered):
            # the legacy convention: promoted with transition_model_version_stage, no alias
            return _by_stage(client, uri, name, stage, registered,
                             f"model {name!r} has no alias {alias!r}; read its legacy stage {stage!r} instead")
        raise AliasNotFound(
            f"model {name!r} has no alias {alias!r}. {_aliases_and_stages(registered)} "
            f"{_ways_in(client, name, registered)} "
            f"Or set the alias with MlflowClient().set_registered_model_alias({name!r}, {alias!r}, <version>)."
        )
    return _from_version(client, uri, client.get_model_version(name, str(version)))


def _stages_held(registered: Any) -> set[str]:
    return {v.current_stage for v in registered.latest_versions or [] if v.current_stage}


def _ways_in(client: Any, name: str, registered: Any) -> str:
    """The URIs that work without an alias: a stage a version holds, or a version."""
    stages = sorted(_stages_held(registered) - {"None"})
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{_quote(name)}'"))
    ways = [f"models:/{name}/{stage}" for stage in stages]
    if versions:
        ways.append(f"models:/{name}/{versions[-1]}" + (" (its latest version)" if len(versions) > 1 else ""))
    return f"Pass --model {' or '.join(ways)}." if ways else f"Model {name!r} has no versions yet."


def _by_selector(client: Any, uri: str, name: str, selector: str) -> ModelVersionRecord:
    registered = _registered_model(client, uri, name)
    if selector.isdigit():
        try:
            version = client.get_model_version(name, selector)
        except Exception as exc:
            if not is_missing(exc):
                raise
            raise VersionNotFound(
                f"model {name!r} has no version {selector}. Versions: {_versions(client, name)}"
            ) from exc
        return _from_version(client, uri, version)
    if selector.lower() == "latest":
        versions = client.search_model_versions(f"name = '{_quote(name)}'")
        if not versions:
            raise VersionNotFound(f"model {name!r} has no versions yet")
        return _from_version(client, uri, max(versions, key=lambda v: int(v.version)))
    stage = _STAGES.get(selector.lower())
    if stage is None:
        raise AliasNotFound(
            f"{selector!r} in models:/{name}/{selector} is neither a version, 'latest' nor a stage "
            f"({', '.join(_STAGES.values())}). Use models:/{name}@<alias> for an alias. "
            f"{_aliases_and_stages(registered)}"
        )
    return _by_stage(client, uri, name, stage, registered, f"models:/{name}/{stage} reads a legacy stage")


def _by_stage(client: Any, uri: str, name: str, stage: str, registered: Any, how: str) -> ModelVersionRecord:
    """The newest version in a legacy stage; warns :class:`StageDeprecated` and notes it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        latest = client.get_latest_versions(name, stages=[stage])
    mlflow_says = " ".join(str(w.message) for w in caught if issubclass(w.category, FutureWarning))
    if not latest:
        raise AliasNotFound(
            f"model {name!r} has no version in stage {stage!r}. {_aliases_and_stages(registered)} "
            f"{_ways_in(client, name, registered)}"
        )
    note = (
        f"{how} (version {latest[0].version}): MLflow deprecated registry stages in favour of aliases; "
        f"set one with MlflowClient().set_registered_model_alias({name!r}, 'production', "
        f"{latest[0].version}). {('MLflow: ' + mlflow_says) if mlflow_says else ''}".strip()
    )
    warnings.warn(StageDeprecated(note), stacklevel=5)
    return replace(_from_version(client, uri, latest[0]), notes=(note,))


def _from_logged_model(client: Any, uri: str, model_id: str) -> ModelVersionRecord:
    try:
        logged = client.get_logged_model(model_id)
    except Exception as exc:
        if not is_missing(exc):
            raise
        raise ModelNotFound(f"no logged model {model_id!r} in {uri}") from exc
    versions = client.search_model_versions(f"run_id = '{logged.source_run_id}'")
    mine = [v for v in versions if _logged_model_id(v) == model_id]
    if mine:
        return _from_version(client, uri, max(mine, key=lambda v: int(v.version)))
    record = _from_run(client, uri, logged.source_run_id, registered=False)
    return replace(record, logged_model_id=model_id)


def _from_run(client: Any, uri: str, run_id: str, registered: bool = True) -> ModelVersionRecord:
    run = get_run(client, run_id)
    if registered:
        versions = client.search_model_versions(f"run_id = '{run_id}'")
        if versions:
            return _from_version(client, uri, max(versions, key=lambda v: int(v.version)), run)
    return _record(None, run, uri)


def _from_version(client: Any, uri: str, version: Any, run: Any = None) -> ModelVersionRecord:
    if not version.aliases:
        # versions found by search come without their aliases; the direct read has them
        version = client.get_model_version(version.name, str(version.version))
    run = run if run is not None else get_run(client, version.run_id)
    return _record(version, run, uri)


def _record(version: Any, run: Any, uri: str) -> ModelVersionRecord:
    created = getattr(version, "creation_timestamp", None) if version is not None else None
    return ModelVersionRecord(
        name=version.name if version is not None else None,
        # over HTTP MLflow returns versions as strings
        version=int(version.version) if version is not None else None,
        aliases=tuple(sorted(version.aliases or ())) if version is not None else (),
        run_id=run.info.run_id,
        logged_model_id=_logged_model_id(version),
        creation_time=from_epoch_ms(created) or from_epoch_ms(run.info.start_time),
        params=dict(run.data.params),
        metrics={k: float(v) for k, v in run.data.metrics.items()},
        tags=dict(run.data.tags),
        tracking_uri=uri,
        source=version.source if version is not None else None,
        experiment_id=run.info.experiment_id,
        run_start_time=from_epoch_ms(run.info.start_time),
        stage=_stage_of(version),
    )


def _stage_of(version: Any) -> str | None:
    stage = getattr(version, "current_stage", None) if version is not None else None
    return stage if stage and stage != "None" else None


def _logged_model_id(version: Any) -> str | None:
    if version is None:
        return None
    # the sqlite registry leaves model_id empty; the version's source names the logged model
    match = _LOGGED_MODEL_SOURCE.match(version.source or "")
    return getattr(version, "model_id", None) or (match.group(1) if match else None)


def _registered_model(client: Any, uri: str, name: str) -> Any:
    try:
        return client.get_registered_model(name)
    except Exception as exc:
        if not is_missing(exc):
            raise
        known = sorted(m.name for m in client.search_registered_models(max_results=100))
        listed = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
        raise ModelNotFound(
            f"no registered model {name!r} in {uri}. Known models: {listed or 'none'}."
        ) from exc


def _versions(client: Any, name: str) -> str:
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{_quote(name)}'"))
    return ", ".join(map(str, versions)) or "none"


def _aliases_and_stages(registered: Any) -> str:
    aliases = ", ".join(f"{a} (v{v})" for a, v in sorted(registered.aliases.items()))
    stages = ", ".join(
        f"{v.current_stage} (v{v.version})"
        for v in registered.latest_versions or []
        if v.current_stage and v.current_stage != "None"
    )
    text = f"Its aliases: {aliases or 'none'}."
    return text + (f" Legacy stages: {stages}." if stages else "")


def _quote(value: str) -> str:
    return value.replace("'", "\\'")


def _describe(record: ModelVersionRecord) -> str:
    owner = f" of model {record.name!r} v{record.version}" if record.name else ""
    return f"run {record.run_id}{owner}"


def model_inputs(model: ModelVersionRecord) -> tuple[str, ...] | None:
    """The model's input columns from its logged signature (the MLmodel file, never the pickle)."""
    model_id = model.logged_model_id
    if not model_id:
        return None
    try:
        import mlflow
        from mlflow.models import Model
        from mlflow.tracking import MlflowClient

        logged = MlflowClient(model.tracking_uri).get_logged_model(model_id)
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=logged.artifact_location.rstrip("/") + "/MLmodel",
            tracking_uri=model.tracking_uri,
        )
        signature = Model.load(path).signature
    except Exception:  # noqa: BLE001 - no signature is a normal case; fall back to the data
        return None
    schema = signature.inputs if signature is not None else None
    names = schema.input_names() if schema is not None and schema.has_input_names() else None
    return tuple(names) if names else None
