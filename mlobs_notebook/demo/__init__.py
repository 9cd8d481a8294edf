"""The seeded demo world: a churn model, its Iceberg feature table, MLflow store and lineage.

``build_world(out_dir, seed=7, days=90, scenario="pipeline_bug")`` writes it;
``Manifest.load(out_dir)`` reads back what it holds. Generation is pure (``features``,
``pipeline``, ``scenarios``); the writers (``iceberg_store``, ``mlflow_store``,
``lineage_events``) use the real stores' own clients.
"""

from mlobs_notebook.demo.scenarios import SCENARIOS, Scenario, get_scenario
from mlobs_notebook.demo.world import Manifest, build_world

__all__ = ["SCENARIOS", "Manifest", "Scenario", "build_world", "get_scenario"]
