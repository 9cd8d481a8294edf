"""Reading sources: malformed input becomes problems with line numbers; every source kind loads."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlobs_notebook.errors import LineageParseError, SourceUnreadable
from mlobs_notebook.lineage import DatasetRef, load_lineage

RUN_A = "0190a1b2-0000-7000-8000-00000000000a"
RUN_B = "0190a1b2-0000-7000-8000-00000000000b"


def event(run_id, event_type="COMPLETE", t="2024-05-01T10:00:00Z", job="j", outputs=()):
    return {
        "eventType": event_type, "eventTime": t, "producer": "test",
        "run": {"runId": run_id}, "job": {"namespace": "ns", "name": job},
        "inputs": [], "outputs": [{"namespace": "file", "name": o} for o in outputs],
    }  # fmt: skip


@pytest.fixture
def messy(tmp_path):
    good_a = json.dumps(event(RUN_A, outputs=["/data/a"]))
    lines = [
        json.dumps(event(RUN_A, "START", "2024-05-01T09:00:00Z")),  # 1
        good_a[: len(good_a) // 2],  # 2 truncated
        "this is not json",  # 3
        json.dumps({**event(RUN_B), "run": {"facets": {}}}),  # 4 no run id
        json.dumps(event(RUN_B, t="yesterday at noon")),  # 5 bad timestamp
        json.dumps(event(RUN_B, "EXPLODED")),  # 6 unknown type
        json.dumps(event("not-a-uuid")),  # 7 invalid id
        "",  # 8 blank: ignored
        good_a,  # 9
        json.dumps(event(RUN_B, outputs=["/data/b"], job="k")),  # 10
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_malformed_lines_are_problems_and_good_lines_load(messy):
    g = load_lineage(messy)
    assert set(g.runs) == {RUN_A, RUN_B}
    assert g.runs[RUN_A].event_count == 2 and g.runs[RUN_A].state == "COMPLETE"
    assert g.event_count == 3
    by_line = {p.line: p.reason for p in g.problems}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]
    assert all(p.source == str(messy) for p in g.problems)
    assert "not valid JSON" in by_line[2] and "not valid JSON" in by_line[3]
    assert "runId" in by_line[4]
    assert "'yesterday at noon' is not an ISO 8601 timestamp" in by_line[5]
    assert "unknown eventType 'EXPLODED'" in by_line[6]
    assert "'not-a-uuid' is not a UUID" in by_line[7]


def test_strict_raises_on_the_first_problem(messy):
    with pytest.raises(LineageParseError) as info:
        load_lineage(messy, strict=True)
    assert info.value.line == 2 and info.value.source == str(messy)
    assert f"{messy}:2" in str(info.value)


def test_first_line_damaged_still_reads_the_rest(tmp_path):
    path = tmp_path / "e.json"
    path.write_text('{"eventType": "START", "eventTi\n' + json.dumps(event(RUN_A)) + "\n")
    g = load_lineage(path)
    assert list(g.runs) == [RUN_A] and [p.line for p in g.problems] == [1]


def test_folder_of_event_files_and_arrays_keep_line_numbers(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "2.json").write_text(json.dumps(event(RUN_A, "COMPLETE", "2024-05-01T10:00:00Z"), indent=2))
    (tmp_path / "10.json").write_text(json.dumps(event(RUN_B), indent=2))
    (tmp_path / "1.json").write_text(json.dumps(event(RUN_A, "START", "2024-05-01T09:00:00Z")))
    array = [event(RUN_B, "START", "2024-05-01T09:00:00Z"), {"eventTime": "2024-05-01T09:00:00Z", "job": {}}]
    text = json.dumps(array, indent=2)
    (tmp_path / "sub" / "arr.json").write_text(text)
    second_element_line = [i for i, line in enumerate(text.splitlines(), start=1) if line == "  {"][1]
    (tmp_path / "notes.md").write_text("not an event file")
    g = load_lineage(tmp_path)
    assert g.runs[RUN_A].start_time is not None and g.runs[RUN_A].state == "COMPLETE"
    assert g.runs[RUN_B].event_count == 2
    (problem,) = g.problems
    assert problem.source.endswith("arr.json") and problem.line == second_element_line and "job" in problem.reason


def test_a_batch_of_events_on_one_line(tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps([event(RUN_A, "START", "2024-05-01T09:00:00Z"), event(RUN_A), 42]) + "\n"
                    + json.dumps([event(RUN_B)]) + "\n")  # fmt: skip
    g = load_lineage(path)
    assert g.runs[RUN_A].event_count == 2 and RUN_B in g.runs
    assert [(p.line, p.reason) for p in g.problems] == [(1, "event skipped: expected a JSON object, got int")]


def test_iterable_of_dicts_and_missing_paths(tmp_path):
    g = load_lineage([event(RUN_A), event(RUN_B, job="k")])
    assert len(g.jobs) == 2
    with pytest.raises(SourceUnreadable, match="neither a file, a folder"):
        load_lineage(tmp_path / "nope.jsonl")


MARQUEZ = {
    "graph": [
        {"id": "dataset:postgres://db:5432:public.orders", "type": "DATASET",
         "data": {"id": {"namespace": "postgres://db:5432", "name": "public.orders"}, "name": "public.orders",
                  "namespace": "postgres://db:5432", "fields": [{"name": "id", "type": "INT"}],
                  "updatedAt": "2024-05-01T10:00:00Z"},
         "inEdges": [{"origin": "job:etl:load_orders", "destination": "dataset:postgres://db:5432:public.orders"}],
         "outEdges": []},
        {"id": "job:etl:load_orders", "type": "JOB",
         "data": {"id": {"namespace": "etl", "name": "load_orders"}, "name": "load_orders", "namespace": "etl",
                  "inputs": [{"namespace": "s3://raw", "name": "orders.csv"}],
                  "outputs": [{"namespace": "postgres://db:5432", "name": "public.orders"}],
                  "latestRun": {"id": RUN_A, "state": "FAILED", "endedAt": "2024-05-01T10:05:00Z"},
                  "updatedAt": "2024-05-01T10:05:00Z"},
         "inEdges": [], "outEdges": []},
        {"id": "job:etl:never_ran", "type": "JOB",
         "data": {"id": {"namespace": "etl", "name": "never_ran"}, "latestRun": None},
         "inEdges": [{"origin": "dataset:postgres://db:5432:public.orders", "destination": "job:etl:never_ran"}],
         "outEdges": []},
        {"id": "mystery:1", "type": "SOMETHING", "data": {}},
    ]
}  # fmt: skip


def test_saved_marquez_response(tmp_path):
    path = tmp_path / "lineage.json"
    path.write_text(json.dumps(MARQUEZ))
    g = load_lineage(path)
    orders = DatasetRef("postgres://db:5432", "public.orders")
    assert g.runs[RUN_A].state == "FAIL"
    assert g.datasets[orders].writers[0].name == "load_orders"
    assert [j.name for j in g.datasets[orders].readers] == ["never_ran"]  # from its inEdges
    assert g.datasets[orders].schema[0].name == "id"
    assert [p.reason for p in g.problems] == ["Marquez node 'mystery:1' has unknown type 'SOMETHING'"]


class _Handler(BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):  # noqa: N802
        time.sleep(self.delay)
        body = json.dumps(MARQUEZ).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up after its timeout, as the test wants

    def log_message(self, *args):
        pass


@pytest.fixture
def marquez_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    _Handler.delay = 0.0
    server.shutdown()
    server.server_close()


def test_live_marquez_and_its_timeout(marquez_server):
    url = f"http://127.0.0.1:{marquez_server.server_port}/api/v1/lineage?nodeId=job:etl:load_orders"
    assert RUN_A in load_lineage(url, timeout=5).runs
    _Handler.delay = 1.0
    with pytest.raises(SourceUnreadable, match="did not answer within 0.2 s"):
        load_lineage(url, timeout=0.2)


def test_unreachable_marquez_fails_fast():
    with pytest.raises(SourceUnreadable, match="127.0.0.1:9"):
        load_lineage("http://127.0.0.1:9/api/v1/lineage?nodeId=x", timeout=2)
