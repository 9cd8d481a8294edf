"""From a registered model to its run, datasets, snapshot and metric series, on a real store.

Every test runs on a private copy of one template sqlite store (tests/mlflow_fixtures.py); the
``integration`` tests make the same calls over a real ``mlflow server`` and expect the same records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from mlobs_notebook.errors import (
    AliasNotFound,
    ExperimentNotFound,
    InputError,
    ModelNotFound,
    NoDatasetInputs,
    RunNotFound,
    SnapshotChanged,
    StageDeprecated,
    TrackingUnreachable,
    VersionNotFound,
)
from mlobs_notebook.records import DatasetRecord, ModelVersionRecord
from mlobs_notebook.sources.digests import snapshot_check
from mlobs_notebook.sources.evaluations import metric_series, promotion_candidates
from mlobs_notebook.sources.models import load_production_model, training_datasets
from mlobs_notebook.sources.tables import load_snapshot

pytest_plugins = ["tests.mlflow_fixtures"]

# the registered models tests/mlflow_fixtures.py builds
MODEL = "churn_model"
NO_DATA_MODEL = "no_data_model"


def test_import_mlobs_notebook_imports_no_mlflow():
    code = (
        "import sys, mlobs_notebook, mlobs_notebook.sources.models, mlobs_notebook.sources.evaluations, "
        "mlobs_notebook.sources.tables; print('mlflow' in sys.modules, 'pyiceberg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_production_model_record(mlflow_world):
    model = load_production_model(MODEL, tracking_uri=mlflow_world.tracking_uri)
    assert isinstance(model, ModelVersionRecord)
    assert (model.name, model.version, model.aliases) == (MODEL, 2, ("production",))
    assert model.run_id == mlflow_world.v2_run_id
    assert model.logged_model_id == mlflow_world.logged_model_id
    assert model.params == {"C": "0.5", "penalty": "l2"}
    assert model.metrics == {"auc": 0.85}
    assert model.tags["stage"] == "training"
    assert model.creation_time.tzinfo is not None
    assert abs(datetime.now(UTC) - model.creation_time).days < 2
    assert model.tracking_uri == mlflow_world.tracking_uri
    assert model.experiment_id == mlflow_world.experiment_id
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.version = 3  # type: ignore[misc]
    assert "churn_model v2" in model._repr_html_()


@pytest.mark.parametrize(
    ("ref", "version"),
    [
        ("models:/churn_model@production", 2),
        ("models:/churn_model@challenger", 1),
        ("models:/churn_model/1", 1),
        ("models:/churn_model/latest", 2),
    ],
)
def test_model_uris(mlflow_world, ref, version):
    model = load_production_model(ref, tracking_uri=mlflow_world.tracking_uri)
    assert (model.name, model.version) == (MODEL, version)


def test_alias_argument_and_latest(mlflow_world):
    uri = mlflow_world.tracking_uri
    assert load_production_model(MODEL, alias="challenger", tracking_uri=uri).version == 1
    assert load_production_model(MODEL, alias=None, tracking_uri=uri).version == 2


def test_run_id_logged_model_id_and_runs_uri(mlflow_world):
    uri = mlflow_world.tracking_uri
    by_run = load_production_model(mlflow_world.v1_run_id, tracking_uri=uri)
    assert (by_run.name, by_run.version, by_run.aliases) == (MODEL, 1, ("challenger",))
    assert load_production_model(f"runs:/{mlflow_world.v2_run_id}/model", tracking_uri=uri).version == 2
    by_logged = load_production_model(f"models:/{mlflow_world.logged_model_id}", tracking_uri=uri)
    assert (by_logged.version, by_logged.run_id) == (2, mlflow_world.v2_run_id)


def test_legacy_stage_reads_with_our_deprecation_warning(mlflow_world):
    with pytest.warns(StageDeprecated, match="deprecated registry stages in favour of aliases"):
        model = load_production_model("models:/churn_model/Staging", tracking_uri=mlflow_world.tracking_uri)
    assert model.version == 1
    assert "legacy stage" in model.notes[0] and "set_registered_model_alias" in model.notes[0]


def test_an_alias_that_is_a_stage_name_reads_the_stage(mlflow_world):
    # --alias Staging: no alias of that name, but version 1 holds the legacy stage
    with pytest.warns(StageDeprecated, match="no alias 'Staging'; read its legacy stage 'Staging'"):
        model = load_production_model(MODEL, alias="Staging", tracking_uri=mlflow_world.tracking_uri)
    assert model.version == 1 and model.stage == "Staging"


def test_unknown_model_lists_registered_names(mlflow_world):
    with pytest.raises(ModelNotFound, match="churn_modle.*Known models: churn_model, no_data_model"):
        load_production_model("churn_modle", tracking_uri=mlflow_world.tracking_uri)


def test_missing_alias_lists_the_models_aliases(mlflow_world):
    with pytest.raises(AliasNotFound) as info:
        load_production_model(MODEL, alias="champion", tracking_uri=mlflow_world.tracking_uri)
    message = str(info.value)
    assert "'champion'" in message
    assert "challenger (v1), production (v2)" in message
    assert "Staging (v1)" in message
    # the URIs that work without the alias are named
    assert "models:/churn_model/Staging" in message and "models:/churn_model/2 (its latest version)" in message


def test_empty_stage_and_missing_version(mlflow_world):
    uri = mlflow_world.tracking_uri
    with pytest.raises(AliasNotFound, match="no version in stage 'Production'.*models:/churn_model/Staging"):
        load_production_model("models:/churn_model/Production", tracking_uri=uri)
    with pytest.raises(VersionNotFound, match="no version 9. Versions: 1, 2"):
        load_production_model("models:/churn_model/9", tracking_uri=uri)
    with pytest.raises(RunNotFound, match="0" * 32):
        load_production_model("0" * 32, tracking_uri=uri)


def test_missing_sqlite_store_is_named_not_created(tmp_path):
    uri = f"sqlite:///{tmp_path}/nothing/mlflow.db"
    with pytest.raises(TrackingUnreachable, match="does not exist"):
        load_production_model(MODEL, tracking_uri=uri)
    assert not (tmp_path / "nothing").exists()


def test_unreachable_server_fails_fast_naming_the_uri():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with pytest.raises(TrackingUnreachable, match=f"127.0.0.1:{port}"):
        load_production_model(MODEL, tracking_uri=uri)
    assert time.monotonic() - started < 10  # the contract is "within 10 s", not a speed claim


def test_training_datasets_parse_iceberg_and_local_sources(mlflow_world):
    model = load_production_model(MODEL, tracking_uri=mlflow_world.tracking_uri)
    datasets = training_datasets(model)
    assert [d.context for d in datasets] == ["training", "validation"]
    train, holdout = datasets
    assert isinstance(train, DatasetRecord)
    assert (train.name, train.source_type, train.source.kind) == ("train_iceberg", "iceberg", "iceberg")
    assert train.source.snapshot_id == mlflow_world.iceberg_training_snapshot
    assert (train.source.catalog, train.source.table) == ("fixcat", "features.activity")
    assert dict(train.source.catalog_properties) == mlflow_world.iceberg_properties
    assert train.schema == {"user_id": "long", "plan": "string", "sessions_7d": "double",
                            "is_churned": "boolean"}
    assert train.profile == {"num_rows": 300, "num_elements": 1200}
    assert train.run_id == mlflow_world.v2_run_id
    assert (holdout.source.kind, holdout.source.path) == ("local", str(mlflow_world.parquet_path.with_name("holdout.parquet")))


def test_training_datasets_accepts_a_name(mlflow_world):
    datasets = training_datasets(f"models:/{MODEL}/1", tracking_uri=mlflow_world.tracking_uri)
    assert [(d.name, d.source.kind) for d in datasets] == [("train_parquet", "local")]


def test_run_without_dataset_inputs(mlflow_world):
    with pytest.raises(NoDatasetInputs, match=f"run {mlflow_world.no_data_run_id} of model 'no_data_model' v1.*mlflow.log_input"):
        training_datasets(NO_DATA_MODEL, tracking_uri=mlflow_world.tracking_uri)


def test_iceberg_training_snapshot_is_exactly_the_training_rows(mlflow_world):
    """The table moved on after training; the snapshot still returns the training rows."""
    [train, _] = training_datasets(MODEL, tracking_uri=mlflow_world.tracking_uri)
    frame = load_snapshot(train)
    assert isinstance(frame, pl.LazyFrame)
    assert_frame_equal(frame.collect().sort("user_id"), mlflow_world.training_frame)
    check = snapshot_check(train)
    assert check.expected == check.actual == train.digest
    # logged from pandas, MLflow's digest skipped the boolean label; the snapshot id pins it
    assert check.matches and "not is_churned" in check.coverage and "snapshot id pins the rest" in check.message


def test_parquet_training_snapshot_round_trip(mlflow_world):
    [train] = training_datasets(f"models:/{MODEL}/1", tracking_uri=mlflow_world.tracking_uri)
    assert_frame_equal(load_snapshot(train).collect(), mlflow_world.training_frame)
    # a parquet file can change in place, and the boolean label is outside MLflow's digest
    check = snapshot_check(train)
    assert check.status == "partial" and not check.matches
    assert "not is_churned" in check.message and check.checks == {"row count": True, "columns": True}
    rows = mlflow_world.training_frame.height
    assert f"over all {rows:,} rows and" in check.message and "only" not in check.message
    assert "the column is_churned cannot be checked against the record" in check.message


def test_a_changed_snapshot_is_a_finding_not_a_crash(mlflow_world, tmp_path):
    [train] = training_datasets(f"models:/{MODEL}/1", tracking_uri=mlflow_world.tracking_uri)
    changed = tmp_path / "train.parquet"
    mlflow_world.training_frame.with_columns(pl.col("sessions_7d") * 2).write_parquet(changed)
    moved = dataclasses.replace(train, source=dataclasses.replace(train.source, uri=str(changed), path=str(changed)))
    check = snapshot_check(moved)
    assert not check.matches
    assert check.expected == train.digest and check.actual != train.digest
    assert "changed since training" in check.message and str(changed) in check.message
    with pytest.warns(SnapshotChanged, match="changed since training"):
        frame = load_snapshot(moved)
    assert frame.collect().height == 300


def test_metric_series_one_value_per_day_last_run_wins(mlflow_world):
    series = metric_series(MODEL, tracking_uri=mlflow_world.tracking_uri)
    assert series.schema == pl.Schema({"window_start": pl.Datetime("us", "UTC"), "value": pl.Float64,
                                       "run_id": pl.String, "points": pl.UInt32})
    assert all(w.utcoffset() == timedelta(0) for w in series["window_start"])
    got = {w.date(): (v, r) for w, v, r in series.select("window_start", "value", "run_id").iter_rows()}
    assert got == dict(mlflow_world.expected_series)


def test_metric_series_pages_through_every_run(mlflow_world, monkeypatch):
    from mlobs_notebook.sources import evaluations

    monkeypatch.setattr(evaluations, "PAGE_SIZE", 2)
    series = metric_series(MODEL, tracking_uri=mlflow_world.tracking_uri)
    assert series.height == len(mlflow_world.expected_series)


def test_metric_series_of_one_run_history(mlflow_world):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow_world.tracking_uri)
    run = client.create_run(mlflow_world.experiment_id).info.run_id
    day = 86_400_000
    for i, (offset, value) in enumerate([(0, 0.5), (day, 0.6), (day + 5, 0.65), (3 * day, 0.7)]):
        client.log_metric(run, "auc", value, timestamp=1_767_225_600_000 + offset, step=i)
    series = metric_series(MODEL, run_id=run, tracking_uri=mlflow_world.tracking_uri)
    assert series["value"].to_list() == [0.5, 0.65, 0.7]
    assert [w.date().isoformat() for w in series["window_start"]] == ["2026-01-01", "2026-01-02", "2026-01-04"]
    assert series["points"].to_list() == [1, 2, 1]
    points = metric_series(MODEL, run_id=run, tracking_uri=mlflow_world.tracking_uri, granularity=None)
    assert points["value"].to_list() == [0.5, 0.6, 0.65, 0.7] and points["step"].to_list() == [0, 1, 2, 3]


def test_metric_series_dated_by_a_tag(mlflow_world):
    """Each evaluation is tagged with the day of data it scored, the day before it ran."""
    by_tag = metric_series(MODEL, date_from="tags.eval_date", tracking_uri=mlflow_world.tracking_uri)
    by_start = metric_series(MODEL, tracking_uri=mlflow_world.tracking_uri)
    assert by_tag["value"].to_list() == by_start["value"].to_list()
    assert (by_start["window_start"] - by_tag["window_start"]).dt.total_days().to_list() == [1] * by_start.height


def test_metric_series_bad_date_from_and_filter(mlflow_world):
    uri = mlflow_world.tracking_uri
    with pytest.raises(InputError, match="date_from='yesterday'"):
        metric_series(MODEL, date_from="yesterday", tracking_uri=uri)
    with pytest.raises(InputError, match="run [0-9a-f]{32}: tags.env 'production' is not an ISO 8601 date"):
        metric_series(MODEL, date_from="tags.env", tracking_uri=uri)
    with pytest.raises(InputError, match="rejected the run filter"):
        metric_series(MODEL, filter_string="tags.env === 1", tracking_uri=uri)


def test_promotion_candidates_best_first(mlflow_world):
    model = load_production_model(MODEL, tracking_uri=mlflow_world.tracking_uri)
    frame = promotion_candidates("churn", "auc", model, filter_string="tags.kind = 'candidate'")
    beating = sorted((v for v in mlflow_world.candidate_values.values() if v >= 0.85 + 0.02), reverse=True)
    assert frame["value"].to_list() == beating
    assert frame["improvement"].to_list() == pytest.approx([v - 0.85 for v in beating])
    assert set(frame["run_id"]) <= set(mlflow_world.candidate_values)
    wider = promotion_candidates(mlflow_world.experiment_id, "auc", 0.85, min_improvement=0.0,
                                 filter_string="tags.kind = 'candidate'",
                                 tracking_uri=mlflow_world.tracking_uri)
    assert wider.height == 4
    with pytest.raises(ExperimentNotFound, match="Experiments:.*churn"):
        promotion_candidates("nope", "auc", 0.8, tracking_uri=mlflow_world.tracking_uri)


# ---- the same calls over a real MLflow server ----------------------------------------------


@pytest.mark.integration
def test_server_gives_the_same_records(mlflow_server, mlflow_template):
    url, served = mlflow_server
    local = mlflow_template.tracking_uri
    for ref in (MODEL, f"models:/{MODEL}/1", mlflow_template.v2_run_id):
        over_http = load_production_model(ref, tracking_uri=url)
        on_disk = load_production_model(ref, tracking_uri=local)
        assert isinstance(over_http.version, int)
        assert dataclasses.replace(over_http, tracking_uri=local) == on_disk
    assert training_datasets(MODEL, tracking_uri=url) == training_datasets(MODEL, tracking_uri=local)
    assert_frame_equal(metric_series(MODEL, tracking_uri=url), metric_series(MODEL, tracking_uri=local))
    with pytest.raises(AliasNotFound, match="challenger"):
        load_production_model(MODEL, alias="champion", tracking_uri=url)
    with pytest.raises(ModelNotFound, match="Known models: churn_model, no_data_model"):
        load_production_model("nope", tracking_uri=url)


def test_a_server_that_stops_answering_fails_within_10s_naming_it():
    """/health answers, the API hangs: MLflow's own retries would wait minutes."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server protocol
            if self.path != "/health":
                release.wait(30)
            with contextlib.suppress(OSError):  # the client has given up by then
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    import mlflow.tracking  # noqa: F401 - the first import takes seconds; time the waiting only

    try:
        started = time.monotonic()
        with pytest.raises(TrackingUnreachable, match=uri):
            load_production_model(MODEL, tracking_uri=uri)
        assert time.monotonic() - started < 10
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_run_no_version_points_at(mlflow_world):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow_world.tracking_uri)
    run = client.create_run(mlflow_world.experiment_id, tags={"purpose": "adhoc"}).info.run_id
    client.log_param(run, "depth", "3")
    record = load_production_model(run, tracking_uri=mlflow_world.tracking_uri)
    assert (record.name, record.version, record.aliases, record.logged_model_id) == (None, None, (), None)
    assert (record.run_id, record.params, record.tags["purpose"]) == (run, {"depth": "3"}, "adhoc")
    assert record.uri == f"runs:/{run}"
    with pytest.raises(NoDatasetInputs, match=f"^run {run} logged no dataset inputs"):
        training_datasets(record)


def test_promotion_candidates_when_lower_is_better(mlflow_world):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow_world.tracking_uri)
    losses = {}
    for loss in (0.30, 0.25, 0.18, 0.41):
        run = client.create_run(mlflow_world.experiment_id, tags={"kind": "loss"}).info.run_id
        client.log_metric(run, "log_loss", loss)
        losses[run] = loss
    frame = promotion_candidates("churn", "log_loss", 0.30, min_improvement=0.05,
                                 filter_string="tags.kind = 'loss'", greater_is_better=False,
                                 tracking_uri=mlflow_world.tracking_uri)
    assert frame["value"].to_list() == [0.18, 0.25]
    assert frame["improvement"].to_list() == pytest.approx([0.12, 0.05])


def test_a_store_mlflow_cannot_open_is_named(tmp_path):
    bogus = tmp_path / "mlflow.db"
    bogus.write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(TrackingUnreachable, match=f"cannot open the MLflow store at sqlite:///{bogus}"):
        load_production_model(MODEL, tracking_uri=f"sqlite:///{bogus}")
    with pytest.raises(TrackingUnreachable, match="nosuchscheme://x"):
        load_production_model(MODEL, tracking_uri="nosuchscheme://x")


def test_mlflows_default_store_missing_says_the_default_was_assumed(tmp_path, monkeypatch):
    from mlobs_notebook.errors import TrackingUnreachable
    from mlobs_notebook.sources.mlflow_access import connect

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # MLflow 3's default: sqlite:///mlflow.db in the working folder
    with pytest.raises(TrackingUnreachable, match="No tracking URI was given.*--tracking-uri"):
        connect(None)
    with pytest.raises(TrackingUnreachable) as given:
        connect(f"sqlite:///{tmp_path}/other.db")
    assert "No tracking URI was given" not in str(given.value)
