"""Tables recorded without a snapshot or version are read as of the training run's start, and a
folder that is a Delta or Iceberg table is read as that table, never as a pile of parquet files."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import polars as pl
import pytest

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef
from mlobs_notebook.sources.scan import classify, open_source
from mlobs_notebook.times import from_epoch_ms


def _rows(start: int, n: int) -> pl.DataFrame:
    return pl.DataFrame({"user_id": list(range(start, start + n)), "x": [float(i) for i in range(n)]})


@pytest.fixture(scope="module")
def iceberg(tmp_path_factory):
    """Three appends (5, 8, 12 rows), a little apart; returns the catalog's settings, the
    table's folder and each commit time."""
    from pyiceberg.catalog.sql import SqlCatalog

    root = tmp_path_factory.mktemp("iceberg")
    props = {"type": "sql", "uri": f"sqlite:///{root}/catalog.db", "warehouse": f"file://{root}/warehouse"}
    catalog = SqlCatalog("asofcat", **{k: v for k, v in props.items() if k != "type"})
    catalog.create_namespace("ns")
    table = catalog.create_table("ns.t", schema=_rows(0, 1).to_arrow().schema)
    commits = []
    for start, n in [(0, 5), (5, 3), (8, 4)]:
        table.append(_rows(start, n).to_arrow())
        commits.append(from_epoch_ms(table.current_snapshot().timestamp_ms))
        time.sleep(0.02)
    return props, table.location().removeprefix("file://"), commits


def test_a_catalog_table_without_a_snapshot_is_read_as_of_a_moment(iceberg):
    props, _, commits = iceberg
    ref = SourceRef(ICEBERG, "iceberg://asofcat/ns.t", table="ns.t", catalog="asofcat", catalog_properties=props)
    between = open_source(replace(ref, as_of=commits[1] + timedelta(milliseconds=5)))
    assert between.frame.collect().height == 8
    assert "recorded without a snapshot: read snapshot" in between.note and "not the latest" in between.note
    with pytest.raises(SourceUnreadable, match="had no snapshot then.*--baseline"):
        open_source(SourceRef(ICEBERG, ref.uri, table="ns.t", catalog="asofcat", catalog_properties=props,
                              as_of=commits[0] - timedelta(seconds=1)))


def test_a_table_folder_is_read_through_its_metadata(iceberg):
    _, location, commits = iceberg
    folder = SourceRef("local", location, path=location)
    found = classify(folder)
    assert found.kind == ICEBERG and found.catalog is None
    assert open_source(folder).frame.collect().height == 12  # never the files of every snapshot read together
    at_first = open_source(SourceRef("local", location, path=location, as_of=commits[0]))
    assert at_first.frame.collect().sort("user_id").equals(_rows(0, 5))


def test_a_delta_version_as_of_and_before_the_table_existed(tmp_path):
    from deltalake import DeltaTable, write_deltalake

    path = tmp_path / "d"
    for start, n in [(0, 4), (4, 4)]:
        write_deltalake(str(path), _rows(start, n).to_arrow(), mode="append")
        time.sleep(0.02)
    commits = sorted(from_epoch_ms(h["timestamp"]) for h in DeltaTable(str(path)).history())
    ref = SourceRef("local", str(path), path=str(path), as_of=commits[0] + timedelta(milliseconds=1))
    opened = open_source(ref)
    assert (opened.ref.kind, opened.ref.version, opened.frame.collect().height) == ("delta", 0, 4)
    assert "read version 0" in opened.note
    with pytest.raises(SourceUnreadable, match=r"has no version that old \(version 0 was committed"):
        open_source(SourceRef("delta", f"delta://{path}", path=str(path), as_of=commits[0] - timedelta(hours=1)))


def test_a_folder_of_parquet_files_skips_markers(tmp_path):
    (tmp_path / "part-0.parquet").write_bytes(b"")
    _rows(0, 3).write_parquet(tmp_path / "part-0.parquet")
    _rows(3, 3).write_parquet(tmp_path / "part-1.parquet")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "_temporary").mkdir()
    _rows(100, 9).write_parquet(tmp_path / "_temporary" / "part-2.parquet")  # an unfinished write
    assert open_source(SourceRef("local", str(tmp_path), path=str(tmp_path))).frame.collect().height == 6
