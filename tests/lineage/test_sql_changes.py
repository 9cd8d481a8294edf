"""Job definitions compared as SQL (sqlglot): cosmetic or semantic, which clause, which output
columns; and failures in a row named by the run that started them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlobs_notebook.lineage import DatasetRef, load_lineage
from mlobs_notebook.lineage.sql import compare_sql

from .olwriter import Writer

BUILD = (
    "INSERT INTO mart.features SELECT s.account_id, s.amount AS spend, d.tier AS tier "
    "FROM staging.orders s LEFT JOIN dims.accounts d ON d.account_id = s.account_id WHERE s.ds = '{{ ds }}'"
)
COSMETIC = (
    "-- one column a line\ninsert into mart.features\nselect s.account_id,\n       s.amount as spend,  -- in euros\n"
    "       d.tier as tier\nfrom staging.orders s\n  left join dims.accounts d on d.account_id = s.account_id\n"
    "where s.ds = '{{ ds }}';"
)


@pytest.mark.parametrize(("after", "semantic", "aspects", "columns"), [
    (COSMETIC, False, (), ()),
    (BUILD.replace("s.amount AS spend", "s.amount * 100 AS spend"), True, ("projection",), ("spend",)),
    (BUILD.replace("d.account_id = s.account_id", "d.legacy_id = s.account_id"), True, ("join key",), ()),
    (BUILD + " AND s.channel <> 'web'", True, ("filter",), ()),
    (BUILD.replace("LEFT JOIN", "INNER JOIN"), True, ("join",), ()),
    (BUILD.replace("staging.orders", "staging.orders_v2"), True, ("source",), ()),
])
def test_compare_sql_tells_cosmetic_from_semantic_and_names_the_clause(after, semantic, aspects, columns):
    found = compare_sql(BUILD, after, "trino")
    assert found.semantic is semantic and found.parsed
    assert found.aspects == aspects
    assert found.columns == columns


def test_a_projection_inside_a_cte_names_no_output_column():
    before = "WITH t AS (SELECT a, b FROM x) INSERT INTO y SELECT a, b FROM t"
    after = "WITH t AS (SELECT a * 2 AS a, b FROM x) INSERT INTO y SELECT a, b FROM t"
    found = compare_sql(before, after)
    assert found.semantic and found.aspects == ("projection",) and found.columns == ()


def test_unparseable_sql_falls_back_to_text_without_comments_and_layout():
    template = "SELECT {% for c in cols %}{{ c }},{% endfor %} 1 FROM t"
    assert compare_sql(template, template + "  -- trailing comment\n") == compare_sql(template, template)
    found = compare_sql(template, template.replace("FROM t", "FROM t2"))
    assert found.semantic and not found.parsed and found.aspects == ("text",)
    assert "could not be parsed" in found.describe()
    # a dialect sqlglot does not know: its default grammar, not an error
    assert not compare_sql(BUILD, COSMETIC, "teradata-ish").semantic


def _day(n: int, hour: int = 3) -> datetime:
    return datetime(2025, 5, 1, hour, tzinfo=UTC) + timedelta(days=n)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """``load`` copies orders into staging (fails on days 6 to 9; fails once and is retried on
    day 2); ``build`` joins staging and dims into the mart: reformatted on day 3, spend in cents
    on day 5, joined on a wrong key on day 8."""
    path = tmp_path_factory.mktemp("sqlchanges") / "events.jsonl"
    w = Writer(path, namespace="shop-dagster")
    lake, src = "s3://shop", "postgres://shop:5432"
    runs: dict[str, str] = {}
    staging_lineage = {"staging/orders": {"amount": [(src, "shop.orders", "amount")]}}
    mart_lineage = {"mart/features": {"spend": [(lake, "staging/orders", "amount")],
                                      "tier": [(lake, "dims/accounts", "tier")]}}
    for n in range(10):
        if n == 2:
            runs["retried"] = w.run("load", _day(n, 1), inputs=[(src, "shop.orders")], outputs=[(lake, "staging/orders")],
                                    fail="connection reset")
        fail = "AccessDenied on the export bucket" if n >= 6 else None
        runs[f"load{n}"] = w.run("load", _day(n), inputs=[(src, "shop.orders")], outputs=[(lake, "staging/orders")],
                                 lineage=staging_lineage, fail=fail)
        sql = BUILD
        if n >= 3:
            sql = COSMETIC
        if n >= 5:
            sql = BUILD.replace("s.amount AS spend", "s.amount * 100 AS spend")
        if n >= 8:
            sql = sql.replace("d.account_id = s.account_id", "d.legacy_id = s.account_id")
        runs[f"build{n}"] = w.run("build", _day(n, 4), inputs=[(lake, "staging/orders"), (lake, "dims/accounts")],
                                  outputs=[(lake, "mart/features")], sql=sql, lineage=mart_lineage)
    return load_lineage(path), runs


MART = DatasetRef("s3://shop", "mart/features")


def test_definition_changes_carry_their_meaning_and_projection_changes_their_columns(pipeline):
    graph, runs = pipeline
    tier = [c for c in graph.changes(MART, "tier", since=_day(0, 0)) if c.kind == "job_definition"]
    assert [(c.run_id, c.semantic, c.aspects) for c in tier] == [
        (runs["build3"], False, ()), (runs["build8"], True, ("join key",)),
    ]  # the projection of spend (day 5) does not reach tier
    assert "only cosmetically" in tier[0].detail and "join key" in tier[1].detail
    spend = [c for c in graph.changes(MART, "spend", since=_day(0, 0)) if c.kind == "job_definition"]
    assert [(c.run_id, c.changed_columns) for c in spend] == [
        (runs["build3"], ()), (runs["build5"], ("spend",)), (runs["build8"], ()),
    ]
    assert spend[0].to_dict()["semantic"] is False


def test_failures_in_a_row_name_the_run_that_started_them(pipeline):
    graph, runs = pipeline
    failures = [c for c in graph.changes(MART, "spend", since=_day(8, 0)) if c.kind == "failure"]
    assert [c.run_id for c in failures] == [runs["load8"], runs["load9"]]
    assert {c.streak_start for c in failures} == {runs["load6"]}
    assert [c.streak_runs for c in failures] == [3, 4]
    assert failures[0].streak_since == _day(6) + timedelta(minutes=5)
    assert f"since run {runs['load6']}" in failures[-1].detail
    # a failure retried at once starts no streak
    retried = [c for c in graph.changes(MART, "spend", since=_day(2, 0), until=_day(2, 2)) if c.kind == "failure"]
    assert [(c.run_id, c.streak_start, c.streak_runs) for c in retried] == [(runs["retried"], runs["retried"], 1)]
    assert "since run" not in retried[0].detail
