"""Iceberg table URIs, ``iceberg://<catalog>/<namespace>.<table>[@<snapshot_id>]``, and the
catalog settings safe to record beside them. Pure: no pyiceberg, no MLflow."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SAFE_CATALOG_KEYS",
    "SOURCE_TYPE",
    "IcebergRef",
    "format_iceberg_uri",
    "parse_iceberg_uri",
    "safe_catalog_properties",
]

SOURCE_TYPE = "iceberg"

# settings that say where a catalog is, never who may read it
SAFE_CATALOG_KEYS = ("type", "uri", "warehouse")

_ICEBERG_URI = re.compile(
    r"^iceberg://(?P<catalog>[^/@]+)/(?P<table>[^/@]+\.[^/@]+?)(?:@(?P<snapshot>-?\d+))?$"
)


@dataclass(frozen=True)
class IcebergRef:
    """An Iceberg table reference parsed from an ``iceberg://`` URI (snapshot id optional)."""

    catalog: str
    table: str
    snapshot_id: int | None = None

    @property
    def uri(self) -> str:
        return format_iceberg_uri(self.catalog, self.table, self.snapshot_id)


def format_iceberg_uri(catalog: str, table: str, snapshot_id: int | None = None) -> str:
    at = f"@{int(snapshot_id)}" if snapshot_id is not None else ""
    return f"iceberg://{catalog}/{table}{at}"


def parse_iceberg_uri(uri: str) -> IcebergRef:
    """Parse ``iceberg://<catalog>/<ns>.<table>[@<snapshot_id>]``; raise ``ValueError`` if not one."""
    match = _ICEBERG_URI.match(uri.strip()) if isinstance(uri, str) else None
    if match is None:
        raise ValueError(
            f"{uri!r} is not an Iceberg URI; expected "
            "'iceberg://<catalog>/<namespace>.<table>[@<snapshot_id>]'"
        )
    snapshot = match.group("snapshot")
    return IcebergRef(
        catalog=match.group("catalog"),
        table=match.group("table"),
        snapshot_id=int(snapshot) if snapshot is not None else None,
    )


def safe_catalog_properties(properties: Mapping[str, Any] | None) -> dict[str, str]:
    """Keep only the settings that locate a catalog; credentials never reach MLflow."""
    return {k: str(v) for k, v in (properties or {}).items() if k in SAFE_CATALOG_KEYS}
