"""A metric asked for by one name and logged under another: the case people type, the names
``mlflow.models.evaluate`` logs, and which way is better."""

from __future__ import annotations

import pytest

from mlobs_notebook.sources.metric_names import higher_is_better, pick


@pytest.mark.parametrize(("asked", "logged", "read"), [
    ("auc", {"auc", "roc_auc"}, "auc"),            # the name itself first
    ("auc", {"AUC", "latency"}, "AUC"),            # another case
    ("auc", {"roc_auc", "f1_score"}, "roc_auc"),   # evaluate's name
    ("f1", {"F1_Score"}, "F1_Score"),
    ("pr_auc", {"precision_recall_auc"}, "precision_recall_auc"),
    ("rmse", {"root_mean_squared_error"}, "root_mean_squared_error"),
    ("auc", {"accuracy"}, None),
])
def test_pick(asked, logged, read):
    assert pick(asked, logged) == read


@pytest.mark.parametrize(("metric", "better_high"), [
    ("auc", True), ("f1_score", True), ("r2", True), ("log_loss", False), ("rmse", False),
    ("mean_absolute_error", False), ("val_loss", False), ("brier", False), ("recall", True),
])
def test_losses_and_errors_are_better_low(metric, better_high):
    assert higher_is_better(metric) is better_high
