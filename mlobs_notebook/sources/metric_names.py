"""Metric names as users and tools log them: the same metric under several names, and which way is
better. Pure: names in, names out.

``mlflow.models.evaluate`` logs ``roc_auc``, ``f1_score``, ``accuracy_score``,
``precision_recall_auc``, ``root_mean_squared_error`` ...; people log ``auc``, ``f1``, ``rmse``.
A series asked for by one name is read under another only when the asked name has no values at
all, and the evidence says so.
"""

from __future__ import annotations

__all__ = ["higher_is_better", "pick", "synonyms"]

_GROUPS: tuple[tuple[str, ...], ...] = (
    ("auc", "roc_auc", "roc_auc_score"),
    ("pr_auc", "precision_recall_auc", "average_precision"),
    ("f1", "f1_score"),
    ("accuracy", "accuracy_score"),
    ("precision", "precision_score"),
    ("recall", "recall_score"),
    ("log_loss", "logloss"),
    ("brier", "brier_score", "brier_score_loss"),
    ("rmse", "root_mean_squared_error"),
    ("mae", "mean_absolute_error"),
    ("mse", "mean_squared_error"),
    ("r2", "r2_score"),
)

# errors and losses: a rise is the degradation
_LOWER = frozenset({"log_loss", "logloss", "brier", "brier_score", "brier_score_loss", "rmse", "mae", "mse",
                    "root_mean_squared_error", "mean_absolute_error", "mean_squared_error", "max_error",
                    "mean_absolute_percentage_error", "mape", "latency", "latency_ms"})


def synonyms(metric: str) -> tuple[str, ...]:
    """Other names of ``metric``, most common first (empty when it has none)."""
    for group in _GROUPS:
        if metric in group:
            return tuple(name for name in group if name != metric)
    return ()


def pick(metric: str, logged: set[str]) -> str | None:
    """The name under which ``metric`` was logged: itself, itself in another case (``AUC``), or one
    of its other names (:func:`synonyms`, in any case); None when none was logged."""
    by_case = {name.lower(): name for name in sorted(logged)}
    for wanted in (metric, *synonyms(metric.lower())):
        if wanted in logged:
            return wanted
        if wanted.lower() in by_case:
            return by_case[wanted.lower()]
    return None


def higher_is_better(metric: str) -> bool:
    """False for losses and errors (``log_loss``, ``rmse``, ``*_error``, ``*_loss``), else True."""
    name = metric.lower()
    return not (name in _LOWER or name.endswith(("_loss", "_error", "_rmse", "_mae", "_mse")))
