"""Panels benchmark: server-side cost of the DriftExplorer's controls on the demo world.

Run: .venv/bin/python benchmarks/panels_bench.py [--world PATH] [--repeat 30]

Target (issue 7): changing the DriftExplorer's feature under 200 ms, server side: from setting
``explorer.feature.value`` (what a browser's change message does) to the new figures and summary
sitting in the panel's display data, ready to be sent as display updates. Also timed: a window change, a LineageExplorer selection,
and the size of what a feature change sends. Without ``--world`` a demo world is built first
(about a minute). The drift report is computed once (daily windows since training), as a
notebook would, and not timed here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def timed(action, repeat: int) -> dict[str, float]:
    walls, cpus = [], []
    for i in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        action(i)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    walls.sort()
    return {
        "min_ms": round(walls[0], 1),
        "median_ms": round(statistics.median(walls), 1),
        "p95_ms": round(walls[min(len(walls) - 1, int(0.95 * len(walls)))], 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", help="an already built demo world (read only)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from mlobs_notebook import compute_drift, load_current, load_lineage, load_snapshot
    from mlobs_notebook.demo import Manifest, build_world

    if args.world:
        world = Manifest.load(args.world)
    else:
        world = build_world(Path(tempfile.mkdtemp(prefix="mlobs-bench-")) / "world")
    catalog = {"type": "sql", "uri": world.catalog["uri"], "warehouse": world.catalog["warehouse"]}
    baseline = load_snapshot(world.training_source_uri, catalog_properties=catalog)
    current = load_current(world.training_source_uri, world.time_column, start=world.training_date,
                           catalog_properties=catalog)  # fmt: skip
    report = compute_drift(baseline, current, time_column=world.time_column, granularity="1d", columns=world.features)

    t0 = time.perf_counter()
    from mlobs_notebook.widgets import DriftExplorer, LineageExplorer

    explorer = DriftExplorer(report)
    first_build = (time.perf_counter() - t0) * 1000
    features = [v for _, v in explorer.feature.options]
    windows = [v for _, v in explorer.window.options]
    for f in features:  # warm: first figure builds load plotly's validators
        explorer.feature.value = f

    def change_feature(i: int) -> None:
        explorer.feature.value = features[(i + 1) % len(features)]

    def change_window(i: int) -> None:
        explorer.window.value = windows[(i * 7 + 1) % len(windows)]

    feature = timed(change_feature, args.repeat)
    window = timed(change_window, args.repeat)
    sent = sum(len(json.dumps(d.data)) for name, d in explorer.displays.items() if name not in ("ranking", "table"))

    graph = load_lineage(world.lineage_file)
    from datetime import date

    incident = date.fromisoformat(world.incident_date)
    target = (world.lineage_dataset["namespace"], world.lineage_dataset["name"])
    lineage = LineageExplorer(graph, target, world.drifted_features[0] if world.drifted_features else None,
                              since=incident - timedelta(days=7), until=incident)  # fmt: skip
    nodes = [v for _, v in lineage.node.options]

    def select_node(i: int) -> None:
        lineage.node.value = nodes[(i + 1) % len(nodes)]

    select = timed(select_node, args.repeat)
    results = {
        "world": world.path,
        "windows": report.windows,
        "features": len(features),
        "drift_explorer_first_build_ms": round(first_build, 1),
        "drift_explorer_feature_change": feature,
        "drift_explorer_window_change": window,
        "feature_change_sends_bytes": sent,
        "lineage_explorer_node_select": select,
        "goal": "feature change median < 200 ms",
        "met": feature["median_ms"] < 200,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
