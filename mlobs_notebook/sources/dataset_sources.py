"""MLflow dataset sources that mlobs_notebook logs and reads: an Iceberg table at a snapshot.

``IcebergDatasetSource`` is an ``mlflow.data.dataset_source.DatasetSource`` with source type
``"iceberg"``. It is built on first access (module ``__getattr__``) so that importing this module
does not import MLflow, which takes seconds. Call :func:`register_sources` once before
``mlflow.log_input`` or ``mlflow.data.get_source`` so that MLflow can resolve ``iceberg://`` URIs
and parse stored ``"iceberg"`` sources.

The stored JSON (``to_dict``) is the contract; readers never need this class registered::

    {"uri": "iceberg://<catalog>/<ns>.<table>@<snapshot_id>",
     "catalog": "<catalog>", "table": "<ns>.<table>", "snapshot_id": <int>,
     "catalog_properties": {"type": "sql", "uri": "...", "warehouse": "..."}}

``catalog_properties`` holds only non-secret settings (see :data:`SAFE_CATALOG_KEYS`): anything
else (credentials, tokens) is dropped before it reaches the tracking store.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mlobs_notebook.sources.iceberg_uri import (
    SOURCE_TYPE,
    format_iceberg_uri,
    parse_iceberg_uri,
    safe_catalog_properties,
)

__all__ = [
    "IcebergDatasetSource",  # noqa: F822 - built on first access by __getattr__
    "register_sources",
]


@cache
def _iceberg_source_class() -> type:
    from mlflow.data.dataset_source import DatasetSource

    class IcebergDatasetSource(DatasetSource):
        """An Iceberg table at one snapshot, as a dataset source MLflow can log and parse."""

        def __init__(
            self,
            catalog: str,
            table: str,
            snapshot_id: int,
            catalog_properties: dict[str, Any] | None = None,
        ) -> None:
            if snapshot_id is None:
                raise ValueError(
                    f"an Iceberg dataset source needs a snapshot id (table {table!r}); "
                    "log the snapshot the model was trained on, not the moving table"
                )
            self.catalog = str(catalog)
            self.table = str(table)
            self.snapshot_id = int(snapshot_id)
            self.catalog_properties = safe_catalog_properties(catalog_properties)

        @property
        def uri(self) -> str:
            return format_iceberg_uri(self.catalog, self.table, self.snapshot_id)

        @staticmethod
        def _get_source_type() -> str:
            return SOURCE_TYPE

        def load(self, **kwargs: Any) -> Any:
            """The snapshot as a polars LazyFrame."""
            from mlobs_notebook.sources.tables import load_snapshot

            return load_snapshot(self.uri, catalog_properties=self.catalog_properties, **kwargs)

        @staticmethod
        def _can_resolve(raw_source: Any) -> bool:
            if not isinstance(raw_source, str):
                return False
            try:
                return parse_iceberg_uri(raw_source).snapshot_id is not None
            except ValueError:
                return False

        @classmethod
        def _resolve(cls, raw_source: Any) -> IcebergDatasetSource:
            ref = parse_iceberg_uri(raw_source)
            return cls(ref.catalog, ref.table, _pinned(ref.snapshot_id, raw_source))

        def to_dict(self) -> dict[str, Any]:
            return {
                "uri": self.uri,
                "catalog": self.catalog,
                "table": self.table,
                "snapshot_id": self.snapshot_id,
                "catalog_properties": dict(self.catalog_properties),
            }

        @classmethod
        def from_dict(cls, source_dict: dict[Any, Any]) -> IcebergDatasetSource:
            if "table" not in source_dict and "uri" in source_dict:
                ref = parse_iceberg_uri(source_dict["uri"])
                return cls(
                    ref.catalog, ref.table, _pinned(ref.snapshot_id, ref.uri), source_dict.get("catalog_properties")
                )
            return cls(
                source_dict["catalog"],
                source_dict["table"],
                source_dict["snapshot_id"],
                source_dict.get("catalog_properties"),
            )

        def __eq__(self, other: object) -> bool:
            return type(other) is type(self) and other.to_dict() == self.to_dict()

        def __hash__(self) -> int:
            return hash(self.uri)

        def __repr__(self) -> str:
            return f"IcebergDatasetSource({self.uri!r})"

    IcebergDatasetSource.__module__ = __name__
    IcebergDatasetSource.__qualname__ = "IcebergDatasetSource"
    return IcebergDatasetSource


def _pinned(snapshot_id: int | None, uri: str) -> int:
    if snapshot_id is None:
        raise ValueError(f"{uri!r} names no snapshot; an Iceberg dataset source is one snapshot")
    return snapshot_id


def register_sources() -> None:
    """Register mlobs_notebook's dataset sources with MLflow (safe to call any number of times)."""
    from mlflow.data.dataset_source_registry import _dataset_source_registry

    cls = _iceberg_source_class()
    if cls not in _dataset_source_registry.sources:
        _dataset_source_registry.register(cls)  # type: ignore[arg-type]  # MLflow registers the class


def __getattr__(name: str) -> Any:
    if name == "IcebergDatasetSource":
        return _iceberg_source_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
