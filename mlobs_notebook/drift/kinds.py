"""Frames in, and the kind of every column: numeric or categorical."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from mlobs_notebook.drift.statistics import KINDS
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = ["MAX_INTEGER_CATEGORIES", "as_polars", "check_kinds", "infer_kind", "serves_kind"]

# Integer columns with at most this many distinct baseline values are codes, not quantities.
MAX_INTEGER_CATEGORIES = 10


def as_polars(frame: Any, what: str) -> pl.DataFrame | pl.LazyFrame:
    """A polars DataFrame or LazyFrame from a polars or pandas frame."""
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return frame
    if type(frame).__module__.startswith("pandas") and hasattr(frame, "columns"):
        try:
            return pl.from_pandas(frame)
        except Exception as exc:  # pandas objects polars cannot convert (e.g. mixed object columns)
            raise InputError(f"cannot convert the {what} pandas frame to polars: {exc}") from exc
    raise InputError(
        f"the {what} must be a polars DataFrame/LazyFrame or a pandas DataFrame, "
        f"not {type(frame).__name__}"
    )


def infer_kind(dtype: pl.DataType, n_distinct: int | None = None) -> str | None:
    """numeric, categorical, or None for types drift does not cover (dates, lists, structs)."""
    if dtype == pl.Boolean or dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "categorical"
    if dtype.is_integer():
        if n_distinct is not None and n_distinct <= MAX_INTEGER_CATEGORIES:
            return "categorical"
        return "numeric"
    if dtype.is_numeric():
        return "numeric"
    return None


def serves_kind(dtype: pl.DataType, kind: str) -> bool:
    """Whether a column of this dtype can be compared as this kind."""
    if kind == "numeric":
        return dtype.is_numeric()
    return dtype.is_numeric() or infer_kind(dtype) == "categorical"


def check_kinds(kinds: Mapping[str, str] | None, schema: Mapping[str, pl.DataType]) -> dict[str, str]:
    kinds = dict(kinds or {})
    for column, kind in kinds.items():
        if kind not in KINDS:
            raise InputError(f"column {column!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        if column not in schema:
            raise UnknownColumn(
                f"kinds names column {column!r}, which the baseline does not have. "
                f"Columns: {', '.join(schema)}"
            )
        if not serves_kind(schema[column], kind):
            raise InputError(f"column {column!r} is {schema[column]} and cannot be treated as {kind}")
    return kinds
