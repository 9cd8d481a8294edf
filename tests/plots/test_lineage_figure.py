"""The lineage drawing on the demo world's pipeline_bug story."""

from __future__ import annotations

import html

import pytest
from panels_support import DRIFTED, target, week_before_incident

from mlobs_notebook.errors import InputError
from mlobs_notebook.plots import _style, expand, lineage_figure, node_details

SESSIONIZE = "job:churn-airflow:churn_features_daily.sessionize"
BUILD = "job:churn-airflow:churn_features_daily.build_features"
INGEST_SESSIONS = "job:churn-airflow:churn_features_daily.ingest_raw_sessions"


def _trace(fig, name):
    [trace] = [t for t in fig.data if t.name == name]
    return trace


def _rings(fig, name):
    trace = _trace(fig, name)
    return dict(zip(trace.customdata, trace.marker.line.color, strict=True))


def _x(fig):
    return {i: x for t in fig.data if t.customdata is not None for i, x in zip(t.customdata, t.x, strict=True)}


@pytest.fixture(scope="module")
def column_path(world, demo_lineage):
    since, until = week_before_incident(world)
    up = demo_lineage.upstream(target(world), DRIFTED)
    changes = demo_lineage.changes(target(world), DRIFTED, since, until)
    return up, changes, since, until


def test_column_upstream_draws_its_path_and_marks_sessionize_changed(column_path, demo_lineage):
    up, changes, since, until = column_path
    fig = lineage_figure(up, changes, graph=demo_lineage, since=since, until=until)
    assert set(_trace(fig, "jobs").customdata) == {BUILD, SESSIONIZE, INGEST_SESSIONS}
    assert {i.rsplit(":", 1)[-1] for i in _trace(fig, "columns").customdata} == {
        DRIFTED, "session_count_7d", "session_id", "event_id"
    }
    datasets = {i.split(":", 1)[1] for i in _trace(fig, "datasets").customdata}
    assert "s3://churn-lake:warehouse/analytics/user_sessions" in datasets
    assert not any("billing" in d or "invoices" in d for d in datasets)  # column lineage leaves billing out
    rings = _rings(fig, "jobs")
    assert rings[SESSIONIZE] == _style.CHANGED
    assert rings[BUILD] == rings[INGEST_SESSIONS] == "#555555"
    # left to right: sources first, the feature table last
    x = _x(fig)
    assert x[INGEST_SESSIONS] < x[SESSIONIZE] < x[BUILD] < x[f"dataset:{target_id(up)}"]
    hover = dict(zip(_trace(fig, "jobs").customdata, _trace(fig, "jobs").hovertext, strict=True))
    assert "job_definition" in hover[SESSIONIZE] and "job_definition" not in hover[BUILD]


def target_id(up):
    return f"{up.target.namespace}:{up.target.name}"


def test_dataset_level_includes_billing_and_marks_the_failed_ingest(world, demo_lineage):
    up = demo_lineage.upstream(target(world))
    changes = demo_lineage.changes(target(world), since=world.training_date, until=world.incident_date)
    fig = lineage_figure(up, changes, highlight=[world.suspect_job])
    rings = _rings(fig, "jobs")
    assert rings["job:churn-airflow:billing_daily.ingest_invoices"] == _style.FAILED
    assert rings[SESSIONIZE] == _style.SUSPECT  # the suspect ring wins over "changed"
    billing = [j for j in rings if "aggregate_billing" in j or "billing" in j]
    assert billing and all(rings[j] in (_style.CHANGED, _style.FAILED, "#555555") for j in billing)
    assert "columns" not in [t.name for t in fig.data if t.customdata]  # no columns at dataset level


def test_selected_node_gets_the_selection_ring(column_path):
    up, changes, *_ = column_path
    fig = lineage_figure(up, changes, selected=BUILD)
    assert _rings(fig, "jobs")[BUILD] == _style.SELECTED


def test_node_details_give_facets_runs_and_changes(column_path, demo_lineage):
    up, changes, since, until = column_path
    job = node_details(demo_lineage, up, SESSIONIZE, changes, since=since, until=until)
    expected_runs = [r for r in demo_lineage.runs_of(SESSIONIZE.split(":", 2)[2])
                     if since <= r.event_time.date().isoformat() <= until]  # fmt: skip
    assert len(job.runs) == len(expected_runs) > 0
    assert [c.kind for c in job.changes] == ["job_definition"]
    assert "sql" in job.facets and "INTERVAL" in job.facets["sql"]
    assert html.escape("+WHERE started_at >= TIMESTAMP '{{ ds }}' - INTERVAL '1' DAY") in job.to_html()  # the diff
    dataset = node_details(demo_lineage, up, "dataset:s3://churn-lake:warehouse/analytics/user_sessions", changes)
    assert ("written by", "churn_features_daily.sessionize") in dataset.facts
    assert any(k == "schema" and "session_count_7d" in v for k, v in dataset.facts)
    column = node_details(None, up, f"field:{target_id(up)}:{DRIFTED}", changes)
    assert column.kind == "field" and column.title == DRIFTED
    with pytest.raises(InputError, match="no node 'job:nope'"):
        node_details(demo_lineage, up, "job:nope")


def test_expanding_down_adds_the_readers_to_the_right(column_path, demo_lineage):
    up, changes, *_ = column_path
    table = f"dataset:{target_id(up)}"
    down = expand(up, demo_lineage, table, "down")
    added = {n.id: n.layer for n in down.nodes} .keys() - {n.id for n in up.nodes}
    assert "job:churn-airflow:churn_features_daily.snapshot_training_features" in added
    assert "dataset:s3://churn-lake:training/churn_features" in added
    x = _x(lineage_figure(down, changes))
    assert x["dataset:s3://churn-lake:training/churn_features"] > x[table]
    # up from a dataset whose producer is already drawn adds nothing; from the dataset-level
    # path's first hop it adds the writer's inputs
    assert {n.id for n in expand(up, demo_lineage, SESSIONIZE, "up").nodes} == {n.id for n in up.nodes}
    one_hop = demo_lineage.upstream(up.target, depth=1)
    grown = expand(one_hop, demo_lineage, "dataset:s3://churn-lake:warehouse/analytics/user_sessions", "up")
    assert SESSIONIZE in {n.id for n in grown.nodes} and SESSIONIZE not in {n.id for n in one_hop.nodes}
    with pytest.raises(InputError, match="'up' or 'down'"):
        expand(up, demo_lineage, table, "sideways")


def _crossings(up):
    from mlobs_notebook.plots import layout_positions

    pos = layout_positions(up)
    segments = []
    for e in up.edges:
        if e.kind != "column":
            (x0, y0), (x1, y1) = sorted([pos[e.source], pos[e.target]])
            segments.append((x0, y0, x1, y1))
    return sum(
        1
        for i, a in enumerate(segments)
        for b in segments[i + 1 :]
        if a[0] == b[0] and a[2] == b[2] and (a[1] - b[1]) * (a[3] - b[3]) < 0
    )


def test_the_layout_untangles_the_demo_pipeline(world, demo_lineage):
    up = demo_lineage.upstream(target(world))
    grown = expand(up, demo_lineage, f"dataset:{target_id(up)}", "down")
    assert _crossings(up) == 0 and _crossings(grown) == 0
    pos = lineage_figure(grown).data  # every node drawn once, at a distinct place
    points = [(x, y) for t in pos if t.customdata for x, y in zip(t.x, t.y, strict=True)]
    assert len(points) == len(set(points)) == len(grown.nodes)
