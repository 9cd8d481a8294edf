"""The metric estimated from scores (``correlate.estimate``) against NannyML's CBPE, side by side.

    .venv/bin/python benchmarks/cbpe_vs_nannyml.py --nannyml-python /work/notes/nannyml/venv/bin/python \\
        --data /work/notes/nannyml/out

NannyML runs in its own environment (it pins pandas < 3): this script runs it there in a
subprocess on NannyML's synthetic car loan data (reference with labels, analysis without), weekly
chunks, ROC AUC and F1 estimated, isotonic calibration fitted on the reference; then computes the
same with mlobs_notebook here and reports the largest difference per metric and both timings.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

NANNYML = r"""
import json, sys, time
import pandas as pd
import nannyml as nml
ref = pd.read_parquet(sys.argv[1] + "/reference.parquet")
ana = pd.read_parquet(sys.argv[1] + "/analysis.parquet")
times = []
for _ in range(3):
    t0 = time.perf_counter()
    est = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                   metrics=["roc_auc", "f1"], chunk_period="W", problem_type="classification_binary")
    est.fit(ref)
    res = est.estimate(ana).filter(period="analysis").to_df()
    times.append(time.perf_counter() - t0)
elapsed = min(times)
out = {"seconds": elapsed, "chunks": [str(s) for s in res[("chunk", "start_date")]]}
for m in ("roc_auc", "f1"):
    out[m] = [float(v) for v in res[(m, "value")]]
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nannyml-python", required=True, help="a Python with nannyml installed")
    parser.add_argument("--data", required=True, help="folder with NannyML's reference.parquet and analysis.parquet")
    args = parser.parse_args()
    t0 = time.perf_counter()
    done = subprocess.run([args.nannyml_python, "-c", NANNYML, args.data], capture_output=True, text=True, check=True,
                          env={"NML_DISABLE_USAGE_LOGGING": "1", "PATH": "/usr/bin:/bin"})
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - t0

    import numpy as np
    import polars as pl
    import sklearn.isotonic  # noqa: F401  (imported before the clock, as nannyml is on its side)

    from mlobs_notebook.correlate import estimated_performance, fit_calibration

    data = Path(args.data)
    ref = pl.read_parquet(data / "reference.parquet")
    ana = pl.read_parquet(data / "analysis.parquet")
    times = []
    for _ in range(3):
        t1 = time.perf_counter()
        calibration = fit_calibration(ref["y_pred_proba"].to_numpy(), ref["repaid"].cast(pl.Float64).to_numpy())
        windows = ana.with_columns(window_start=pl.col("timestamp").dt.truncate("1w"))
        ours = {m: estimated_performance(windows, m, score="y_pred_proba", prediction="y_pred",
                                           calibration=calibration, min_rows=1)
                for m in ("roc_auc", "f1")}
        times.append(time.perf_counter() - t1)
    mine = min(times)
    print(f"NannyML CBPE fit + estimate, best of 3: {theirs['seconds']:.2f} s (whole subprocess {wall:.1f} s)")
    print(f"mlobs_notebook calibration + estimate, best of 3: {mine:.3f} s; NannyML / ours: {theirs['seconds'] / mine:.1f}x")
    for m in ("roc_auc", "f1"):
        a = np.asarray(theirs[m])
        b = ours[m]["value"].to_numpy()
        print(f"{m}: {len(a)} weekly chunks (ours {len(b)}); largest difference {np.max(np.abs(a - b)):.2e}, "
              f"mean {np.mean(np.abs(a - b)):.2e}")


if __name__ == "__main__":
    main()
