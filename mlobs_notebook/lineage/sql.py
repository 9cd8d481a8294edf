"""Two versions of a job's SQL compared as SQL, not as text: cosmetic or semantic, and where.

A reformatted query (whitespace, comments, letter case of keywords) computes what it computed
before; a new join key, filter or projection does not. Both versions are parsed by sqlglot in the
job's dialect (the SQL facet's ``dialect``, else sqlglot's default) and compared as syntax trees,
which ignore layout and comments. Jinja placeholders (``{{ ds }}``, ``{% ... %}``) are replaced by
the same stand-in on both sides before parsing. When either side does not parse, the texts are
compared with comments removed and whitespace collapsed, and any other difference counts as
semantic.

A semantic change names what it touched, from sqlglot's tree diff
(`sqlglot.diff <https://sqlglot.com/sqlglot/diff.html>`_), by the clause each edit falls in: a
join key (``ON`` / ``USING``), a join (its table or kind), a filter (``WHERE``, ``HAVING``,
``QUALIFY``), a projection (a ``SELECT`` expression; the outermost query's output columns are
named), grouping, a source table, ordering or a limit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["SqlChange", "compare_sql"]

_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# The clause an edit falls in, by the key its subtree hangs from in sqlglot's tree.
_CLAUSES = {
    "on": "join key", "using": "join key", "joins": "join", "where": "filter", "having": "filter",
    "qualify": "filter", "group": "grouping", "from": "source", "from_": "source", "order": "ordering", "limit": "limit",
}


@dataclass(frozen=True)
class SqlChange:
    """How one version of a query differs from the previous one.

    ``semantic``: False when only layout, comments or letter case changed. ``aspects``: what a
    semantic change touched (``join key``, ``join``, ``filter``, ``projection``, ``grouping``,
    ``source``, ``ordering``, ``limit``, ``other``; ``text`` when the SQL did not parse).
    ``columns``: the output columns whose projection changed, when the change is only that
    (empty: the change reaches every row, or could not be placed). ``parsed``: both sides parsed.
    """

    semantic: bool
    aspects: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    parsed: bool = True

    def describe(self) -> str:
        if not self.semantic:
            return "only cosmetically (layout, comments, letter case)"
        if not self.parsed:
            return "in its SQL text (it could not be parsed as SQL)"
        what = ", ".join(
            f"projection of {', '.join(self.columns)}" if a == "projection" and self.columns else a
            for a in self.aspects
        )
        return f"in its SQL: {what}"


def _stand_ins(sql: str) -> str:
    return _TEMPLATE.sub(lambda m: "mlobs_tpl_" + hashlib.sha1(m.group(0).encode()).hexdigest()[:8], sql)


def _plain(sql: str) -> str:
    text = _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", sql))
    return " ".join(text.split()).rstrip(";").strip().lower()


def _parse(sql: str, dialect: str | None) -> list[Any] | None:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        trees = [t for t in sqlglot.parse(_stand_ins(sql), read=_dialect(dialect)) if t is not None]
    except (SqlglotError, ValueError, KeyError, RecursionError):
        return None
    return trees or None


def _dialect(dialect: str | None) -> str | None:
    from sqlglot.dialects.dialect import Dialect

    if not dialect:
        return None
    name = dialect.lower()
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        return None  # a dialect sqlglot does not know: its default grammar
    return name


def compare_sql(before: str, after: str, dialect: str | None = None) -> SqlChange:
    """Compare two versions of a job's SQL; see the module docstring."""
    old, new = _parse(before, dialect), _parse(after, dialect)
    if old is None or new is None:
        same = _plain(before) == _plain(after)
        return SqlChange(semantic=not same, aspects=() if same else ("text",), parsed=False)
    if len(old) == len(new) and all(a == b for a, b in zip(old, new, strict=True)):
        return SqlChange(semantic=False)
    if len(old) != len(new):
        return SqlChange(semantic=True, aspects=("other",))
    aspects: dict[str, None] = {}
    columns: dict[str, None] = {}
    row_level = False
    for a, b in zip(old, new, strict=True):
        if a == b:
            continue
        for aspect, column in _edits(a, b):
            aspects[aspect] = None
            if aspect == "projection" and column is not None:
                columns[column] = None
            else:
                row_level = True
    return SqlChange(
        semantic=True,
        aspects=tuple(aspects) or ("other",),
        columns=() if row_level else tuple(columns),
    )


def _edits(before: Any, after: Any) -> list[tuple[str, str | None]]:
    """(aspect, output column or None) for every edit of sqlglot's diff between two trees."""
    from sqlglot.diff import Insert, Keep, Move, Remove, Update, diff

    found, moved = [], []
    for edit in diff(before, after, delta_only=True):
        if isinstance(edit, Insert | Remove):
            found.append(_clause(edit.expression))
        elif isinstance(edit, Update):
            found += [_clause(edit.source), _clause(edit.target)]
        elif isinstance(edit, Move):
            # a subtree carried over unchanged into a replaced parent (a join whose kind changed
            # moves its ON condition): it says where, not what, changed
            moved += [_clause(edit.source), _clause(edit.target)]
        elif not isinstance(edit, Keep):  # pragma: no cover - sqlglot's edit types are the five above
            found.append(("other", None))
    return found or moved


def _clause(node: Any) -> tuple[str, str | None]:
    """The clause a node falls in, walking up to the nearest one; a projection names its output
    column when it belongs to the outermost query."""
    from sqlglot import exp

    while node is not None:
        parent = node.parent
        key = node.arg_key
        if key in _CLAUSES and parent is not None:
            return _CLAUSES[key], None
        if key == "expressions" and isinstance(parent, exp.Select):
            outermost = parent.find_ancestor(exp.Select, exp.Subquery, exp.CTE) is None
            name = node.alias_or_name if outermost else None
            return "projection", name or None
        node = parent
    return "other", None
