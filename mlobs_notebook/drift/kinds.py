"""Frames in, and the kind of every column (numeric or categorical), read from its values.

- Text, booleans, pandas ``category`` and polars ``Enum`` columns are categorical.
- Integer columns with at most ``MAX_INTEGER_CATEGORIES`` distinct baseline values are codes,
  hence categorical; so are float columns whose values are all whole numbers with that few
  distinct values (integer codes that pandas turned into floats because one value was missing).
- A column whose every value is missing (polars type ``Null``, as parquet stores an all-None
  pandas column) has no values to tell: it is compared like the other side's column, or as
  categorical when both sides are empty. Its null rate is what moves.

Categories are compared by value, not by their text in one dtype: ``category_key`` spells
``1``, ``1.0`` and (against an integer baseline) ``True`` alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from mlobs_notebook.drift.statistics import KINDS
from mlobs_notebook.errors import InputError, UnknownColumn

__all__ = [
    "MAX_INTEGER_CATEGORIES",
    "as_polars",
    "category_key",
    "check_kinds",
    "infer_kind",
    "serves_kind",
]

# Integer columns with at most this many distinct baseline values are codes, not quantities.
MAX_INTEGER_CATEGORIES = 10
# Floats above this are not read as integer codes (2**53: the last exactly represented integer).
_EXACT_INTEGERS = 2.0**53


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


def infer_kind(dtype: pl.DataType, n_distinct: int | None = None, whole: bool = False) -> str | None:
    """numeric, categorical, or None for types drift does not cover (dates, lists, structs).

    ``n_distinct`` is the count of distinct non-null baseline values (integers, and floats that
    are all ``whole`` numbers, with few of them are codes); a ``Null`` column is categorical
    unless the other side says otherwise (see the module docstring).
    """
    if dtype == pl.Null or dtype == pl.Boolean or dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "categorical"
    if dtype.is_integer() or (dtype.is_float() and whole):
        if n_distinct is not None and n_distinct <= MAX_INTEGER_CATEGORIES:
            return "categorical"
        return "numeric"
    if dtype.is_numeric():
        return "numeric"
    return None


def is_whole(column: str) -> pl.Expr:
    """True when every finite non-null value of a float column is a whole number within 2**53
    (NaN and null are missing, not values; a column with no value is not whole)."""
    x = pl.col(column).cast(pl.Float64)
    values = x.filter(x.is_not_nan())
    return ((values == values.round()) & (values.abs() < _EXACT_INTEGERS)).all() & (values.len() > 0)


def serves_kind(dtype: pl.DataType, kind: str) -> bool:
    """Whether a column of this dtype can be compared as this kind (a Null column serves both)."""
    if dtype == pl.Null:
        return True
    if kind == "numeric":
        return dtype.is_numeric()
    return dtype.is_numeric() or infer_kind(dtype) == "categorical"


def category_key(column: str, dtype: pl.DataType, like: pl.DataType | None = None) -> pl.Expr:
    """The column as the text its categories are compared by, so values compare by value.

    Whole floats read as integers (``1.0`` is ``"1"``) and NaN is missing, so integer codes that
    arrive as floats meet their baseline categories; booleans read ``"true"``/``"false"``, or
    ``"1"``/``"0"`` against a numeric ``like`` (the baseline's type), and 1 and 0 read
    ``"true"``/``"false"`` against a boolean ``like``. Other types are their polars text.
    """
    x = pl.col(column)
    boolean_like = like == pl.Boolean and dtype != pl.Boolean
    if dtype == pl.Boolean:
        if like is not None and like != pl.Boolean and like.is_numeric():
            return x.cast(pl.Int8).cast(pl.String).alias(column)
        return x.cast(pl.String).alias(column)
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        f = x.cast(pl.Float64)
        whole = (f == f.round()) & (f.abs() < _EXACT_INTEGERS)
        text = pl.when(f.is_nan()).then(None).when(whole).then(f.cast(pl.Int64).cast(pl.String)).otherwise(f.cast(pl.String))
        key = text
    else:
        key = x.cast(pl.String)
    if boolean_like and dtype.is_numeric():
        key = pl.when(key == "1").then(pl.lit("true")).when(key == "0").then(pl.lit("false")).otherwise(key)
    return key.alias(column)


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
