"""Which columns an investigation compares: the model's inputs, else the training columns.

The model's logged signature names its inputs (read from the MLmodel file, never the pickle).
Without one, every training column is a feature except the time column, the label-like columns
the caller excludes, and id columns (``id`` or a name ending in ``_id``), which identify rows and
would read as drift whenever new rows arrive. ``mlobs drift`` applies the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.investigation.frames import column_names

__all__ = ["choose_features", "is_id_column"]


def is_id_column(name: str) -> bool:
    """Whether a column identifies rows (``id``, ``user_id``, ``order_id`` ...), by its name."""
    lowered = name.lower()
    return lowered == "id" or lowered.endswith("_id")


def choose_features(
    baseline: Any, current: Any, time_column: str, columns: Sequence[str] | None,
    model_inputs: Sequence[str] | None, exclude: Sequence[str],
) -> tuple[tuple[str, ...], list[str]]:
    """(features, notes): ``columns`` when given (checked), else the model's inputs, else the
    training columns by the rule in the module docstring. The frames are polars or Spark's."""
    base_cols = column_names(baseline)
    cur_cols = column_names(current)
    notes: list[str] = []
    if time_column not in cur_cols:
        raise UnknownColumn(
            f"time column {time_column!r} is not in the current data; its columns are: "
            f"{', '.join(cur_cols)}. Pass --time-column with one of them."
        )
    if columns:
        missing = [c for c in columns if c not in base_cols and c not in cur_cols]
        if missing:
            raise UnknownColumn(
                f"column(s) {', '.join(missing)} are in neither the training data nor the current data; "
                f"known columns: {', '.join(sorted(set(base_cols) | set(cur_cols)))}"
            )
        if time_column in columns:
            notes.append(f"the time column {time_column!r} windows the data; it is not compared as a feature")
        return tuple(dict.fromkeys(c for c in columns if c != time_column)), notes
    if model_inputs:
        chosen = [c for c in model_inputs if c in base_cols or c in cur_cols]
        notes.append(f"features taken from the model's signature ({len(chosen)} inputs)")
    else:
        chosen = [
            c for c in base_cols
            if c != time_column and c not in exclude and not is_id_column(c)
        ]
        notes.append(
            "the model has no signature: features are the training columns except the time column, "
            f"id columns and {', '.join(exclude) or 'nothing else'}"
        )
    return tuple(c for c in chosen if c not in exclude and c != time_column), notes
