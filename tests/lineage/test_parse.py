"""The parser and merger on small hand-made inputs: the rules the readers rely on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from mlobs_notebook.lineage import DatasetRef, load_lineage
from mlobs_notebook.lineage.model import flatten_fields
from mlobs_notebook.lineage.readers.openlineage import (
    EventError,
    parse_column_lineage,
    parse_schema,
    parse_time,
)

RUN = "0190a1b2-0000-7000-8000-0000000000{:02d}"


def test_timestamps_are_aware_and_naive_ones_are_utc():
    assert parse_time("2020-08-30T09:00:00.000+10") == datetime(2020, 8, 29, 23, 0, tzinfo=UTC)
    assert parse_time("2024-10-17T09:18:11.5Z").microsecond == 500000
    assert parse_time("2021-11-03T10:53:52").tzinfo == UTC
    # the instant is kept and held in UTC, as every time inside (mlobs_notebook.times)
    assert parse_time("2024-01-01T00:00:00-05:00") == datetime(2024, 1, 1, 5, tzinfo=UTC)
    assert parse_time("2024-01-01T00:00:00-05:00").utcoffset() == timedelta(0)
    for bad in (None, 17, "", "{{ is_datetime(result) }}", "2024-13-01T00:00:00Z"):
        with pytest.raises(EventError):
            parse_time(bad)


def test_nested_schema_fields_are_kept_and_flattened(corpus):
    facet = json.loads((corpus / "spec" / "facet-examples" / "SchemaDatasetFacet_1.json").read_text())["schema"]
    flat = flatten_fields(parse_schema(facet))
    assert flat["addresses"] == "struct" and flat["addresses.zip"] == "string"
    assert flat["custom_properties.value._1"] == "int64" and flat["phones._element"] == "string"


def test_deprecated_column_lineage_form():
    facet = {"fields": {"total": {"inputFields": [{"namespace": "pg", "name": "orders", "field": "amount"}],
                                  "transformationType": "AGGREGATION", "transformationDescription": "sum(amount)"}}}  # fmt: skip
    (edge,) = parse_column_lineage(facet, DatasetRef("pg", "report"))
    assert (str(edge.source), edge.target_field, edge.transformations) == ("pg/orders#amount", "total", ("AGGREGATION",))


def test_facets_are_found_by_key_whatever_their_schema_url():
    ev = {"eventType": "COMPLETE", "eventTime": "2024-01-01T00:00:00Z", "run": {"runId": RUN.format(1)},
          "job": {"namespace": "n", "name": "j", "facets": {"sql": {"_schemaURL": "http://wrong", "query": "SELECT 2"}}},
          "outputs": [{"namespace": "n", "name": "t", "facets": {"schema": {"_schemaURL": "urn:nonsense", "fields": [{"name": "a"}]}},
                       "outputFacets": {"outputStatistics": {"rowCount": 3}}}]}  # fmt: skip
    run = load_lineage([ev]).runs[RUN.format(1)]
    assert run.definition.sql == "SELECT 2" and run.outputs[0].schema[0].name == "a" and run.outputs[0].row_count == 3


def _ev(t, event_type, run_id, job="j", **extra):
    return {"eventType": event_type, "eventTime": t, "run": {"runId": run_id, **extra}, "job": {"namespace": "n", "name": job}}


def test_final_state_is_the_latest_terminal_event_whatever_the_arrival_order():
    g = load_lineage([_ev("2024-01-01T00:10:00Z", "FAIL", RUN.format(2)), _ev("2024-01-01T00:00:00Z", "START", RUN.format(2)),
                      _ev("2024-01-01T00:05:00Z", "RUNNING", RUN.format(2))])  # fmt: skip
    run = g.runs[RUN.format(2)]
    assert run.state == "FAIL" and run.start_time.minute == 0 and run.end_time.minute == 10 and run.event_count == 3


def test_an_older_event_never_overrides_a_newer_facet():
    newer = _ev("2024-01-01T00:10:00Z", "COMPLETE", RUN.format(3), facets={"nominalTime": {"nominalStartTime": "new"}})
    older = _ev("2024-01-01T00:00:00Z", "START", RUN.format(3), facets={"nominalTime": {"nominalStartTime": "old"}})
    assert load_lineage([newer, older]).runs[RUN.format(3)].nominal_time == "new"


def test_placeholder_run_ids_pair_start_and_end_per_job():
    p = "{{ any(result) }}"
    g = load_lineage([_ev("2024-01-01T00:00:00Z", "START", p), _ev("2024-01-01T00:00:01Z", "START", p, job="k"),
                      _ev("2024-01-01T00:00:02Z", "COMPLETE", p), _ev("2024-01-01T00:00:03Z", "FAIL", p, job="k"),
                      _ev("2024-01-02T00:00:00Z", "START", p), _ev("2024-01-02T00:00:05Z", "COMPLETE", p)])  # fmt: skip
    assert sorted((r.job.name, r.state, r.event_count) for r in g.runs.values()) == [
        ("j", "COMPLETE", 2), ("j", "COMPLETE", 2), ("k", "FAIL", 2)]  # fmt: skip
    assert "n/j@2024-01-02T00:00:00+00:00" in g.runs


def test_symlinked_identities_merge_whichever_comes_first():
    table = {"namespace": "iceberg://cat", "name": "db.t"}
    path = {"namespace": "s3://lake", "name": "wh/db/t", "facets": {"symlinks": {"identifiers": [{**table, "type": "TABLE"}]}}}
    reader = {**_ev("2024-01-01T00:00:00Z", "COMPLETE", RUN.format(4), job="reader"), "inputs": [table]}
    writer = {**_ev("2024-01-01T01:00:00Z", "COMPLETE", RUN.format(5), job="writer"), "outputs": [path]}
    g = load_lineage([reader, writer])
    (ds,) = g.datasets.values()  # one dataset, both identities, named by the physical one
    assert (ds.ref, ds.aliases) == (DatasetRef("s3://lake", "wh/db/t"), (DatasetRef("iceberg://cat", "db.t"),))
    assert load_lineage([writer, reader]).datasets.keys() == g.datasets.keys()  # whatever the order
    assert [j.name for j in g.upstream(("s3://lake", "wh/db/t")).jobs] == ["writer"]
    assert [j.name for j in ds.readers] == ["reader"]


def test_datasets_without_names_are_problems_not_failures():
    ev = {**_ev("2024-01-01T00:00:00Z", "COMPLETE", RUN.format(6)), "inputs": [{"namespace": "file"}, {"namespace": "n", "name": "ok"}]}
    g = load_lineage([ev])
    assert [d.ref.name for d in g.runs[RUN.format(6)].inputs] == ["ok"]
    assert [(p.source, p.line, p.reason) for p in g.problems] == [("<events>", 1, "dataset without namespace or name skipped")]


def test_local_paths_and_file_uris_match(corpus):
    g = load_lineage(corpus / "spark" / "compat-cll-hive-ctas")
    tbl1 = DatasetRef("file", "/tmp/cll_test/tbl1")
    assert g.match_dataset("/tmp/cll_test/tbl1/") == tbl1
    assert g.match_dataset("file:///tmp/cll_test/tbl1") == tbl1
    # "NAMESPACE/NAME" as str(DatasetRef) prints it, and the natural spelling without the double slash
    assert g.match_dataset("file//tmp/cll_test/tbl1") == tbl1 == g.match_dataset("file/tmp/cll_test/tbl1")
    assert g.match_dataset("/tmp/cll_test/tbl2") is None


def test_source_code_location_and_error_message(corpus):
    full = load_lineage(corpus / "marquez" / "event_full.json")
    (run,) = full.runs.values()
    assert run.definition.source_code_location == "http://example.com" and run.definition.sql
    serde = load_lineage(corpus / "spark" / "ol-serde-openlineage-event.json")
    (run,) = serde.runs.values()
    assert run.error_message and run.definition.source_code_location


def test_offsets_are_kept_and_compared_in_utc():
    east = _ev("2024-01-01T10:00:00+10:00", "START", RUN.format(7))
    utc = _ev("2024-01-01T00:30:00Z", "COMPLETE", RUN.format(7))
    run = load_lineage([utc, east]).runs[RUN.format(7)]
    assert run.start_time.astimezone(UTC) == datetime(2024, 1, 1, 0, 0, tzinfo=UTC) and run.state == "COMPLETE"
