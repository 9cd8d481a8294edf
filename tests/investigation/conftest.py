"""Fixtures of the investigation tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory):
    """An empty MLflow sqlite store to copy (creating the schema takes ~9 s, once)."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("empty-store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path
