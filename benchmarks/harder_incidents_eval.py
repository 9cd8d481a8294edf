"""Twenty worlds of the harder incident families, investigated and scored.

    .venv/bin/python benchmarks/harder_incidents_eval.py [--out DIR] [--only FAMILY,...]

Each world (``tests/incident_worlds.py``: other names, timings and pipelines than the demo) is
built with the real stores, investigated as a user would (``investigate`` with the world's
current data, lineage and score column; no label delay given), and scored:

- **verdict**: the family's expected verdict;
- **culprit**: the run that caused it ranked first (in the top two where the world's lineage has
  no column lineage), for the families with a culprit;
- **lead**: the lead time within a day of the world's true lead time (``true_lead``: read on
  20,000 fresh rows a day, without sampling noise), or no lead where there is none to find.

A world is right when all three hold. Target: 19 of 20.

``--demo`` instead builds every demo scenario (``mlobs demo --scenario NAME``, 60 days of 3,000
rows) and checks its verdict, suspect job and drifted features against the scenario's own
expectations (``mlobs_notebook.demo.scenarios``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from incident_worlds import CULPRIT_JOB, build_incident, investigate_incident, spec_for, true_lead  # noqa: E402

# (family, column lineage): two worlds per family, the join bug as its two cases
WORLDS = [
    ("join_bug", True), ("join_bug_correlated", True),
    ("unit_change", True), ("unit_change", False),
    ("null_flood", True), ("null_flood", False),
    ("stale_data", True), ("stale_data", False),
    ("segment_break", True), ("segment_break", False),
    ("gradual_drift", True), ("gradual_drift", True),
    ("weekly_seasonality", True), ("weekly_seasonality", True),
    ("drift_without_impact", True), ("drift_without_impact", True),
    ("cosmetic_change", True), ("cosmetic_change", True),
    ("unrelated_change", True), ("unrelated_change", True),
]


def score(world, inv) -> dict:
    spec = world.spec
    d = inv.diagnosis
    verdict_ok = inv.verdict == spec.expected
    culprit_ok = True
    if CULPRIT_JOB.get(spec.family):
        top = [s.run_id for s in d.suspects[: 1 if spec.column_lineage else 2]]
        culprit_ok = world.culprit_run in top
    truth = true_lead(world, inv.drop.tolerance or 0.02)
    measured = inv.lead_days
    lead_ok = (truth is None and measured is None) or (
        truth is not None and measured is not None and abs(measured - truth) <= 1
    )
    return {"verdict_ok": verdict_ok, "culprit_ok": culprit_ok, "lead_ok": lead_ok, "truth": truth,
            "measured": measured, "right": verdict_ok and culprit_ok and lead_ok}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="where to build the worlds (default: a temporary folder)")
    parser.add_argument("--only", default=None, help="comma-separated families")
    parser.add_argument("--demo", action="store_true", help="check every demo scenario instead")
    args = parser.parse_args()
    if args.demo:
        demo_scenarios(Path(args.out or tempfile.mkdtemp(prefix="mlobs-scenarios-")))
        return
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    root = Path(args.out or tempfile.mkdtemp(prefix="mlobs-incidents-"))
    root.mkdir(parents=True, exist_ok=True)
    from mlflow.tracking import MlflowClient

    empty = root / "empty.db"
    if not empty.exists():
        MlflowClient(f"sqlite:///{empty}").search_experiments()
    only = set(args.only.split(",")) if args.only else None
    rows = []
    started = time.perf_counter()
    for index, (family, lineage) in enumerate(WORLDS):
        if only and family not in only:
            continue
        delay = 1 + index % 5
        spec = spec_for(family, index, delay, column_lineage=lineage)
        t0 = time.perf_counter()
        world = build_incident(spec, root / spec.name, empty)
        t1 = time.perf_counter()
        inv = investigate_incident(world)
        t2 = time.perf_counter()
        result = score(world, inv)
        top = inv.diagnosis.suspects[0].job if inv.diagnosis.suspects else "-"
        rows.append((spec, inv, result, top, t1 - t0, t2 - t1))
        mark = "right" if result["right"] else "WRONG"
        print(f"{mark:5} {spec.name:26} delay {delay} cl={lineage!s:5} expected {spec.expected:12} got {inv.verdict:12} "
              f"2nd {inv.secondary or '-':11} culprit {result['culprit_ok']!s:5} lead {inv.lead_days} (true {result['truth']}) "
              f"est.lead {inv.lead_days_estimated} top {top}  build {t1 - t0:.1f}s investigate {t2 - t1:.1f}s", flush=True)
    right = sum(r[2]["right"] for r in rows)
    print(f"\n{right} of {len(rows)} right ({time.perf_counter() - started:.0f} s)\n")
    print("| world | family | label delay | column lineage | expected | verdict (secondary) | culprit first | lead (true) | right |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec, inv, result, _top, _, _ in rows:
        culprit = "n/a" if not CULPRIT_JOB.get(spec.family) else ("yes" if result["culprit_ok"] else "no")
        lead = f"{result['measured']} ({result['truth']})"
        second = f" ({inv.secondary})" if inv.secondary else ""
        print(f"| {spec.name} | {spec.family} | {spec.label_delay} | {'yes' if spec.column_lineage else 'no'} | "
              f"{spec.expected} | {inv.verdict}{second} | {culprit} | {lead} | {'yes' if result['right'] else 'no'} |")


def demo_scenarios(root: Path) -> None:
    from mlobs_notebook.demo import SCENARIOS, Manifest, build_world
    from mlobs_notebook.investigation import investigate

    right = 0
    print("| scenario | expected | verdict (secondary) | suspect | drifted | lead (days) | right |")
    print("|---|---|---|---|---|---|---|")
    for name, scenario in SCENARIOS.items():
        folder = root / name
        if not (folder / "manifest.json").exists():
            build_world(folder, scenario=name, days=60, rows_per_day=3_000, force=True)
        m = Manifest.load(folder)
        inv = investigate(m.model, None, m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column,
                          metric=m.metric, eval_filter=m.eval_filter, label_delay=m.label_delay_days)
        top = inv.diagnosis.suspects[0].job if inv.diagnosis.suspects else None
        drifted = sorted(o.feature for o in inv.drifted_features)
        ok = (inv.verdict == scenario.expected_verdict and top == scenario.suspect_job
              and (not scenario.drifted_features or drifted == sorted(scenario.drifted_features)))
        right += ok
        second = f" ({inv.secondary})" if inv.secondary else ""
        print(f"| {name} | {scenario.expected_verdict} | {inv.verdict}{second} | {top or '-'} | "
              f"{', '.join(drifted) or '-'} | {inv.lead_days} | {'yes' if ok else 'no'} |", flush=True)
    print(f"\n{right} of {len(SCENARIOS)} demo scenarios right")


if __name__ == "__main__":
    main()
