"""Where data comes from: MLflow's registry and runs, tables on disk and object storage, metric series.

Modules: ``mlflow_access`` (one way to reach a store and read its errors), ``models`` (model
version, training datasets, signature inputs), ``evaluations`` (evaluation runs and run
histories as metric points), ``model_metrics`` (the LoggedModel's MLflow 3 metrics),
``predictions`` (a metric per window from a predictions log), ``metric_names``, ``refs`` (source
references), ``scan`` (readers: classify, pin as of a moment, scan), ``objectstore`` (s3, gs, az),
``delta``, ``iceberg``, ``tables`` (snapshots and current data), ``digests`` (is a snapshot still
what MLflow recorded?), ``dataset_sources`` and ``iceberg_uri`` (MLflow's Iceberg dataset source).
"""
