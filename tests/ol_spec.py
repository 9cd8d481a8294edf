"""Offline validation of OpenLineage events against ../shared/openlineage-spec (jsonschema).

The core schema (spec 2-0-2) is checked for the event; each facet is checked against the facet
schema that defines its key (facets are matched by key, never by ``_schemaURL``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

EVENT_TYPES = {"RunEvent", "DatasetEvent", "JobEvent"}


@cache
def _load(spec_dir: str):
    root = Path(spec_dir)
    core = json.loads((root / "OpenLineage.json").read_text())
    resources = [(core["$id"], Resource.from_contents(core))]
    facet_schemas: dict[str, list[dict]] = {}
    for path in sorted((root / "facets").glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
        for key in schema.get("properties", {}):
            facet_schemas.setdefault(key, []).append(schema)
    registry = Registry().with_resources(resources)
    validators = {
        kind: Draft202012Validator({"$ref": f"{core['$id']}#/$defs/{kind}"}, registry=registry)
        for kind in EVENT_TYPES
    }
    facet_validators = {
        key: [Draft202012Validator(s, registry=registry) for s in schemas]
        for key, schemas in facet_schemas.items()
    }
    return validators, facet_validators


def _facet_containers(event: dict):
    run = event.get("run") or {}
    job = event.get("job") or {}
    yield "run.facets", run.get("facets") or {}
    yield "job.facets", job.get("facets") or {}
    for side in ("inputs", "outputs"):
        for i, dataset in enumerate(event.get(side) or []):
            yield f"{side}[{i}].facets", dataset.get("facets") or {}
            extra = "inputFacets" if side == "inputs" else "outputFacets"
            yield f"{side}[{i}].{extra}", dataset.get(extra) or {}
    dataset = event.get("dataset")
    if isinstance(dataset, dict):
        yield "dataset.facets", dataset.get("facets") or {}


def event_kind(event: dict) -> str:
    if "run" in event:
        return "RunEvent"
    if "dataset" in event and "job" not in event:
        return "DatasetEvent"
    return "JobEvent"


def validation_errors(event: dict, spec_dir: Path) -> list[str]:
    """Every schema violation of ``event``, as readable strings (empty when valid)."""
    validators, facet_validators = _load(str(spec_dir))
    kind = event_kind(event)
    errors = [f"{kind}: {e.message} at {list(e.path)}" for e in validators[kind].iter_errors(event)]
    for where, facets in _facet_containers(event):
        for key, value in facets.items():
            for validator in facet_validators.get(key, []):
                errors += [
                    f"{where}.{key}: {e.message} at {list(e.path)}"
                    for e in validator.iter_errors({key: value})
                ]
    return errors
