"""The seeded demo worlds: a churn model with its Iceberg feature table, MLflow store and lineage;
and (the ``rag_*`` scenarios) a RAG assistant with its traces, assessments and index pipeline.

``build_world(out_dir, seed=7, days=90, scenario="pipeline_bug")`` writes it;
``Manifest.load(out_dir)`` reads back what it holds. Generation is pure (``features``,
``pipeline``, ``scenarios``); the writers (``iceberg_store``, ``mlflow_store``,
``lineage_events``) use the real stores' own clients.
"""

from mlobs_notebook.demo.scenarios import SCENARIOS, Scenario, get_scenario
from mlobs_notebook.demo.world import Manifest, build_world, load_manifest

__all__ = ["SCENARIOS", "Manifest", "Scenario", "build_world", "get_scenario", "load_manifest"]
