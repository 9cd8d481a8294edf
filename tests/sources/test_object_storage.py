"""Object storage as users keep their data, against a real S3-compatible server on 127.0.0.1
(moto's server mode, signing enforced; tests/s3_server.py). Credentials come the standard ways:
the environment, or a profile. gs:// and az:// go through the same readers with their own
standard environments; no emulator of them runs here, so only their error texts are tested."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from s3_server import s3_server

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef
from mlobs_notebook.sources.refs import source_from_uri
from mlobs_notebook.sources.scan import classify, open_source
from mlobs_notebook.sources.tables import load_current, load_snapshot
from mlobs_notebook.times import from_epoch_ms

BUCKET = "mlobs-lake"


def _rows(start: int, n: int) -> pl.DataFrame:
    return pl.DataFrame({"user_id": list(range(start, start + n)), "x": [float(i % 7) for i in range(n)],
                         "plan": [("free", "pro")[i % 2] for i in range(n)]})


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """The server, its bucket's objects, and the AWS environment set for the module."""
    root = tmp_path_factory.mktemp("s3")
    with s3_server() as server, pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            mp.delenv(name)
        for name, value in server.env.items():
            mp.setenv(name, value)
        client = server.client()
        client.create_bucket(Bucket=BUCKET)
        for key, frame in (("files/single.parquet", _rows(0, 10)), ("files/folder/part-0.parquet", _rows(0, 6)),
                           ("files/folder/part-1.parquet", _rows(6, 6))):
            path = root / key.replace("/", "_")
            frame.write_parquet(path)
            client.upload_file(str(path), BUCKET, key)
        client.put_object(Bucket=BUCKET, Key="files/folder/_SUCCESS", Body=b"")
        _rows(0, 4).write_csv(root / "data.csv")
        client.upload_file(str(root / "data.csv"), BUCKET, "files/data.csv")
        commits = _iceberg(server, root)
        delta = _delta(server)
        yield server, commits, delta, root


def _iceberg(server, root: Path) -> list:
    """The article's table: an Iceberg table whose folder is all MLflow recorded."""
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("lake", uri=f"sqlite:///{root}/catalog.db", warehouse=f"s3://{BUCKET}/iceberg",
                         **{"s3.endpoint": server.endpoint, "s3.access-key-id": server.key,
                            "s3.secret-access-key": server.secret, "s3.region": "us-east-1"})
    catalog.create_namespace("features")
    table = catalog.create_table("features.training_features", schema=_rows(0, 1).to_arrow().schema)
    commits = []
    for start in (0, 20):
        table.append(_rows(start, 20).to_arrow())
        commits.append(from_epoch_ms(table.current_snapshot().timestamp_ms))
        time.sleep(0.05)
    assert table.location() == f"s3://{BUCKET}/iceberg/features/training_features"
    return commits


def _delta(server) -> list:
    from deltalake import DeltaTable, write_deltalake

    options = {**server.env, "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
    uri = f"s3://{BUCKET}/delta/events"
    for start in (0, 8):
        write_deltalake(uri, _rows(start, 8).to_arrow(), mode="append", storage_options=options)
        time.sleep(0.05)
    return sorted(from_epoch_ms(h["timestamp"]) for h in DeltaTable(uri, storage_options=options).history())


def test_files_folders_and_csv_with_credentials_from_the_environment(s3):
    assert load_snapshot(f"s3://{BUCKET}/files/single.parquet").collect().equals(_rows(0, 10))
    folder = load_snapshot(f"s3://{BUCKET}/files/folder/").collect().sort("user_id")
    assert folder.equals(pl.concat([_rows(0, 6), _rows(6, 6)]))  # both parts, the _SUCCESS marker left out
    assert load_snapshot(f"s3a://{BUCKET}/files/folder").collect().height == 12
    assert load_snapshot(f"s3://{BUCKET}/files/data.csv").collect().height == 4


def test_an_iceberg_table_location_is_read_through_its_metadata(s3):
    _, commits, _, _ = s3
    location = f"s3://{BUCKET}/iceberg/features/training_features/"
    ref = classify(source_from_uri(location))
    assert ref.kind == ICEBERG and ref.path == location.rstrip("/")
    assert load_current(location).collect().height == 40
    as_of = open_source(SourceRef("s3", location, path=location, as_of=commits[0] + timedelta(milliseconds=10)))
    assert as_of.frame.collect().sort("user_id").equals(_rows(0, 20))
    assert "read snapshot" in as_of.note


def test_a_delta_table_on_s3_as_of_a_moment(s3):
    _, _, commits, _ = s3
    uri = f"s3://{BUCKET}/delta/events"
    opened = open_source(SourceRef("s3", uri, path=uri, as_of=commits[0] + timedelta(milliseconds=10)))
    assert (opened.ref.kind, opened.ref.version, opened.frame.collect().height) == ("delta", 0, 8)
    assert load_current(uri).collect().height == 16


def test_a_profile_instead_of_keys(s3, tmp_path, monkeypatch):
    server = s3[0]
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[ci]\naws_access_key_id = {server.key}\naws_secret_access_key = {server.secret}\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "ci")
    assert load_snapshot(f"s3://{BUCKET}/files/folder/").collect().height == 12


def test_missing_bucket_and_key_are_named(s3):
    with pytest.raises(SourceUnreadable) as info:
        load_snapshot("s3://no-such-bucket/files/single.parquet").collect()
    said = str(info.value)
    assert "the bucket 'no-such-bucket' does not exist" in said and "key 'files/single.parquet'" in said
    assert f"Credentials tried: AWS_ACCESS_KEY_ID (…{s3[0].key[-4:]})" in said and s3[0].secret not in said
    with pytest.raises(SourceUnreadable, match=rf"bucket '{BUCKET}', key 'files/missing.parquet'"):
        load_snapshot(f"s3://{BUCKET}/files/missing.parquet").collect()
    with pytest.raises(SourceUnreadable, match="no such folder or object"):
        load_snapshot(f"s3://{BUCKET}/nothing/here/").collect()


def test_wrong_credentials_say_which_were_tried(s3):
    """In a fresh process: readers cache their clients, so one process keeps one set of keys."""
    server = s3[0]
    code = (
        "from mlobs_notebook.sources.tables import load_snapshot\n"
        "from mlobs_notebook.errors import SourceUnreadable\n"
        "try:\n"
        f"    load_snapshot('s3://{BUCKET}/files/single.parquet').collect()\n"
        "except SourceUnreadable as exc:\n"
        "    print(exc)\n"
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **server.env,
           "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert "access was denied" in out.stdout, out.stdout + out.stderr
    assert f"AWS_ACCESS_KEY_ID (…{server.key[-4:]}) and AWS_SECRET_ACCESS_KEY from the environment" in out.stdout
    assert f"endpoint {server.endpoint}" in out.stdout and "not-the-secret" not in out.stdout


def test_gcs_and_azure_without_credentials_say_what_is_missing(monkeypatch):
    from mlobs_notebook.sources.objectstore import credentials_tried

    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    with pytest.raises(SourceUnreadable, match="set AZURE_STORAGE_ACCOUNT_NAME"):
        load_snapshot("az://container/features/")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/sa.json")
    assert credentials_tried("gcs") == "GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa.json"


def test_the_articles_source_investigated_end_to_end(s3, tmp_path, empty_store):
    """``from_pandas(df, source="s3://.../training_features/")``: the folder of an Iceberg table the
    pipeline keeps appending to. The baseline is the snapshot current when training started; the
    current data is the same table now, after the training data ends."""
    import warnings

    import mlflow
    import pyarrow as pa
    import store_worlds as w
    from pyiceberg.catalog.sql import SqlCatalog

    from mlobs_notebook.investigation import investigate

    server = s3[0]

    def arrow(frame):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 deprecates what pyarrow reads of a zone-aware column
            return pa.Table.from_pandas(frame.assign(**{w.TIME: frame[w.TIME].astype("datetime64[us, UTC]")}),
                                        preserve_index=False)

    catalog = SqlCatalog("article", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"s3://{BUCKET}/article",
                         **{"s3.endpoint": server.endpoint, "s3.access-key-id": server.key,
                            "s3.secret-access-key": server.secret, "s3.region": "us-east-1"})
    catalog.create_namespace("iceberg")
    table = catalog.create_table("iceberg.training_features", schema=arrow(w.TRAIN.head(1)).schema)
    table.append(arrow(w.TRAIN))
    location = table.location() + "/"
    store = w.new_store(tmp_path, "article", empty_store)
    model = w.fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=location, name="training_features", targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    table.append(arrow(w.CURRENT))  # the pipeline goes on after training
    w.log_model_metrics(store, w.daily_auc(model))
    inv = investigate(w.MODEL, tracking_uri=store.uri, time_column=w.TIME)
    assert inv.verdict == "data_drift" and [o.feature for o in inv.drifted_features] == ["merchant_risk"]
    first = table.snapshots()[0].snapshot_id
    assert inv.baseline_source == f"{location} (Iceberg snapshot {first})"
    assert any(f"recorded without a snapshot: read snapshot {first}" in n for n in inv.notes)
    assert inv.current_range[0].date() == w.CURRENT_START.date()
