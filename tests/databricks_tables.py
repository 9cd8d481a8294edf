"""Databricks tables for the tests, in the schemas the Databricks documentation gives, written
independently of the package's own writers (so a writer's mistake cannot hide in both).

Sources (see the research notes behind ``mlobs_notebook/drift/databricks.py``):
- data profiling metric tables: https://docs.databricks.com/aws/en/data-governance/unity-catalog/data-quality-monitoring/data-profiling/monitor-output
  (column list as observed in real monitor output where the page's schema section is unreadable);
- https://docs.databricks.com/aws/en/admin/system-tables/lineage, .../system-tables/jobs.

Types are Spark's as Delta and Spark parquet exports hold them: string, bigint (int64), double,
timestamp (microseconds, UTC), date, struct, array, map.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TS = pa.timestamp("us", tz="UTC")
WINDOW = pa.struct([("start", TS), ("end", TS)])
TEST = pa.struct([("statistic", pa.float64()), ("pvalue", pa.float64())])
CLASSIFICATION_METRIC = pa.struct([("one_vs_all", pa.map_(pa.string(), pa.float64())), ("macro", pa.float64()),
                                   ("weighted", pa.float64())])  # fmt: skip

DRIFT_METRICS = [
    ("window", WINDOW), ("granularity", pa.string()), ("monitor_version", pa.int64()), ("slice_key", pa.string()),
    ("slice_value", pa.string()), ("column_name", pa.string()), ("data_type", pa.string()), ("window_cmp", WINDOW),
    ("drift_type", pa.string()), ("count_delta", pa.int64()), ("avg_delta", pa.float64()),
    ("percent_null_delta", pa.float64()), ("percent_zeros_delta", pa.float64()), ("percent_distinct_delta", pa.float64()),
    ("non_null_columns_delta", pa.struct([("added", pa.int32()), ("missing", pa.int32())])),
    ("js_distance", pa.float64()), ("ks_test", TEST), ("wasserstein_distance", pa.float64()),
    ("population_stability_index", pa.float64()), ("chi_squared_test", TEST), ("tv_distance", pa.float64()),
    ("l_infinity_distance", pa.float64()),
]  # fmt: skip
PROFILE_METRICS = [
    ("window", WINDOW), ("log_type", pa.string()), ("logging_table_commit_version", pa.int32()),
    ("monitor_version", pa.int64()), ("granularity", pa.string()), ("slice_key", pa.string()),
    ("slice_value", pa.string()), ("column_name", pa.string()), ("count", pa.int64()), ("data_type", pa.string()),
    ("num_nulls", pa.int64()), ("avg", pa.float64()), ("quantiles", pa.list_(pa.float64())), ("min", pa.float64()),
    ("max", pa.float64()), ("stddev", pa.float64()), ("num_zeros", pa.int64()), ("num_nan", pa.int64()),
    ("min_length", pa.float64()), ("max_length", pa.float64()), ("avg_length", pa.float64()),
    ("non_null_columns", pa.list_(pa.string())),
    ("frequent_items", pa.list_(pa.struct([("item", pa.string()), ("count", pa.int64())]))),
    ("median", pa.float64()), ("distinct_count", pa.int64()), ("percent_nan", pa.float64()),
    ("percent_null", pa.float64()), ("percent_zeros", pa.float64()), ("percent_distinct", pa.float64()),
]  # fmt: skip
CLASSIFICATION = [
    ("accuracy_score", pa.float64()),
    ("confusion_matrix", pa.list_(pa.struct([("prediction", pa.string()), ("label", pa.string()), ("count", pa.int64())]))),
    ("precision", CLASSIFICATION_METRIC), ("recall", CLASSIFICATION_METRIC), ("f1_score", CLASSIFICATION_METRIC),
    ("log_loss", pa.float64()), ("roc_auc_score", pa.float64()),
]  # fmt: skip
REGRESSION = [
    ("mean_squared_error", pa.float64()), ("root_mean_squared_error", pa.float64()), ("mean_average_error", pa.float64()),
    ("mean_absolute_percentage_error", pa.float64()), ("r2_score", pa.float64()),
]  # fmt: skip

ENTITY_METADATA = pa.struct([
    ("job_info", pa.struct([("job_id", pa.string()), ("job_run_id", pa.string())])),
    ("dashboard_id", pa.string()), ("legacy_dashboard_id", pa.string()), ("notebook_id", pa.string()),
    ("sql_query_id", pa.string()),
    ("dlt_pipeline_info", pa.struct([("dlt_pipeline_id", pa.string()), ("dlt_update_id", pa.string())])),
])  # fmt: skip
_SIDE = [("table_full_name", pa.string()), ("table_catalog", pa.string()), ("table_schema", pa.string()),
         ("table_name", pa.string()), ("path", pa.string()), ("type", pa.string())]  # fmt: skip
_HEAD = [("account_id", pa.string()), ("metastore_id", pa.string()), ("workspace_id", pa.string()),
         ("entity_type", pa.string()), ("entity_id", pa.string()), ("entity_run_id", pa.string())]  # fmt: skip
_TAIL = [("created_by", pa.string()), ("event_time", TS), ("event_date", pa.date32()), ("record_id", pa.string()),
         ("event_id", pa.string()), ("statement_id", pa.string()), ("entity_metadata", ENTITY_METADATA)]  # fmt: skip
TABLE_LINEAGE = _HEAD + [(f"source_{n}", t) for n, t in _SIDE] + [(f"target_{n}", t) for n, t in _SIDE] + _TAIL
COLUMN_LINEAGE = (_HEAD + [(f"source_{n}", t) for n, t in _SIDE] + [("source_column_name", pa.string())]
                  + [(f"target_{n}", t) for n, t in _SIDE] + [("target_column_name", pa.string())] + _TAIL)  # fmt: skip
JOBS = [("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()), ("name", pa.string()),
        ("description", pa.string()), ("creator_id", pa.string()), ("tags", pa.map_(pa.string(), pa.string())),
        ("change_time", TS), ("delete_time", TS), ("run_as", pa.string()), ("trigger_type", pa.string())]  # fmt: skip
JOB_TASKS = [("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()),
             ("task_key", pa.string()), ("depends_on_keys", pa.list_(pa.string())), ("change_time", TS),
             ("delete_time", TS)]  # fmt: skip
JOB_RUN_TIMELINE = [
    ("account_id", pa.string()), ("workspace_id", pa.string()), ("job_id", pa.string()), ("run_id", pa.string()),
    ("period_start_time", TS), ("period_end_time", TS), ("trigger_type", pa.string()), ("run_type", pa.string()),
    ("run_name", pa.string()), ("compute_ids", pa.list_(pa.string())), ("result_state", pa.string()),
    ("termination_code", pa.string()), ("job_parameters", pa.map_(pa.string(), pa.string())),
]  # fmt: skip


def table(columns: list[tuple[str, pa.DataType]], rows: list[dict], *, extra: list[tuple[str, pa.DataType]] = (),
          drop: tuple[str, ...] = ()) -> pa.Table:  # fmt: skip
    """Rows in the documented schema (missing keys are null), plus ``extra`` columns, less ``drop``."""
    schema = pa.schema([c for c in [*columns, *extra] if c[0] not in drop])
    return pa.Table.from_pylist([{k: v for k, v in r.items() if k not in drop} for r in rows], schema=schema)


def write(data: pa.Table, path: Path, how: str) -> Path:
    """``how``: ``parquet`` (one file), ``spark`` (a folder of part files, as ``df.write.parquet``
    leaves it, with ``_SUCCESS``) or ``delta`` (deltalake)."""
    if how == "parquet":
        path = path.with_suffix(".parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(data, path)
    elif how == "spark":
        path.mkdir(parents=True, exist_ok=True)
        half = max(1, data.num_rows // 2)
        pq.write_table(data.slice(0, half), path / "part-00000-5d1e3c2a-c000.snappy.parquet")
        pq.write_table(data.slice(half), path / "part-00001-5d1e3c2a-c000.snappy.parquet")
        (path / "_SUCCESS").write_text("")
    else:
        from deltalake import write_deltalake

        write_deltalake(str(path), data)
    return path
