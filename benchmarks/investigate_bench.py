"""Time `mlobs investigate` on the default demo world, whole process, and where the time goes.

    .venv/bin/python benchmarks/investigate_bench.py [--world DIR] [--repeat 3]

Builds the default world first if DIR holds none (and reports that build's time too: the
foundation issue's goal is under 60 s). Goal for the investigation, the multivariate step
included: under 15 s on 2 cores; runs with and without that step are interleaved.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", default="/tmp/mlobs-bench-world")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    world = Path(args.world)
    if not (world / "manifest.json").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mlobs_notebook.cli", "demo", "--out", str(world),
                        "--build-only", "--force"], check=True, stdout=subprocess.DEVNULL)
        print(f"demo world build (whole process): {time.perf_counter() - t0:.1f} s")
    manifest = json.loads((world / "manifest.json").read_text())
    print(f"world build as recorded: {manifest['build_seconds']} s, steps {manifest['timings']}")

    # interleaved, so both see the same load: the whole investigation, and the same without the
    # joint-distribution step (the domain classifier and PCA reconstruction error)
    walls: dict[str, list[float]] = {"with the multivariate step": [], "without (--no-multivariate)": []}
    cpu: dict[str, list[float]] = {label: [] for label in walls}
    load = os.getloadavg()[0]
    for _ in range(args.repeat):
        for label, extra in zip(walls, ([], ["--no-multivariate"]), strict=True):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "mlobs_notebook.cli", "investigate", "--demo", str(world),
                                  "--format", "json", *extra], check=True, capture_output=True, text=True)
            walls[label].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[label].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            verdict = json.loads(out.stdout)["verdict"]
    print(f"load average (1 min) at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f}")
    for label, times in walls.items():
        print(f"mlobs investigate --demo, {label} (whole process, {args.repeat} runs): median "
              f"{statistics.median(times):.2f} s, min {min(times):.2f} s; CPU (user + system) median "
              f"{statistics.median(cpu[label]):.2f} s; verdict {verdict}")
    ratio = statistics.median(walls["with the multivariate step"]) / statistics.median(walls["without (--no-multivariate)"])
    print(f"  with / without: {ratio:.2f}")

    code = (
        "import time, json; t0 = time.perf_counter(); import mlflow, pyiceberg.catalog.sql, polars; "
        "t1 = time.perf_counter(); "
        "from mlobs_notebook.investigation import investigate; from mlobs_notebook.demo import Manifest; "
        f"m = Manifest.load({str(world)!r}); "
        "inv = investigate(m.model, None, m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column); "
        "t2 = time.perf_counter(); "
        "inv.write('/tmp/mlobs-bench-postmortem.html'); t3 = time.perf_counter(); "
        "print(json.dumps({'imports': t1 - t0, 'investigate': t2 - t1, 'steps': inv.timings, 'report_html': t3 - t2}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    parts = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  importing mlflow, pyiceberg, polars: {parts['imports']:.2f} s")
    print(f"  investigate(): {parts['investigate']:.2f} s; steps: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in parts["steps"].items()))
    print(f"  writing the HTML postmortem: {parts['report_html']:.2f} s")


if __name__ == "__main__":
    main()
