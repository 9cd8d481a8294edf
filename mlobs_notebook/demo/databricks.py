"""``mlobs demo --export-databricks DIR``: the demo world as a Databricks team would have it.

Written as Delta tables (deltalake), in the documented schemas:

- ``DIR/monitor/user_activity_features_drift_metrics`` and ``..._profile_metrics``: a TimeSeries
  monitor of the feature table (the investigation's drift, :meth:`DriftReport.to_databricks_drift_metrics`);
- ``DIR/monitor/churn_predictions_profile_metrics``: an InferenceLog monitor's model quality, the
  daily ``roc_auc_score`` per ``model_version`` (``'*'``: all models) on ``':table'`` rows,
  windowed by the day of each evaluation as the MLflow runs are dated;
- ``DIR/system/access/{table,column}_lineage`` and ``DIR/system/lakeflow/{jobs,job_tasks,job_run_timeline}``:
  the scheduler's lineage as Unity Catalog system tables (:mod:`~mlobs_notebook.demo.system_tables`);
- ``DIR/export.json``: where each table is, the workspace id and the run ids (OpenLineage ->
  Databricks), so a suspect found through either lineage can be compared.

The export is written beside ``DIR`` and moved into place at the end: a failure leaves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from mlobs_notebook.errors import MissingDependency, OutputUnwritable

if TYPE_CHECKING:
    from mlobs_notebook.demo.world import Manifest
    from mlobs_notebook.investigation import Investigation

__all__ = ["DatabricksExport", "check_export_target", "export_databricks"]

FEATURE_TABLE = "user_activity_features"
PREDICTIONS_TABLE = "churn_predictions"
EXPORT_FILE = "export.json"


@dataclass(frozen=True)
class DatabricksExport:
    """Where an export wrote each table, and the run ids it gave the demo's OpenLineage runs."""

    path: str
    drift_metrics: str
    profile_metrics: str
    quality_metrics: str
    system_tables: str
    workspace_id: str
    run_ids: dict[str, str]

    @classmethod
    def load(cls, folder: str | os.PathLike) -> DatabricksExport:
        return cls(**json.loads((Path(folder) / EXPORT_FILE).read_text()))


def export_databricks(
    manifest: Manifest, investigation: Investigation, out_dir: str | os.PathLike, *, force: bool = False
) -> DatabricksExport:
    """Write the world's drift (from ``investigation``) and lineage as Databricks tables."""
    from mlobs_notebook.demo.system_tables import WORKSPACE_ID

    out = check_export_target(out_dir, force)
    staging = out.with_name(f".{out.name}.writing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        run_ids = _write(manifest, investigation, staging)
        final = DatabricksExport(
            path=str(out),
            drift_metrics=str(out / "monitor" / f"{FEATURE_TABLE}_drift_metrics"),
            profile_metrics=str(out / "monitor" / f"{FEATURE_TABLE}_profile_metrics"),
            quality_metrics=str(out / "monitor" / f"{PREDICTIONS_TABLE}_profile_metrics"),
            system_tables=str(out / "system"),
            workspace_id=WORKSPACE_ID,
            run_ids=run_ids,
        )
        (staging / EXPORT_FILE).write_text(json.dumps(asdict(final), indent=2))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputUnwritable(f"cannot write the Databricks export to {out}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def check_export_target(out_dir: str | os.PathLike, force: bool) -> Path:
    """The export's absolute path; :class:`OutputUnwritable` unless it is new, an empty folder,
    or (``force``) a folder to replace."""
    out = Path(out_dir).expanduser().absolute()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not force)):
        raise OutputUnwritable(f"{out} exists and is not an empty folder; pass --force to replace it, or choose another")
    return out


def _write(manifest: Manifest, inv: Investigation, root: Path) -> dict[str, str]:
    import pyarrow as pa

    try:
        from deltalake import write_deltalake
    except ImportError as exc:
        raise MissingDependency("deltalake", "delta", "Writing the Databricks export as Delta tables") from exc

    from mlobs_notebook.demo.system_tables import SCHEMAS, system_table_rows
    from mlobs_notebook.lineage import load_lineage

    monitor = root / "monitor"
    report = inv.drift
    quality = inv.metric.select("window_start", roc_auc_score="value")
    version = str(manifest.model_version)
    tables: dict[str, pl.DataFrame] = {
        f"{FEATURE_TABLE}_drift_metrics": report.to_databricks_drift_metrics(),
        f"{FEATURE_TABLE}_profile_metrics": report.to_databricks_profile_metrics(),
        f"{PREDICTIONS_TABLE}_profile_metrics": pl.concat([
            report.to_databricks_profile_metrics(quality=quality, model_id=("model_version", model))
            for model in ("*", version)
        ]),
    }  # fmt: skip
    for name, frame in tables.items():
        write_deltalake(str(monitor / name), frame.to_arrow())
    rows, run_ids = system_table_rows(load_lineage(manifest.lineage_file))
    for name, schema in SCHEMAS.items():
        write_deltalake(str(root / "system" / name), pa.Table.from_pylist(rows[name], schema=schema))
    return run_ids
