"""Multivariate drift per window: drift of the joint distribution when every marginal holds. Pure.

A join on the wrong key shuffles a column across rows: its histogram is unchanged, so every
per-feature statistic reads "no drift", yet the rows no longer hang together. Two scores tell:

- **Domain classifier** (NannyML's ``DomainClassifierCalculator``, with scikit-learn's
  ``HistGradientBoostingClassifier`` in place of LightGBM): a classifier learns to tell current
  rows from baseline rows; where it can (ROC AUC above ``auc_threshold``) the window's joint
  distribution moved. NannyML fits one classifier per chunk; here one classifier is fitted on a
  sample of every window against a sample of the baseline, with ``folds``-fold cross-validation,
  and each window's AUC is read from the held-out predictions (its rows against the held-out
  baseline rows): one fit instead of one per window. **The features it leans on** are the ones
  whose permutation (within the held-out rows of the alerting windows and the baseline) costs
  the most AUC.
- **Reconstruction error** (NannyML's ``DataReconstructionDriftCalculator``, same steps): nulls
  imputed (mean; most frequent category; infinities count as missing), categories replaced by their baseline frequency,
  standardised, projected on the principal components explaining ``n_components`` (0.65) of the
  baseline's variance and back; a row's error is the euclidean norm of what the projection lost,
  a window's the mean over its rows. Thresholds: the mean of the baseline's own windows plus and
  minus three standard deviations (NannyML's ``StandardDeviationThreshold``).

A window is flagged when either score alerts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

__all__ = ["DEFAULT_AUC_THRESHOLD", "MULTIVARIATE_SCHEMA", "MultivariateDrift", "multivariate_drift"]

# NannyML's default upper threshold is 0.65 for one classifier per chunk. A window's held-out AUC
# against the baseline varies by about +-0.02 around 0.5 at a few hundred rows; one classifier
# for every window dilutes a window's signal with the windows that did not move, so the bound
# sits lower, still five standard errors above chance.
DEFAULT_AUC_THRESHOLD = 0.6
DEFAULT_N_COMPONENTS = 0.65
MAX_LEANED_ON = 3
MAX_PERMUTED_ROWS = 4_000

MULTIVARIATE_SCHEMA = {
    "window_start": pl.Datetime("us", "UTC"),
    "rows": pl.Int64(),
    "reconstruction_error": pl.Float64(),
    "reconstruction_upper_threshold": pl.Float64(),
    "reconstruction_lower_threshold": pl.Float64(),
    "reconstruction_alert": pl.Boolean(),
    "classifier_auroc": pl.Float64(),
    "classifier_alert": pl.Boolean(),
    "drifted": pl.Boolean(),
}


@dataclass(frozen=True)
class MultivariateDrift:
    """Joint-distribution drift per window.

    ``table``: columns as :data:`MULTIVARIATE_SCHEMA` (``window_start`` in the data's zone), one
    row per window of the current data. ``leaned_on``: (feature, AUC lost when it is permuted)
    for the alerting windows, largest first, at most three, each costing at least 0.01.
    ``components``: principal components kept. ``notes``: what was left out and why.
    """

    table: pl.DataFrame
    features: tuple[str, ...]
    leaned_on: tuple[tuple[str, float], ...] = ()
    components: int = 0
    auc_threshold: float = DEFAULT_AUC_THRESHOLD
    notes: tuple[str, ...] = ()

    @property
    def drifted_windows(self) -> int:
        return int(self.table["drifted"].sum()) if self.table.height else 0

    def series(self) -> pl.DataFrame:
        """``(window_start, feature, value, drifted)`` as :func:`~mlobs_notebook.correlate.drift_series`
        gives for one feature, the classifier's AUC as the value, so the persistence rule applies."""
        return self.table.select(
            "window_start",
            pl.lit("joint distribution").alias("feature"),
            pl.col("classifier_auroc").alias("value"),
            pl.col("drifted").fill_null(False),
        )


def _encode(
    frame: pl.DataFrame, numeric: Sequence[str], categorical: Sequence[str], fitted: dict[str, Any]
) -> np.ndarray:
    """Rows as numbers: numeric nulls, NaN and infinities to the baseline mean, categories to their
    baseline share (a category unseen in the baseline to 0), nulls of a category to its most
    frequent value."""
    columns = []
    for c in numeric:
        values = _finite(frame[c]).fill_null(fitted[c]).to_numpy()
        columns.append(values)
    for c in categorical:
        shares, mode = fitted[c]
        text = frame[c].cast(pl.String).fill_null(mode)
        columns.append(text.replace_strict(shares, default=0.0, return_dtype=pl.Float64).to_numpy())
    return np.column_stack(columns) if columns else np.empty((frame.height, 0))


def _finite(values: pl.Series) -> pl.Series:
    """The values as float64, with NaN and infinities read as missing (null)."""
    floats = values.cast(pl.Float64)
    return floats.set(~floats.is_finite().fill_null(False), None)


def _fit_encoding(baseline: pl.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    fitted: dict[str, Any] = {}
    for c in numeric:
        mean = _finite(baseline[c]).mean()
        fitted[c] = float(mean) if isinstance(mean, int | float) else 0.0
    for c in categorical:
        text = baseline[c].cast(pl.String)
        counts = text.drop_nulls().value_counts(sort=True)
        mode = counts[c][0] if counts.height else ""
        filled = text.fill_null(mode).value_counts(normalize=True)
        fitted[c] = (dict(zip(filled[c].to_list(), filled["proportion"].to_list(), strict=True)), mode)
    return fitted


def _kinds(frame: pl.DataFrame, features: Sequence[str]) -> tuple[list[str], list[str]]:
    numeric = [c for c in features if frame.schema[c].is_numeric() and frame.schema[c] != pl.Boolean]
    categorical = [c for c in features if c not in numeric]
    return numeric, categorical


def _reconstruction(
    x_base: np.ndarray, windows: list[np.ndarray], base_windows: list[np.ndarray], n_components: float, seed: int
) -> tuple[list[float], float | None, float | None, int]:
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_base)
    pca = PCA(n_components=n_components, random_state=seed).fit(scaler.transform(x_base))

    def error(x: np.ndarray) -> float:
        if len(x) == 0:
            return float("nan")
        z = scaler.transform(x)
        return float(np.linalg.norm(z - pca.inverse_transform(pca.transform(z)), axis=1).mean())

    reference = np.array([error(x) for x in base_windows if len(x)])
    upper: float | None = None
    lower: float | None = None
    if len(reference) >= 2:
        mean, std = float(np.mean(reference)), float(np.std(reference))
        upper, lower = mean + 3 * std, max(0.0, mean - 3 * std)
    return [error(x) for x in windows], upper, lower, int(pca.n_components_)


def multivariate_drift(
    baseline: pl.DataFrame,
    current: pl.DataFrame,
    features: Sequence[str],
    *,
    auc_threshold: float = DEFAULT_AUC_THRESHOLD,
    n_components: float = DEFAULT_N_COMPONENTS,
    rows_per_window: int = 400,
    current_rows: int = 30_000,
    baseline_rows: int = 6_000,
    folds: int = 3,
    seed: int = 0,
    classifier: bool = True,
) -> MultivariateDrift:
    """Joint drift of ``current`` against ``baseline`` per window; see the module docstring.

    Both frames hold ``features`` and a ``window_start`` column (aware, the data's zone; the
    baseline's own windows give the reconstruction thresholds). At most ``rows_per_window`` rows
    of a window (fewer when there are so many windows that all would exceed ``current_rows``, but
    at least 50) and ``baseline_rows`` of the baseline are sampled (seeded by ``seed``) for the
    classifier. With fewer than two features the scores are not computed (a note says so).
    """
    features = [f for f in features if f in baseline.columns and f in current.columns]
    starts = current["window_start"].unique().sort()
    schema = {**MULTIVARIATE_SCHEMA, "window_start": current.schema["window_start"]}
    if len(features) < 2 or baseline.height < 10:
        empty = pl.DataFrame({"window_start": starts}, schema={"window_start": schema["window_start"]})
        table = empty.with_columns(
            *(pl.lit(None, dtype=t).alias(n) for n, t in schema.items() if n != "window_start")
        ).with_columns(pl.lit(False).alias("drifted"))
        return MultivariateDrift(table, tuple(features), notes=("multivariate drift needs two features or more",))
    numeric, categorical = _kinds(baseline, features)
    ordered = [*numeric, *categorical]
    fitted = _fit_encoding(baseline, numeric, categorical)
    rng = np.random.default_rng(seed)

    x_base = _encode(baseline, numeric, categorical, fitted)
    base_windows = [_encode(part, numeric, categorical, fitted)
                    for _, part in baseline.group_by("window_start", maintain_order=True)]
    by_start = {key[0]: part for key, part in current.partition_by("window_start", as_dict=True).items()}
    parts = [by_start[s] for s in starts]
    x_windows = [_encode(part, numeric, categorical, fitted) for part in parts]

    errors, upper, lower, components = _reconstruction(x_base, x_windows, base_windows, n_components, seed)
    aucs: list[float | None] = [None] * len(parts)
    leaned: tuple[tuple[str, float], ...] = ()
    notes: list[str] = []
    if classifier:
        per_window = max(50, min(rows_per_window, current_rows // max(1, len(x_windows))))
        aucs, leaned = _domain_classifier(x_base, x_windows, ordered, auc_threshold, per_window,
                                          baseline_rows, folds, rng, seed)
    else:
        notes.append("the domain classifier was not run (classifier=False)")
    rows = []
    for start, x, err, auc in zip(starts, x_windows, errors, aucs, strict=True):
        rec_alert = None if upper is None or not np.isfinite(err) else bool(err > upper or (lower is not None and err < lower))
        clf_alert = None if auc is None else bool(auc > auc_threshold)
        rows.append({
            "window_start": start, "rows": len(x), "reconstruction_error": err if np.isfinite(err) else None,
            "reconstruction_upper_threshold": upper, "reconstruction_lower_threshold": lower,
            "reconstruction_alert": rec_alert, "classifier_auroc": auc, "classifier_alert": clf_alert,
            "drifted": bool(rec_alert) or bool(clf_alert),
        })
    return MultivariateDrift(pl.DataFrame(rows, schema=schema), tuple(ordered), leaned, components,
                             auc_threshold, tuple(notes))


def _domain_classifier(
    x_base: np.ndarray,
    x_windows: list[np.ndarray],
    names: list[str],
    threshold: float,
    rows_per_window: int,
    baseline_rows: int,
    folds: int,
    rng: np.random.Generator,
    seed: int,
) -> tuple[list[float | None], tuple[tuple[str, float], ...]]:
    """Held-out AUC of each window against the baseline, and the features leaned on."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    def sample(x: np.ndarray, n: int) -> np.ndarray:
        return x if len(x) <= n else x[rng.choice(len(x), n, replace=False)]

    base = sample(x_base, baseline_rows)
    samples = [sample(x, rows_per_window) for x in x_windows]
    x = np.vstack([base, *samples])
    window = np.concatenate([np.full(len(base), -1), *[np.full(len(s), i) for i, s in enumerate(samples)]])
    y = (window >= 0).astype(int)
    if y.sum() < folds or (1 - y).sum() < folds:
        return [None] * len(x_windows), ()
    predicted = np.zeros(len(x))
    models = []
    # one thread: OpenMP's spinning threads slow a busy machine down tenfold, and the fit is small
    with threadpool_limits(1):
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
            model = HistGradientBoostingClassifier(max_iter=50, max_leaf_nodes=15, random_state=seed)
            model.fit(x[train], y[train])
            predicted[test] = model.predict_proba(x[test])[:, 1]
            models.append((model, test))
        held_base = np.sort(predicted[window == -1])
        aucs = [None if len(s) < 2 else _auc_against(held_base, predicted[window == i]) for i, s in enumerate(samples)]
        alerting = [i for i, a in enumerate(aucs) if a is not None and a > threshold]
        leaned = _leaned_on(models, x, window, alerting, names, rng) if alerting else ()
    return aucs, leaned


def _auc_against(reference_sorted: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of ``scores`` (positives) against ``reference_sorted`` (negatives, sorted), in its
    Mann-Whitney form: the chance a positive outscores a negative, ties counting a half. The same
    number as scikit-learn's ``roc_auc_score`` (the tests check it), without its per-call checks."""
    below = np.searchsorted(reference_sorted, scores, side="left")
    not_above = np.searchsorted(reference_sorted, scores, side="right")
    return float(np.mean(below + 0.5 * (not_above - below)) / len(reference_sorted))


def _model_auc(model: Any, x: np.ndarray, positive: np.ndarray) -> float:
    p = model.predict_proba(x)[:, 1]
    return _auc_against(np.sort(p[~positive]), p[positive])


def _leaned_on(
    models: list[tuple[Any, np.ndarray]], x: np.ndarray, window: np.ndarray, alerting: list[int],
    names: list[str], rng: np.random.Generator,
) -> tuple[tuple[str, float], ...]:
    """AUC lost per feature when it is permuted among the held-out rows of the baseline and the
    alerting windows (scikit-learn's permutation importance, by hand over the folds' models; at
    most ``MAX_PERMUTED_ROWS`` rows a fold)."""
    keep = (window == -1) | np.isin(window, alerting)
    losses = np.zeros(len(names))
    for model, test in models:
        rows = test[keep[test]]
        if len(rows) > MAX_PERMUTED_ROWS:
            rows = rng.choice(rows, MAX_PERMUTED_ROWS, replace=False)
        positive = window[rows] >= 0
        if positive.all() or not positive.any():
            continue
        xs = x[rows]
        base_auc = _model_auc(model, xs, positive)
        for j in range(len(names)):
            shuffled = xs.copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            losses[j] += (base_auc - _model_auc(model, shuffled, positive)) / len(models)
    order = np.argsort(-losses)
    return tuple((names[j], round(float(losses[j]), 4)) for j in order[:MAX_LEANED_ON] if losses[j] >= 0.01)
