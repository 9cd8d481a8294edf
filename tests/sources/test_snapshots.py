"""Reading snapshots: files, folders, Iceberg at an older snapshot, Delta at an older version."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlobs_notebook.errors import SourceUnreadable, UnknownColumn
from mlobs_notebook.sources.refs import source_from_uri
from mlobs_notebook.sources.tables import load_current, load_snapshot


def _frame(start: int, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": list(range(start, start + n)),
            "plan": [("free", "pro", "team")[i % 3] for i in range(start, start + n)],
            "spend": [i * 1.5 for i in range(start, start + n)],
            "day": [date(2026, 1, 1) + timedelta(days=i) for i in range(start, start + n)],
        }
    )


@pytest.fixture
def iceberg_table(tmp_path):
    """A pyiceberg SQL catalog on sqlite with one table and three snapshots (5, 8, 12 rows)."""
    from pyiceberg.catalog.sql import SqlCatalog

    props = {
        "type": "sql",
        "uri": f"sqlite:///{tmp_path}/catalog.db",
        "warehouse": f"file://{tmp_path}/warehouse",
    }
    catalog = SqlCatalog("snapcat", **{k: v for k, v in props.items() if k != "type"})
    catalog.create_namespace("ns")
    table = catalog.create_table("ns.events", schema=_frame(0, 1).to_arrow().schema)
    snapshots = []
    for start, n in [(0, 5), (5, 3), (8, 4)]:
        table.append(_frame(start, n).to_arrow())
        snapshots.append(table.current_snapshot().snapshot_id)
    return props, snapshots


def test_parquet_file_round_trip_local_path_and_file_uri(tmp_path):
    df = _frame(0, 20)
    df.write_parquet(tmp_path / "x.parquet")
    assert_frame_equal(load_snapshot(str(tmp_path / "x.parquet")).collect(), df)
    assert_frame_equal(load_snapshot(f"file://{tmp_path}/x.parquet").collect(), df)


def test_folder_of_parquet_files_reads_them_all(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame(0, 4).write_parquet(folder / "a.parquet")
    _frame(4, 6).write_parquet(folder / "b.parquet")
    got = load_snapshot(str(folder)).collect().sort("user_id")
    assert_frame_equal(got, _frame(0, 10))


def test_csv_round_trip_keeps_times_as_text(tmp_path):
    df = _frame(0, 7)
    df.write_csv(tmp_path / "x.csv")
    # numbers are inferred; times stay text for the time model (polars would guess their order)
    assert_frame_equal(load_snapshot(str(tmp_path / "x.csv")).collect(),
                       df.with_columns(pl.col("day").dt.strftime("%Y-%m-%d")))


def test_load_current_filters_a_csv_text_time_column_with_its_format(tmp_path):
    stamps = [datetime(2026, 3, 1) + timedelta(hours=12 * i) for i in range(10)]
    pl.DataFrame({"ts": [s.strftime("%d/%m/%Y %H:%M") for s in stamps], "v": list(range(10))}).write_csv(
        tmp_path / "t.csv")
    got = load_current(str(tmp_path / "t.csv"), "ts", start=datetime(2026, 3, 2), end="2026-03-04",
                       time_format="%d/%m/%Y %H:%M").collect()
    assert got["v"].to_list() == [i for i, s in enumerate(stamps) if datetime(2026, 3, 2) <= s < datetime(2026, 3, 4)]


def test_iceberg_at_an_older_snapshot_while_newer_exist(iceberg_table):
    props, (first, second, third) = iceberg_table
    got = load_snapshot(f"iceberg://snapcat/ns.events@{second}", catalog_properties=props)
    assert isinstance(got, pl.LazyFrame)
    assert_frame_equal(got.collect().sort("user_id"), _frame(0, 8))
    newest = load_snapshot(f"iceberg://snapcat/ns.events@{third}", catalog_properties=props)
    assert newest.collect().height == 12


def test_iceberg_catalog_settings_come_from_pyiceberg_config_first(iceberg_table, monkeypatch):
    props, (first, _, _) = iceberg_table
    monkeypatch.setenv("PYICEBERG_CATALOG__SNAPCAT__URI", props["uri"])
    monkeypatch.setenv("PYICEBERG_CATALOG__SNAPCAT__WAREHOUSE", props["warehouse"])
    monkeypatch.setenv("PYICEBERG_CATALOG__SNAPCAT__TYPE", "sql")
    bogus = {"type": "sql", "uri": "sqlite:////nonexistent/dir/x.db", "warehouse": "file:///no"}
    got = load_snapshot(f"iceberg://snapcat/ns.events@{first}", catalog_properties=bogus)
    assert got.collect().height == 5


def test_load_current_is_the_latest_snapshot_filtered(iceberg_table):
    props, (first, _, _) = iceberg_table
    uri = f"iceberg://snapcat/ns.events@{first}"
    assert load_current(uri, catalog_properties=props).collect().height == 12
    window = load_current(uri, "day", start=date(2026, 1, 3), end="2026-01-10",
                          catalog_properties=props).collect().sort("day")
    assert window["day"].to_list() == [date(2026, 1, d) for d in range(3, 10)]


def test_load_current_on_datetimes_with_a_time_zone(tmp_path):
    stamps = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=12 * i) for i in range(10)]
    pl.DataFrame({"ts": stamps, "v": list(range(10))}).write_parquet(tmp_path / "t.parquet")
    got = load_current(str(tmp_path / "t.parquet"), "ts", start=datetime(2026, 3, 2),
                       end=datetime(2026, 3, 4, tzinfo=UTC)).collect()
    assert got["v"].to_list() == [2, 3, 4, 5]


def test_load_current_names_a_missing_time_column(tmp_path):
    _frame(0, 3).write_parquet(tmp_path / "x.parquet")
    with pytest.raises(UnknownColumn, match="no column 'when'.*user_id"):
        load_current(str(tmp_path / "x.parquet"), "when", start=date(2026, 1, 1))


def test_delta_at_an_older_version(tmp_path):
    from deltalake import write_deltalake

    path = tmp_path / "delta"
    write_deltalake(str(path), _frame(0, 4).to_arrow())
    write_deltalake(str(path), _frame(4, 5).to_arrow(), mode="append")
    write_deltalake(str(path), _frame(100, 2).to_arrow(), mode="overwrite")
    v0 = load_snapshot(f"delta://{path}@0").collect().sort("user_id")
    v1 = load_snapshot(f"delta://{path}@1").collect().sort("user_id")
    assert_frame_equal(v0, _frame(0, 4))
    assert_frame_equal(v1, _frame(0, 9))
    assert load_current(f"delta://{path}@0").collect()["user_id"].to_list() == [100, 101]
    with pytest.raises(SourceUnreadable, match="version 9 does not exist.*0..2"):
        load_snapshot(f"delta://{path}@9")


def test_missing_deltalake_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_deltalake(name, *args, **kwargs):
        if name == "deltalake":
            raise ImportError("No module named 'deltalake'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_deltalake)
    with pytest.raises(SourceUnreadable, match=r"pip install 'mlobs_notebook\[delta\]'"):
        load_snapshot(f"delta://{tmp_path}@0")


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("/definitely/not/here.parquet", "does not exist"),
        ("iceberg://nocat/ns.t@1", "no settings for Iceberg catalog 'nocat'"),
        ("hf://datasets/x", "only .parquet and .csv"),
    ],
)
def test_unreadable_sources_say_which_and_why(uri, why):
    with pytest.raises(SourceUnreadable, match=why) as info:
        load_snapshot(uri)
    assert uri in str(info.value)


def test_unknown_iceberg_snapshot_lists_the_known_ones(iceberg_table):
    props, snapshots = iceberg_table
    with pytest.raises(SourceUnreadable, match=str(snapshots[-1])):
        load_snapshot("iceberg://snapcat/ns.events@123", catalog_properties=props)


def test_folder_without_data_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SourceUnreadable, match="no .parquet or .csv"):
        load_snapshot(str(tmp_path))


def test_source_from_uri_kinds():
    assert source_from_uri("file:///a/b.parquet").path == "/a/b.parquet"
    assert source_from_uri("s3://bucket/k.parquet").kind == "s3"
    assert source_from_uri("https://h/x.csv").kind == "http"
    ref = source_from_uri("delta:///data/t@3")
    assert (ref.kind, ref.path, ref.version) == ("delta", "/data/t", 3)


@pytest.mark.parametrize(
    ("source_type", "stored", "expected"),
    [
        ("delta_table", '{"path": "file:///lake/t", "delta_table_version": 4}',
         {"kind": "delta", "path": "/lake/t", "version": 4, "uri": "delta://file:///lake/t@4"}),
        ("http", '{"url": "https://h/x.csv"}', {"kind": "http", "path": "https://h/x.csv"}),
        ("s3", '{"uri": "s3://b/k.parquet"}', {"kind": "s3", "uri": "s3://b/k.parquet"}),
        ("local", '{"uri": "/data/x.parquet"}', {"kind": "local", "path": "/data/x.parquet"}),
        ("code", '{"tags": {"a": "b"}}', {"kind": "code", "path": None}),
        ("iceberg", "iceberg://c/ns.t@5", {"kind": "iceberg", "snapshot_id": 5, "table": "ns.t"}),
    ],
)
def test_parse_source_reads_mlflow_json_without_source_classes(source_type, stored, expected):
    from mlobs_notebook.sources.refs import parse_source

    ref = parse_source(source_type, stored)
    for field, value in expected.items():
        assert getattr(ref, field) == value, field


def test_a_source_kind_we_cannot_read_says_what_we_can(tmp_path):
    from mlobs_notebook.records import SourceRef
    from mlobs_notebook.sources.refs import parse_source

    with pytest.raises(SourceUnreadable, match="'spark_table' are not supported. Supported: parquet/CSV"):
        load_snapshot(SourceRef("spark_table", "main.features"))
    # a 'code' source names where the dataset was built, not where its data lives
    with pytest.raises(SourceUnreadable, match="'code' source.*from_pandas\\(df\\) without source="):
        load_snapshot(parse_source("code", '{"tags": {}}'))


def test_delta_through_the_delta_table_source_json(tmp_path):
    from deltalake import write_deltalake

    from mlobs_notebook.sources.refs import parse_source

    path = tmp_path / "d"
    write_deltalake(str(path), _frame(0, 3).to_arrow())
    write_deltalake(str(path), _frame(3, 3).to_arrow(), mode="append")
    ref = parse_source("delta_table", f'{{"path": "{path}", "delta_table_version": 0}}')
    assert_frame_equal(load_snapshot(ref).collect().sort("user_id"), _frame(0, 3))


def test_iceberg_dataset_source_loads_its_snapshot(iceberg_table):
    from mlobs_notebook.sources.dataset_sources import IcebergDatasetSource

    props, (first, _, third) = iceberg_table
    source = IcebergDatasetSource("snapcat", "ns.events", first, props)
    assert_frame_equal(source.load().collect().sort("user_id"), _frame(0, 5))
    ref = source_from_uri(source.uri, props)
    assert load_current(ref).collect().height == 12  # the same table, at its newest snapshot
    assert ref.at_latest().snapshot_id is None
