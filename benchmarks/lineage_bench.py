"""Lineage benchmark: load 100,000 OpenLineage events; query a 10,000-node graph.

Run: .venv/bin/python benchmarks/lineage_bench.py [--events 100000] [--repeat 50]

Targets (issue 5): the load under 10 s; upstream and changes under 50 ms on a 10,000-node graph.
Events are written as JSON Lines in the shape the openlineage-python file transport writes
(START without datasets, COMPLETE with schema, columnLineage, outputStatistics and sql facets),
with plain json.dumps because emitting 100,000 events through the client would time the client.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mlobs_notebook.lineage import load_lineage

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def facet(body: dict) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/X.json", **body}


def write_events(path: Path, layers: int, width: int, runs_per_job: int, columns: int = 4) -> int:
    """A layered pipeline: job (l, w) reads datasets (l-1, w) and (l-1, (w+1) % width) and writes (l, w)."""
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    n = 0
    with path.open("w") as fh:
        for r in range(runs_per_job):
            for layer in range(layers):
                for w in range(width):
                    job = {"namespace": "bench", "name": f"job_{layer}_{w}",
                           "facets": {"sql": facet({"query": f"SELECT * FROM t -- v{r // 50}"})}}  # fmt: skip
                    run_id = str(uuid.UUID(int=(r * layers * width + layer * width + w) * 2 + 1, version=4))
                    start = t0 + timedelta(days=r, minutes=layer)
                    ins = [] if layer == 0 else [{"namespace": "s3://bench", "name": f"d_{layer - 1}_{x}"} for x in {w, (w + 1) % width}]
                    out_name = f"d_{layer}_{w}"
                    lineage = {} if layer == 0 else {
                        f"c{c}": {"inputFields": [{"namespace": "s3://bench", "name": f"d_{layer - 1}_{w}", "field": f"c{c}",
                                                   "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]}
                        for c in range(columns)
                    }  # fmt: skip
                    out = {"namespace": "s3://bench", "name": out_name,
                           "facets": {"schema": facet({"fields": [{"name": f"c{c}", "type": "int"} for c in range(columns)]}),
                                      **({"columnLineage": facet({"fields": lineage})} if lineage else {})},
                           "outputFacets": {"outputStatistics": facet({"rowCount": 1000 + (r * 7919 + w) % 97})}}  # fmt: skip
                    base = {"producer": PRODUCER, "schemaURL": SCHEMA_URL, "job": job}
                    fh.write(json.dumps({**base, "eventType": "START", "eventTime": start.isoformat(),
                                         "run": {"runId": run_id, "facets": {}}, "inputs": [], "outputs": []}) + "\n")  # fmt: skip
                    fh.write(json.dumps({**base, "eventType": "COMPLETE", "eventTime": (start + timedelta(seconds=30)).isoformat(),
                                         "run": {"runId": run_id, "facets": {}}, "inputs": ins, "outputs": [out]}) + "\n")  # fmt: skip
                    n += 2
    return n


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """(min, median, max) wall milliseconds."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return min(samples) * 1000, statistics.median(samples) * 1000, max(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50, help="timings per query")
    parser.add_argument("--load-repeat", type=int, default=3, help="timed loads of the big file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # 1. load: layers x width jobs, enough runs to reach --events
        layers, width = 10, 20
        runs = max(1, args.events // (2 * layers * width))
        big = Path(tmp) / "big.jsonl"
        n = write_events(big, layers, width, runs)
        size_mb = big.stat().st_size / 1e6
        walls, cpus = [], []
        for _ in range(args.load_repeat):
            t, cpu = time.perf_counter(), time.process_time()
            g = load_lineage(big)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - cpu)
        print(f"load: {n} events ({size_mb:.0f} MB) -> {len(g.runs)} runs, {len(g.jobs)} jobs, "
              f"{len(g.datasets)} datasets, {g.graph.number_of_nodes()} graph nodes")  # fmt: skip
        print(f"  wall min {min(walls):.2f} s  median {statistics.median(walls):.2f} s; "
              f"CPU min {min(cpus):.2f} s  median {statistics.median(cpus):.2f} s "
              f"({args.load_repeat} loads; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
        assert not g.problems
        del g
        gc.collect()  # so the query timings below do not pay for collecting the big graph

        # 2. queries on a graph of about 10,000 nodes (jobs, datasets, runs, versions, fields)
        small = Path(tmp) / "small.jsonl"
        write_events(small, layers=25, width=40, runs_per_job=3)
        g = load_lineage(small)
        nodes = g.graph.number_of_nodes()
        target = ("s3://bench", "d_24_0")
        since, until = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
        cases = {
            "upstream(dataset)": lambda: g.upstream(target),
            "upstream(dataset, column)": lambda: g.upstream(target, "c1"),
            "changes(dataset, since, until)": lambda: g.changes(target, since=since, until=until),
            "changes(dataset, column, since, until)": lambda: g.changes(target, "c1", since=since, until=until),
        }
        up = g.upstream(target)
        print(f"queries on a graph of {nodes} nodes ({len(g.runs)} runs); upstream of {target[1]}: "
              f"{len(up.jobs)} jobs, {len(up.datasets)} datasets")  # fmt: skip
        for name, fn in cases.items():
            best, med, worst = timed(fn, args.repeat)
            print(f"  {name:<40} min {best:7.2f} ms   median {med:7.2f} ms   max {worst:7.2f} ms")


if __name__ == "__main__":
    main()
