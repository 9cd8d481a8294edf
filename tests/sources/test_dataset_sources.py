"""The Iceberg dataset source: its stored JSON is the contract, MLflow registration is optional."""

import json
import subprocess
import sys

import pytest

from mlobs_notebook.sources import dataset_sources
from mlobs_notebook.sources.iceberg_uri import parse_iceberg_uri
from mlobs_notebook.sources.refs import parse_source

PROPS = {"type": "sql", "uri": "sqlite:////x/catalog.db", "warehouse": "file:///x/warehouse"}


def test_importing_the_module_does_not_import_mlflow():
    code = (
        "import sys, mlobs_notebook.sources.dataset_sources, mlobs_notebook.sources.tables; "
        "print('mlflow' in sys.modules, 'pyiceberg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_to_dict_is_the_contract_and_drops_secrets():
    source = dataset_sources.IcebergDatasetSource(
        "mlobs_demo", "features.t", 42, {**PROPS, "credential": "s3cr3t", "token": "t"}
    )
    assert source.to_dict() == {
        "uri": "iceberg://mlobs_demo/features.t@42",
        "catalog": "mlobs_demo",
        "table": "features.t",
        "snapshot_id": 42,
        "catalog_properties": PROPS,
    }
    assert "s3cr3t" not in source.to_json()
    assert source._get_source_type() == "iceberg"


def test_round_trips_through_json_and_the_mlflow_registry():
    from mlflow.data.dataset_source_registry import (
        _dataset_source_registry,
        get_dataset_source_from_json,
        resolve_dataset_source,
    )

    cls = dataset_sources.IcebergDatasetSource
    source = cls("c", "ns.t", 7, PROPS)
    assert cls.from_json(source.to_json()) == source
    dataset_sources.register_sources()
    dataset_sources.register_sources()
    assert _dataset_source_registry.sources.count(cls) == 1
    assert get_dataset_source_from_json(source.to_json(), "iceberg") == source
    resolved = resolve_dataset_source("iceberg://c/ns.t@7")
    assert isinstance(resolved, cls)
    assert (resolved.catalog, resolved.table, resolved.snapshot_id) == ("c", "ns.t", 7)


def test_can_resolve_only_pinned_iceberg_uris():
    cls = dataset_sources.IcebergDatasetSource
    assert cls._can_resolve("iceberg://c/ns.t@7")
    assert not cls._can_resolve("iceberg://c/ns.t")  # the moving table is no training snapshot
    assert not cls._can_resolve("s3://bucket/ns.t@7")
    assert not cls._can_resolve(7)


@pytest.mark.parametrize(
    "uri", ["iceberg://c/table@1", "iceberg://c/ns.t@x", "iceberg:/c/ns.t@1", "file:///a.parquet"]
)
def test_bad_iceberg_uris_are_named(uri):
    with pytest.raises(ValueError, match="not an Iceberg URI"):
        parse_iceberg_uri(uri)


def test_stored_json_parses_without_the_class():
    stored = json.dumps(
        {"uri": "iceberg://c/ns.t@9", "catalog": "c", "table": "ns.t", "snapshot_id": 9,
         "catalog_properties": PROPS}
    )
    ref = parse_source("iceberg", stored)
    assert (ref.kind, ref.catalog, ref.table, ref.snapshot_id) == ("iceberg", "c", "ns.t", 9)
    assert dict(ref.catalog_properties) == PROPS
    assert ref.uri == "iceberg://c/ns.t@9"
