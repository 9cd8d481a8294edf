"""Write the demo feature table as a real Iceberg table: one snapshot per simulated day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

CATALOG_NAME = "mlobs_demo"
NAMESPACE = "features"
TABLE = "user_activity_features"
# snapshot summary property that ties a snapshot to the simulated day it appended
DAY_PROPERTY = "mlobs.feature_date"


@dataclass(frozen=True)
class IcebergLocation:
    catalog: str
    uri: str
    warehouse: str
    table: str

    def properties(self) -> dict[str, str]:
        return {"type": "sql", "uri": self.uri, "warehouse": self.warehouse}


def open_catalog(location: IcebergLocation):
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog(location.catalog, uri=location.uri, warehouse=location.warehouse)


def write_daily_snapshots(
    root: Path, days: Iterable[tuple[str, pl.DataFrame]]
) -> tuple[IcebergLocation, dict[str, int]]:
    """Append each day's rows as its own snapshot; returns the location and {date: snapshot id}."""
    warehouse = root / "warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    location = IcebergLocation(
        catalog=CATALOG_NAME,
        uri=f"sqlite:///{(root / 'catalog.db').resolve()}",
        warehouse=warehouse.resolve().as_uri(),
        table=f"{NAMESPACE}.{TABLE}",
    )
    catalog = open_catalog(location)
    catalog.create_namespace(NAMESPACE)
    table = None
    snapshots: dict[str, int] = {}
    for day, frame in days:
        arrow = frame.to_arrow()
        if table is None:
            table = catalog.create_table(location.table, schema=arrow.schema)
        table.append(arrow, snapshot_properties={DAY_PROPERTY: day})
        snapshots[day] = table.current_snapshot().snapshot_id
    return location, snapshots
