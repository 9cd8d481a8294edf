"""Drift alerts side by side with NannyML 0.13 on its synthetic car-loan data, weekly windows.

    .venv/bin/python benchmarks/nannyml_side_by_side.py            # builds NannyML's venv if missing
    .venv/bin/python benchmarks/nannyml_side_by_side.py --fresh    # rebuilds it first

1. NannyML runs in its own virtual environment (nannyml 0.13 needs ``pandas<3``), built when
   missing under ``$XDG_CACHE_HOME/mlobs-benchmarks/nannyml-0.13`` (``~/.cache`` by default,
   outside the repository) from the exact pins of ``benchmarks/nannyml-requirements.txt``; its
   usage telemetry is switched off (``NML_DISABLE_USAGE_LOGGING``).
2. In that venv this file (``--nannyml OUT``) loads ``nml.load_synthetic_car_loan_dataset()``,
   writes the reference and analysis data, and runs ``UnivariateDriftCalculator`` with weekly
   chunks (``chunk_period="W"``), NannyML's default thresholds, KS, Jensen-Shannon and
   Wasserstein on the continuous features and chi-squared, Jensen-Shannon and L-infinity on the
   categorical ones; twice: KS and Wasserstein ``exact`` (scipy on raw values, like ours) and
   NannyML's default (``auto``: estimated on 10,000 bins for this 50,000-row reference).
3. Ours: ``compute_drift`` with ``granularity="1w"`` and ``thresholds="learned"`` (mean + 3 std
   of each statistic over the reference's own weekly windows, NannyML's rule), for the analysis
   weeks and for the reference weeks themselves, as NannyML reports both.
4. Every (period, week, feature, statistic) alert is compared; the script prints the agreement,
   the disagreements with both values and thresholds, and how far the values are apart.

Statistics are mapped as: ``kolmogorov_smirnov`` -> ``ks_statistic``, ``wasserstein`` ->
``wasserstein_distance``, ``jensen_shannon`` -> ``js_distance``, ``chi2`` (alert: p < 0.05) ->
``chi_squared_pvalue`` (drift: p < 0.05), ``l_infinity`` -> ``l_infinity_distance``. NannyML's
Hellinger distance has no counterpart here. NannyML's continuous JS bins the reference into
equal-width "doane" bins; ours uses the baseline's deciles, so its values differ by design and
only its alerts are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "nannyml-requirements.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlobs-benchmarks" / "nannyml-0.13"
VENV_PY = CACHE / "bin" / "python"
DATA = CACHE / "car-loan"
FEATURES = [
    "car_value",
    "salary_range",
    "debt_to_income_ratio",
    "loan_length",
    "repaid_loan_on_prev_car",
    "size_of_downpayment",
    "driver_tenure",
]
CONTINUOUS = ["kolmogorov_smirnov", "jensen_shannon", "wasserstein"]
CATEGORICAL = ["chi2", "jensen_shannon", "l_infinity"]
OURS = {
    "kolmogorov_smirnov": "ks_statistic",
    "wasserstein": "wasserstein_distance",
    "jensen_shannon": "js_distance",
    "chi2": "chi_squared_pvalue",
    "l_infinity": "l_infinity_distance",
}


# --------------------------------------------------------------------------- NannyML's side (its venv)


def run_nannyml(out: Path) -> None:
    """In NannyML's venv: the data and NannyML's results, as parquet files in ``out``."""
    import logging
    import warnings

    import pandas as pd

    warnings.filterwarnings("ignore")
    logging.getLogger("nannyml").setLevel(logging.ERROR)
    import nannyml as nml

    out.mkdir(parents=True, exist_ok=True)
    reference, analysis, _ = nml.load_synthetic_car_loan_dataset()
    for name, frame in (("reference", reference), ("analysis", analysis)):
        data = frame.copy()
        data["timestamp"] = pd.to_datetime(data["timestamp"]).astype("datetime64[us]")  # what the chunker parses
        data.to_parquet(out / f"{name}.parquet", index=False)

    def results(params: dict | None) -> tuple[pd.DataFrame, float]:
        started = time.perf_counter()
        calc = nml.UnivariateDriftCalculator(
            column_names=FEATURES, timestamp_column_name="timestamp", chunk_period="W",
            continuous_methods=CONTINUOUS, categorical_methods=CATEGORICAL, computation_params=params,
        )
        calc.fit(reference)
        result = calc.calculate(analysis)
        seconds = time.perf_counter() - started
        table = result.filter(period="all").to_df()
        chunks = table["chunk"]["chunk"]
        # chi2 alerts on its p-value, which NannyML keeps only on the fitted method
        pvalues = {}
        for period, data in (("reference", reference), ("analysis", analysis)):
            for chunk in calc.chunker.split(data):
                for column in calc.categorical_column_names:
                    for method in calc._column_to_models_mapping[column]:
                        if method.column_name == "chi2":
                            method.calculate(chunk.data[column])
                            pvalues[(period, chunk.chunk_index, column)] = float(method._p_value)
        rows = []
        for column in calc.continuous_column_names + calc.categorical_column_names:
            methods = CONTINUOUS if column in calc.continuous_column_names else CATEGORICAL
            for method in methods:
                block = table[column][method]
                for i in range(len(table)):
                    period, index = chunks["period"].iat[i], int(chunks["chunk_index"].iat[i])
                    upper = block["upper_threshold"].iat[i]
                    rows.append({
                        "period": period,
                        "week": pd.Timestamp(chunks["start_date"].iat[i]).date().isoformat(),
                        "rows": int(chunks["end_index"].iat[i]) - int(chunks["start_index"].iat[i]) + 1,
                        "feature": column,
                        "method": method,
                        "value": float(block["value"].iat[i]),
                        "upper_threshold": None if upper is None else float(upper),
                        "p_value": pvalues.get((period, index, column)) if method == "chi2" else None,
                        "alert": bool(block["alert"].iat[i]),
                    })  # fmt: skip
        return pd.DataFrame(rows), seconds

    exact = {"kolmogorov_smirnov": {"calculation_method": "exact"}, "wasserstein": {"calculation_method": "exact"},
             "calculation_method": "exact"}  # nannyml 0.13 reads the top level, not the documented nested form
    timings = {}
    for name, params in (("exact", exact), ("default", None)):
        table, timings[name] = results(params)
        table.to_parquet(out / f"nannyml_{name}.parquet", index=False)
    meta = {"nannyml": nml.__version__, "pandas": pd.__version__, "seconds": timings}
    (out / "nannyml_meta.json").write_text(json.dumps(meta, indent=2))


def ensure_venv(fresh: bool) -> None:
    """Build NannyML's venv from the pinned requirements when it is missing or its pins changed."""
    stamp = CACHE / ".pins"
    if fresh and CACHE.exists():
        shutil.rmtree(CACHE)
    if VENV_PY.exists() and stamp.exists() and stamp.read_text() == PINS.read_text():
        return
    print(f"building NannyML's venv in {CACHE} (several minutes, once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(CACHE)], check=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(PINS)],
                   check=True)  # fmt: skip
    stamp.write_text(PINS.read_text())


# --------------------------------------------------------------------------- ours and the comparison


def run_ours(data: Path) -> tuple:
    import polars as pl

    from mlobs_notebook.drift import compute_drift

    reference = pl.read_parquet(data / "reference.parquet").select(*FEATURES, "timestamp")
    analysis = pl.read_parquet(data / "analysis.parquet").select(*FEATURES, "timestamp")
    options = {"time_column": "timestamp", "granularity": "1w", "thresholds": "learned", "consecutive": False,
               "statistics": sorted(set(OURS.values()) | {"chi_squared_statistic"})}  # fmt: skip
    started = time.perf_counter()
    reports = {"reference": compute_drift(reference, reference, **options),
               "analysis": compute_drift(reference, analysis, **options)}  # fmt: skip
    seconds = time.perf_counter() - started
    rows = []
    for period, report in reports.items():
        table = report.table.with_columns(week=pl.col("window_start").dt.date().cast(pl.String))
        for name in OURS.values():
            rows.append(table.select(
                pl.lit(period).alias("period"), "week", pl.col("column_name").alias("feature"),
                pl.lit(name).alias("statistic"), pl.col(name).alias("ours_value"),
                pl.col(f"{name}_drifted").alias("ours_alert"), "count",
                pl.col("chi_squared_statistic").alias("ours_chi2_statistic"),
            ).filter(pl.col("ours_value").is_not_null() | pl.col("ours_alert").is_not_null()))  # fmt: skip
    thresholds = reports["analysis"].thresholds.filter(pl.col("drift_type") == "BASELINE")
    return pl.concat(rows), thresholds, seconds, reports


def compare(nannyml: Path, ours, thresholds) -> dict:
    import polars as pl

    theirs = pl.read_parquet(nannyml).with_columns(statistic=pl.col("method").replace_strict(OURS))
    joined = theirs.join(ours, on=["period", "week", "feature", "statistic"], how="full", coalesce=True)
    missing = joined.filter(pl.col("alert").is_null() | pl.col("ours_alert").is_null())
    joined = joined.filter(pl.col("alert").is_not_null() & pl.col("ours_alert").is_not_null())
    joined = joined.with_columns(agree=pl.col("alert") == pl.col("ours_alert"))
    by_statistic = (
        joined.group_by("method", "statistic").agg(
            compared=pl.len(), agree=pl.col("agree").sum(), nannyml_alerts=pl.col("alert").sum(),
            our_alerts=pl.col("ours_alert").sum(),
        ).with_columns(percent=100 * pl.col("agree") / pl.col("compared")).sort("method")
    )  # fmt: skip
    differing = joined.filter(~pl.col("agree")).join(
        thresholds.select(pl.col("column_name").alias("feature"), "statistic", pl.col("upper").alias("our_upper")),
        on=["feature", "statistic"], how="left",
    ).select("period", "week", "rows", "feature", "method", "value", "upper_threshold", "p_value", "alert",
             "ours_value", "our_upper", "ours_alert").sort("period", "week", "feature")  # fmt: skip
    # how far the values are apart, where both compute the same quantity
    same = joined.filter(pl.col("method").is_in(["kolmogorov_smirnov", "wasserstein", "l_infinity"]))
    gaps = same.group_by("method").agg(max_abs_difference=(pl.col("value") - pl.col("ours_value")).abs().max())
    chi2 = joined.filter(pl.col("method") == "chi2")
    chi2_gap = {
        "statistic": float((chi2["value"] - chi2["ours_chi2_statistic"]).abs().max()),
        "p_value": float((chi2["p_value"] - chi2["ours_value"]).abs().max()),
    }
    return {"joined": joined, "missing": missing, "by_statistic": by_statistic, "differing": differing,
            "gaps": gaps, "chi2_gap": chi2_gap}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nannyml", type=Path, metavar="OUT", help=argparse.SUPPRESS)  # the child, in NannyML's venv
    parser.add_argument("--fresh", action="store_true", help="rebuild NannyML's venv")
    args = parser.parse_args()
    if args.nannyml:
        run_nannyml(args.nannyml)
        return
    import polars as pl

    started = datetime.now(UTC)
    ensure_venv(args.fresh)
    env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1", "PYTHONPATH": ""}
    subprocess.run([str(VENV_PY), __file__, "--nannyml", str(DATA)], check=True, env=env)
    ours, thresholds, seconds, _ = run_ours(DATA)
    meta = json.loads((DATA / "nannyml_meta.json").read_text())
    pl.Config.set_tbl_rows(60)
    pl.Config.set_tbl_cols(-1)
    pl.Config.set_tbl_width_chars(200)
    print(f"{started:%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.2f}; nannyml {meta['nannyml']}, "
          f"pandas {meta['pandas']} (its venv: {CACHE})")
    print(f"NannyML fit + calculate: {meta['seconds']['exact']:.1f} s (exact KS/Wasserstein), "
          f"{meta['seconds']['default']:.1f} s (default); ours, both periods: {seconds:.2f} s")
    summary = {}
    for run in ("exact", "default"):
        result = compare(DATA / f"nannyml_{run}.parquet", ours, thresholds)
        joined = result["joined"]
        agree, total = int(joined["agree"].sum()), joined.height
        summary[run] = {"agree": agree, "compared": total, "percent": 100 * agree / total,
                        "unmatched": result["missing"].height}  # fmt: skip
        print(f"\n=== NannyML {run} run: {agree:,} of {total:,} (period, week, feature, statistic) alerts agree: "
              f"{100 * agree / total:.2f}% ({result['missing'].height} unmatched rows)")
        print(result["by_statistic"])
        if run == "exact":
            print("largest |NannyML - ours| where both compute the same value:")
            print(result["gaps"], result["chi2_gap"])
        print("disagreements:")
        print(result["differing"])
    print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
