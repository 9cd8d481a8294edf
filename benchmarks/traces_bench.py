"""100,000 MLflow traces read into per-trace features, whole process, side by side with MLflow's API.

    .venv/bin/python benchmarks/traces_bench.py [--traces 100000] [--data benchmarks/data/traces]
                                                [--repeat 3] [--skip-peer]

**The store.** A rag_assistant demo world (real traces written by MLflow's tracing, real
assessments, an mlflow.genai.evaluate run) is built once, then its traces are replicated in SQL
until the store holds ``--traces`` traces: every row of ``trace_info``, ``trace_tags``,
``trace_request_metadata``, ``spans`` and ``assessments`` is copied from a row MLflow wrote, with
new ids (the ``tr-`` request id, the OpenTelemetry trace id inside each span's JSON, the
assessment ids) and its times shifted by whole days, so MLflow's own readers read the copies as
traces (the check below compares both paths on them). Writing 100,000 traces through MLflow's
tracing takes about an hour on this machine (about 40 ms a trace); copying takes a minute.

**The runs**, each a fresh process timed from its start to its exit (imports included):

- ``ours (sql)``: ``read_traces(experiment, method="sql")``, the read-only SQL path;
- ``ours (auto)``: the default, which takes SQL after checking the schema;
- ``peer: mlflow.search_traces``: MLflow's public API returning the same traces as a pandas frame
  (``include_spans=True``, its default), no features computed;
- ``ours (api)``: ``read_traces(method="api")``, MLflow's API paged plus our features.

``--check`` compares the SQL and API frames on a day of the replicated store. The figures go to
stdout as a Markdown table; ``RESULTS-traces.md`` holds the last run's.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ATTRIBUTE = "rag_assistant:query.product"
DAY_MS = 86_400_000
TABLES = ("trace_info", "trace_tags", "trace_request_metadata", "spans", "assessments")


def build(data: Path, traces: int) -> Path:
    """The demo world in ``data/world`` with its store grown to ``traces`` traces."""
    world = data / "world"
    db = world / "mlflow.db"
    if db.exists():
        with sqlite3.connect(db) as con:
            if con.execute("SELECT COUNT(*) FROM trace_info").fetchone()[0] >= traces:
                return world
    else:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlobs_notebook.cli", "demo", "--scenario", "rag_index_bug", "--out",
                        str(world), "--days", "30", "--traces-per-day", "40", "--build-only", "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"seed world (1,260 traces written by MLflow's tracing): {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    replicate(db, traces)
    print(f"replicated to {traces:,} traces in {time.perf_counter() - t0:.0f} s", flush=True)
    return world


def _ids() -> tuple[str, str]:
    value = uuid.uuid4().int
    return f"tr-{value:032x}", base64.b64encode(value.to_bytes(16, "big")).decode()


def replicate(db: Path, traces: int) -> None:
    """Copy the production traces (not the evaluation run's) with new ids, shifted by whole
    copies of their time span, until the store holds ``traces`` traces."""
    con = sqlite3.connect(db)
    columns = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    seed = [r[0] for r in con.execute(
        "SELECT request_id FROM trace_info ti WHERE NOT EXISTS (SELECT 1 FROM trace_request_metadata m "
        "WHERE m.request_id = ti.request_id AND m.key = 'mlflow.sourceRun') ORDER BY timestamp_ms")]
    rows = {t: {} for t in TABLES}
    for table in TABLES:
        key = "trace_id" if table in ("spans", "assessments") else "request_id"
        # table_info leaves out generated columns (spans.duration_ns), which SQLite computes itself
        listed = ", ".join(columns[table])
        for row in con.execute(f"SELECT {listed} FROM {table} WHERE {key} IN (SELECT request_id FROM trace_info)"):
            record = dict(zip(columns[table], row, strict=True))
            rows[table].setdefault(record[key], []).append(record)
    lo, hi = con.execute(f"SELECT MIN(timestamp_ms), MAX(timestamp_ms) FROM trace_info WHERE request_id IN "
                         f"({','.join('?' * len(seed))})", seed).fetchone()
    shift_days = (hi - lo) // DAY_MS + 1
    have = con.execute("SELECT COUNT(*) FROM trace_info").fetchone()[0]
    copy = 0
    while have < traces:
        copy += 1
        shift = copy * shift_days * DAY_MS
        batch = {t: [] for t in TABLES}
        for old in seed:
            if have >= traces:
                break
            new, new_otel = _ids()
            old_otel = base64.b64encode(int(old[3:], 16).to_bytes(16, "big")).decode()
            for table in TABLES:
                for record in rows[table].get(old, []):
                    r = dict(record)
                    _rewrite(table, r, old, new, old_otel, new_otel, shift)
                    batch[table].append(tuple(r[c] for c in columns[table]))
            have += 1
        for table in TABLES:
            placeholders = ",".join("?" * len(columns[table]))
            con.executemany(f"INSERT INTO {table} ({', '.join(columns[table])}) VALUES ({placeholders})", batch[table])
        con.commit()
    con.execute("VACUUM")
    con.close()


_NANOS = re.compile(r'("(?:start|end)_time_unix_nano": )(\d+)|("mlflow\.spanStartTimeNs": ")(\d+)(")')


def _rewrite(table: str, r: dict, old: str, new: str, old_otel: str, new_otel: str, shift_ms: int) -> None:
    for key in ("request_id", "trace_id"):
        if r.get(key) == old:
            r[key] = new
    if table == "trace_info":
        r["timestamp_ms"] += shift_ms
    elif table == "trace_tags" and isinstance(r["value"], str):
        r["value"] = r["value"].replace(old, new)
    elif table == "spans":
        shift_ns = shift_ms * 1_000_000
        r["start_time_unix_nano"] += shift_ns
        if r["end_time_unix_nano"] is not None:
            r["end_time_unix_nano"] += shift_ns
        content = r["content"].replace(old, new).replace(old_otel, new_otel)
        r["content"] = _NANOS.sub(lambda m: (f"{m[1]}{int(m[2]) + shift_ns}" if m[1]
                                             else f"{m[3]}{int(m[4]) + shift_ns}{m[5]}"), content)
    elif table == "assessments":
        r["assessment_id"] = f"a-{uuid.uuid4().hex}"
        for key in ("created_timestamp", "last_updated_timestamp", "trace_timestamp_ms"):
            if r.get(key) is not None:
                r[key] += shift_ms


def timed(code: str) -> tuple[float, float, float, str]:
    """(wall seconds from a fresh interpreter's start to its exit, its CPU seconds, its peak RSS
    in GB, what it printed last). CPU seconds are the steadier figure on a shared machine."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if status != 0:
            raise RuntimeError(f"the run failed: {err.read().decode(errors='replace')[-2000:]}")
        last = out.read().decode().strip().splitlines()[-1]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e6, last


def ours(uri: str, method: str) -> str:
    return ("from mlobs_notebook.sources.traces import read_traces; "
            f"d = read_traces('rag_assistant', tracking_uri={uri!r}, span_attributes=[{ATTRIBUTE!r}], method={method!r}); "
            "print(len(d), d.method, d.features.width, d.assessments.height)")


def peer(uri: str) -> str:
    return ("import mlflow; mlflow.set_tracking_uri(" + repr(uri) + "); "
            "e = mlflow.get_experiment_by_name('rag_assistant').experiment_id; "
            "df = mlflow.search_traces(locations=[e], max_results=None); print(len(df), 'pandas', df.shape[1])")


def check(uri: str) -> str:
    return ("from polars.testing import assert_frame_equal; from mlobs_notebook.sources.traces import read_traces; "
            f"kw = dict(tracking_uri={uri!r}, span_attributes=[{ATTRIBUTE!r}], start='2026-08-15', end='2026-08-15'); "
            "a = read_traces('rag_assistant', method='sql', **kw); b = read_traces('rag_assistant', method='api', **kw); "
            "assert_frame_equal(a.features, b.features); "
            "assert_frame_equal(a.assessments.sort('assessment_id'), b.assessments.sort('assessment_id')); "
            "print(len(a), 'identical')")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--data", default=str(Path(__file__).parent / "data" / "traces"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-peer", action="store_true", help="leave out MLflow's API runs (minutes each)")
    parser.add_argument("--check", action="store_true", help="compare the SQL and API frames on one day")
    args = parser.parse_args()
    world = build(Path(args.data), args.traces)
    uri = f"sqlite:///{(world / 'mlflow.db').resolve()}"
    size = (world / "mlflow.db").stat().st_size / 1e6
    print(f"store: {uri} ({size:,.0f} MB); load average {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC", flush=True)
    if args.check:
        print("check:", timed(check(uri))[-1], flush=True)
    print("| run | wall, median | wall, min | CPU, median | peak RSS | runs | result |\n|---|---|---|---|---|---|---|")
    runs = [("ours (sql)", ours(uri, "sql"), args.repeat), ("ours (auto)", ours(uri, "auto"), args.repeat)]
    if not args.skip_peer:
        runs += [("peer: mlflow.search_traces", peer(uri), 1), ("ours (api)", ours(uri, "api"), 1)]
    results = {}
    for name, code, repeat in runs:
        walls, cpus, peak = [], [], 0.0
        for _ in range(repeat):
            wall, cpu, rss, last = timed(code)
            walls.append(wall)
            cpus.append(cpu)
            peak = max(peak, rss)
        results[name] = statistics.median(walls)
        print(f"| {name} | {statistics.median(walls):.1f} s | {min(walls):.1f} s | {statistics.median(cpus):.1f} s | "
              f"{peak:.1f} GB | {repeat} | {last} |", flush=True)
    if "peer: mlflow.search_traces" in results:
        ratio = results["peer: mlflow.search_traces"] / results["ours (sql)"]
        print(f"ours (sql) is {ratio:.0f}x faster than mlflow.search_traces, whole process")
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))


if __name__ == "__main__":
    main()
