"""investigate() on stores built the way users build them (tests/store_worlds.py): each kind of
store from ../shared/cases/stores ends with the right verdict through its way past, or stops with
an error naming that way. With no lineage given, the broken feature reads as data drift."""

from __future__ import annotations

import json
import warnings
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
import store_worlds as w

import mlobs_notebook
from mlobs_notebook.errors import InputError, NoDatasetInputs, SourceUnreadable, StageDeprecated
from mlobs_notebook.investigation import investigate

SCHEMA = json.loads((Path(mlobs_notebook.__file__).parent / "schemas" / "investigation.schema.json").read_text())
# the AUC of day t's predictions is logged LABEL_DELAY days later; the feature breaks on BROKEN_FROM
BROKEN = (w.CURRENT_START + timedelta(days=w.BROKEN_FROM)).date()


@pytest.fixture(scope="module")
def model():
    return w.fit()


@pytest.fixture(scope="module")
def aucs(model):
    return w.daily_auc(model)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("stores")


def _investigate(store, **kwargs):
    kwargs.setdefault("current", w.CURRENT)
    return investigate(w.MODEL, tracking_uri=store.uri, time_column=w.TIME, **kwargs)


def _assert_data_drift(inv, metric_drop_after: date = BROKEN):
    assert inv.verdict == "data_drift", inv.diagnosis.evidence
    assert [o.feature for o in inv.drifted_features] == ["merchant_risk"]
    assert abs((inv.drifted_features[0].onset.date() - BROKEN).days) <= 1
    assert 0 <= (inv.drop.onset.date() - metric_drop_after).days <= w.LABEL_DELAY + 1


@pytest.fixture(scope="module")
def no_inputs(root, empty_store, model, aucs):
    """No dataset logged (the most common case); evaluations by a backfill, dated in a tag."""
    store = w.new_store(root, "no_inputs", empty_store)
    w.train_and_register(store, model, alias="champion")
    w.log_backfilled_evaluations(store, aucs, tag="scored_on")
    w.TRAIN.to_parquet(store.folder / "train.parquet")
    return store


def test_no_dataset_logged_names_baseline(no_inputs):
    with pytest.raises(NoDatasetInputs, match=r"logged no dataset inputs.*--baseline") as info:
        _investigate(no_inputs, alias="champion")
    assert "iceberg://" in str(info.value) and "delta:///" in str(info.value)


def test_backfilled_runs_on_one_date_are_inconclusive_and_name_the_tag(no_inputs):
    inv = _investigate(no_inputs, alias="champion", baseline=str(no_inputs.folder / "train.parquet"))
    assert inv.verdict == "inconclusive"
    assert inv.inconclusive.flag == "--date-from tags.scored_on"
    assert f"{len(w.CURRENT[w.TIME].dt.date.unique())} of the {len(w.CURRENT[w.TIME].dt.date.unique())} evaluations" in inv.inconclusive.reason
    assert "--date-from tags.scored_on" in inv.diagnosis.recommendation
    payload = json.loads(inv.to_json())
    jsonschema.validate(payload, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert payload["verdict"] == "inconclusive" and payload["inconclusive"]["flag"] == "--date-from tags.scored_on"
    from mlobs_notebook.postmortem import text_summary

    text = text_summary(inv)
    assert "Verdict: inconclusive" in text and "Fix: re-run with --date-from tags.scored_on" in text
    assert "Fix: re-run with --date-from tags.scored\\_on" in inv.to_markdown()  # _ escaped for Markdown
    assert "Fix: re-run with --date-from tags.scored_on" in inv.to_html()


def test_the_tag_dates_them_and_the_baseline_gets_past(no_inputs):
    inv = _investigate(no_inputs, alias="champion", baseline=str(no_inputs.folder / "train.parquet"),
                       date_from="tags.scored_on")
    _assert_data_drift(inv)
    assert inv.drop.points == w.CURRENT_DAYS
    assert inv.baseline_source == str(no_inputs.folder / "train.parquet")
    assert any("given with --baseline" in n and "recorded no dataset" in n for n in inv.notes)
    assert inv.metric_source.kind == "evaluation_runs" and "tags.scored_on" in inv.diagnosis.evidence[0]


def test_a_date_from_tag_no_run_holds_names_the_tag_and_the_tags_they_hold(no_inputs):
    with pytest.raises(InputError, match=r"--date-from tags.scored: none of the \d+ run\(s\) with metric 'auc' "
                                         r"has the tag 'scored'; their tags: .*scored_on"):
        _investigate(no_inputs, alias="champion", baseline=str(no_inputs.folder / "train.parquet"),
                     date_from="tags.scored")


def test_a_schema_checks_an_inconclusive_payload_has_its_reason(no_inputs):
    inv = _investigate(no_inputs, alias="champion", baseline=w.TRAIN)
    payload = json.loads(inv.to_json())
    payload["inconclusive"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, SCHEMA)


@pytest.fixture(scope="module")
def code_source(root, empty_store, model, aucs):
    """from_pandas(df) without a source ('code'); MLflow 3 metrics logged on the LoggedModel."""
    import mlflow

    store = w.new_store(root, "code_source", empty_store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    w.log_model_metrics(store, aucs)
    return store


def test_a_code_source_says_what_mlflow_recorded_and_names_baseline(code_source):
    with pytest.raises(SourceUnreadable, match=r"'code' source.*from_pandas\(df\) without source=.*--baseline"):
        _investigate(code_source)


def test_logged_model_metrics_with_a_frame_as_baseline(code_source):
    inv = _investigate(code_source, baseline=w.TRAIN)
    _assert_data_drift(inv)
    assert inv.metric_source.kind == "logged_model"
    assert any("no run matched the default filter" in n for n in inv.notes)
    # the frame given is checked against the digest MLflow recorded for the training run
    assert inv.snapshot_check is not None and inv.snapshot_check.status in ("match", "partial")


def test_an_empty_eval_filter_means_no_filter(code_source, capsys, tmp_path, model):
    from mlobs_notebook.cli import main

    with w.fluent(code_source) as mlflow, mlflow.start_run(run_name="candidate"):  # another training run
        mlflow.log_metric("auc", 0.99)
        mlflow.sklearn.log_model(model, name="model")
    current = tmp_path / "current.parquet"
    w.CURRENT.to_parquet(current)
    base = tmp_path / "train.csv"
    w.TRAIN.to_csv(base, index=False)
    code = main(["investigate", "--tracking-uri", code_source.uri, "--model", w.MODEL, "--time-column", w.TIME,
                 "--current", str(current), "--baseline", str(base), "--eval-filter", "", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0
    payload = json.loads(out.out)
    # every run, no filter: the evaluation runs all started now, so they are dated on one day;
    # their metric was stamped with the day each evaluated, which the reason names
    assert payload["metric"]["source"]["description"].startswith(f"{w.CURRENT_DAYS} evaluation run(s)")
    assert payload["metric"]["source"]["description"].count("(no run filter)") == 1
    assert any("1 run(s) that logged a model (training runs, not evaluations) were left out" in n
               for n in payload["notes"])
    assert payload["verdict"] == "inconclusive"
    assert payload["inconclusive"]["flag"] == "--date-from metric_timestamp"
    assert "the auc series:" in out.err


@pytest.fixture(scope="module")
def history(root, empty_store, model, aucs):
    """A monitoring run logging the metric as daily steps, and another without timestamps."""
    import mlflow

    store = w.new_store(root, "history", empty_store)
    path = store.folder / "train.parquet"
    w.TRAIN.to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=str(path), targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    stamped = w.log_monitoring_history(store, aucs)
    with w.fluent(store) as fl, fl.start_run(run_name="steps-only") as run:
        for step, (_, value) in enumerate(aucs):
            fl.log_metric("auc", value, step=step)
    return store, stamped, run.info.run_id


def test_one_run_with_a_history_is_named_for_metric_run(history):
    store, stamped, _ = history
    inv = _investigate(store)
    assert inv.verdict == "inconclusive" and inv.drop.points == 1
    assert inv.inconclusive.flag == f"--metric-run {stamped}"
    _assert_data_drift(_investigate(store, metric_run=stamped))


def test_a_history_without_timestamps_is_dated_by_step(history):
    store, _, steps_only = history
    inv = _investigate(store, metric_run=steps_only)
    assert inv.verdict == "inconclusive" and "step:" in inv.inconclusive.flag
    first_day = (w.CURRENT_START + timedelta(days=w.LABEL_DELAY)).date().isoformat()
    _assert_data_drift(_investigate(store, metric_run=steps_only, date_from=f"step:{first_day}"))


@pytest.fixture(scope="module")
def predictions(root, empty_store, model):
    """An inference table (features, score, label arriving late) and no evaluation runs."""
    import mlflow

    store = w.new_store(root, "predictions", empty_store)
    path = store.folder / "train.parquet"
    w.TRAIN.to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=str(path), targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    log = w.predictions_log(model)
    log.to_parquet(store.folder / "inference.parquet")
    w.predictions_log(model, arrived_until=w.CURRENT_START).to_parquet(store.folder / "unlabelled.parquet")
    return store, log


def test_without_evaluations_the_error_names_the_predictions_flags(predictions):
    store, _ = predictions
    with pytest.raises(InputError, match=r"--predictions URI --prediction-column COL --label-column COL.*'fraud_score'"):
        _investigate(store, current=str(store.folder / "inference.parquet"))


def test_auc_per_window_from_the_predictions_log(predictions):
    from sklearn.metrics import roc_auc_score

    store, log = predictions
    inv = _investigate(store, current=None, predictions=str(store.folder / "inference.parquet"),
                       prediction_column="fraud_score", label_column=w.LABEL)
    _assert_data_drift(inv, metric_drop_after=BROKEN - timedelta(days=w.LABEL_DELAY))
    assert inv.metric_source.kind == "predictions" and inv.current_source.endswith("inference.parquet")
    assert "fraud_score" not in inv.features and w.LABEL not in inv.features
    labelled = log.dropna(subset=[w.LABEL])
    expected = {day: roc_auc_score(g[w.LABEL].astype(int), g["fraud_score"])
                for day, g in labelled.groupby(labelled[w.TIME].dt.date)}
    got = {r["window_start"].date(): r["value"] for r in inv.metric.iter_rows(named=True)}
    assert got.keys() == expected.keys()
    assert all(abs(got[d] - expected[d]) < 1e-12 for d in got)
    counts = labelled.groupby(labelled[w.TIME].dt.date).size()
    assert inv.metric["labelled_rows"].to_list() == counts.tolist()
    assert inv.metric_source.labelled_rows == len(labelled) and inv.metric_source.rows == len(log)
    payload = json.loads(inv.to_json())
    jsonschema.validate(payload, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert payload["metric"]["series"][0]["labelled_rows"] == counts.iloc[0]


def test_no_labelled_rows_yet_is_inconclusive(predictions):
    store, _ = predictions
    inv = _investigate(store, predictions=str(store.folder / "unlabelled.parquet"),
                       prediction_column="fraud_score", label_column=w.LABEL)
    assert inv.verdict == "inconclusive" and inv.inconclusive.flag == "--label-column"
    assert "no labelled rows yet" in inv.inconclusive.reason


def test_f1_at_a_threshold_and_a_loss_that_rises(predictions):
    from sklearn.metrics import f1_score

    store, log = predictions
    inv = _investigate(store, predictions=str(store.folder / "inference.parquet"), prediction_column="fraud_score",
                       label_column=w.LABEL, metric="f1", threshold=0.3)
    first = log.dropna(subset=[w.LABEL])
    first = first[first[w.TIME].dt.date == w.CURRENT_START.date()]
    assert inv.metric["value"][0] == pytest.approx(f1_score(first[w.LABEL].astype(int), first["fraud_score"] >= 0.3))
    loss = _investigate(store, predictions=str(store.folder / "inference.parquet"), prediction_column="fraud_score",
                        label_column=w.LABEL, metric="log_loss")
    assert loss.metric_source.higher_is_better is False
    assert loss.verdict == "data_drift" and loss.drop.value_at_onset > loss.drop.reference


@pytest.fixture(scope="module")
def legacy_stage(root, empty_store, model, aucs):
    import mlflow

    store = w.new_store(root, "legacy_stage", empty_store)
    path = store.folder / "train.parquet"
    w.TRAIN.to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=str(path), targets=w.LABEL)
    w.train_and_register(store, model, dataset, alias=None, stage="Production")
    w.log_backfilled_evaluations(store, aucs, tag="eval_date")
    return store


def test_a_legacy_stage_is_found_with_mlflows_deprecation_noted(legacy_stage):
    with pytest.warns(StageDeprecated, match="no alias 'production'; read its legacy stage 'Production'"):
        inv = _investigate(legacy_stage, date_from="tags.eval_date")
    _assert_data_drift(inv)
    assert inv.model.stage == "Production" and any("deprecated registry stages" in n for n in inv.notes)
    with pytest.warns(StageDeprecated):
        assert _investigate(legacy_stage, alias="Production", date_from="tags.eval_date").verdict == "data_drift"


def test_an_unknown_alias_names_the_uris_that_work(legacy_stage):
    from mlobs_notebook.errors import AliasNotFound

    with pytest.raises(AliasNotFound, match=r"models:/fraud_scorer/Production or models:/fraud_scorer/1"):
        _investigate(legacy_stage, alias="champion")


def _arrow(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 deprecates what pyarrow reads of a zone-aware column
        return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="module")
def delta_world(root, empty_store, model):
    """A Delta table written with deltalake, logged at version 0 (which MLflow drops); the table
    then grows day by day after training, and the current data is read from it."""
    import mlflow
    from deltalake import write_deltalake
    from mlflow.data.delta_dataset_source import DeltaDatasetSource

    store = w.new_store(root, "delta", empty_store)
    table = store.folder / "features_delta"
    write_deltalake(str(table), _arrow(w.TRAIN))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=DeltaDatasetSource(path=str(table), delta_table_version=0),
                                          targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    for week in range(0, w.CURRENT_DAYS, 9):  # the pipeline appends after training
        part = w.CURRENT[(w.CURRENT[w.TIME] >= w.CURRENT_START + timedelta(days=week))
                         & (w.CURRENT[w.TIME] < w.CURRENT_START + timedelta(days=week + 9))]
        write_deltalake(str(table), _arrow(part), mode="append")
    w.log_model_metrics(store, w.daily_auc(model))
    return store, table


def test_a_delta_table_logged_at_version_0_is_read_as_of_training(delta_world):
    store, table = delta_world
    inv = _investigate(store, current=None)
    _assert_data_drift(inv)
    assert inv.baseline_source.endswith("@0")  # not the latest version, which holds the current rows
    assert any("recorded without a version: read version 0" in n for n in inv.notes)
    assert any("recorded without a version" in e for e in inv.diagnosis.evidence)
    assert inv.current_source == f"delta://{table}" and inv.current_range[0].date() == w.CURRENT_START.date()
    assert inv.snapshot_check.status in ("match", "partial")


def test_the_same_table_logged_as_a_folder_is_a_delta_table(delta_world, tmp_path):
    from mlobs_notebook.records import SourceRef
    from mlobs_notebook.sources.scan import open_source

    _, table = delta_world
    from deltalake import DeltaTable

    first = DeltaTable(str(table)).history()[-1]["timestamp"]
    from mlobs_notebook.times import from_epoch_ms

    opened = open_source(SourceRef("local", str(table), path=str(table), as_of=from_epoch_ms(first + 1)))
    assert opened.ref.kind == "delta" and opened.ref.version == 0
    assert opened.frame.collect().height == len(w.TRAIN)  # never every version's parquet files
    latest = open_source(SourceRef("local", str(table), path=str(table)))
    assert latest.frame.collect().height == len(w.TRAIN) + len(w.CURRENT) and latest.note is None


@pytest.fixture(scope="module")
def single_file(root, empty_store, model, aucs):
    import mlflow

    store = w.new_store(root, "single_file", empty_store)
    path = store.folder / "train.parquet"
    w.TRAIN.to_parquet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = mlflow.data.from_pandas(w.TRAIN, source=str(path), targets=w.LABEL)
    w.train_and_register(store, model, dataset)
    w.log_model_metrics(store, aucs)
    return store, path


def test_a_single_file_source_asks_for_current_before_any_work(single_file, monkeypatch):
    from mlobs_notebook.investigation import inputs

    store, path = single_file

    def no_reading(*args, **kwargs):
        raise AssertionError("the baseline was read before asking for --current")

    monkeypatch.setattr(inputs, "resolve_baseline", no_reading)
    monkeypatch.setattr("mlobs_notebook.investigation.facade.resolve_baseline", no_reading)
    with pytest.raises(InputError, match=rf"current data is needed: the training data is the single file {path}.*--current"):
        _investigate(store, current=None)


def test_a_changed_snapshot_shows_in_every_output(single_file, tmp_path):
    store, path = single_file
    changed = w.TRAIN.copy()
    changed.loc[:50, "txn_amount_avg"] += 1.0
    copy = tmp_path / "train.parquet"
    path.rename(copy)
    try:
        changed.to_parquet(path)
        inv = _investigate(store)
    finally:
        copy.replace(path)
    assert inv.snapshot_check.status == "mismatch"
    assert any(e.startswith("The baseline is not the data MLflow recorded") for e in inv.diagnosis.evidence)
    from mlobs_notebook.postmortem import text_summary

    assert "Digest check: mismatch: the snapshot changed since training" in text_summary(inv)
    assert json.loads(inv.to_json())["baseline"]["digest_status"] == "mismatch"
    assert "digest check: mismatch" in inv.to_markdown()
    assert "mismatch: the snapshot changed since training" in inv.to_html()


def test_lineage_without_the_feature_table_says_so_not_no_lineage(single_file, tmp_path):
    from openlineage.client import OpenLineageClient, event_v2
    from openlineage.client.transport.file import FileConfig, FileTransport

    store, _ = single_file
    events = tmp_path / "lineage.jsonl"
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(events), append=True)))
    client.emit(event_v2.RunEvent(
        eventType=event_v2.RunState.COMPLETE, eventTime="2026-04-10T03:00:00+00:00", producer="https://example.com/t",
        run=event_v2.Run(runId="0190c6d8-0000-7000-8000-000000000001"), job=event_v2.Job(namespace="etl", name="fraud_features"),
        inputs=[], outputs=[event_v2.OutputDataset(namespace="s3://lake", name="fraud/features_v2")],
    ))
    inv = _investigate(store, lineage=str(events))
    assert inv.verdict == "data_drift"
    said = " ".join(inv.diagnosis.evidence)
    assert "The lineage holds no dataset matching the training source (closest: " in said
    assert "No lineage was given" not in said


def test_evaluations_before_the_training_data_ends_are_left_out():
    from datetime import UTC, datetime

    import polars as pl

    from mlobs_notebook.investigation.metric_inputs import after_training
    from mlobs_notebook.records import MetricSource
    from mlobs_notebook.times import Granularity

    days = [datetime(2026, 3, d, tzinfo=UTC) for d in range(18, 26)]
    series = pl.DataFrame({"window_start": days, "value": [0.7] * 8, "run_id": ["r"] * 8, "points": [1] * 8})
    source = MetricSource("evaluation_runs", "auc", "runs")
    kept, noted = after_training(series, source, datetime(2026, 3, 21, 23, 59, tzinfo=UTC), Granularity.parse("1d"))
    assert kept["window_start"].to_list() == days[3:]  # the window holding the end of training stays
    assert noted.notes == ("3 window(s) of auc before the training data ends (2026-03-21 23:59 UTC) were left out: "
                           "they cannot evaluate this model in production",)
    assert after_training(series, source, None, Granularity.parse("1d")) == (series, source)
