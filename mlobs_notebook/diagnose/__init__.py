"""From evidence to a verdict with its suspects. Pure: records in, a :class:`Diagnosis` out.

Modules: ``verdict`` (the rules: pipeline_bug, data_drift, model_drift, healthy, inconclusive),
``app_change`` (an LLM app's own verdict, app_change: the app itself changed), ``causes`` (a
verdict with its confidence and evidence; a diagnosis names a primary and any secondary cause),
``support`` (when the metric series is too thin for a verdict, and the flag
that fixes it), ``suspects`` (upstream changes and the runs suspected, ranked), ``window`` (the
suspect windows: when a change must have happened to explain a drift onset, or a metric drop with
no drift; the one rule every step uses), ``sentences`` (how the evidence reads).
"""

from mlobs_notebook.diagnose.app_change import APP_CHANGE, AppChange, diagnose_app
from mlobs_notebook.diagnose.causes import HIGH, LOW, MEDIUM, Cause
from mlobs_notebook.diagnose.support import (
    CROWDED_MIN,
    Inconclusive,
    minimum_evaluations,
    moving_reference,
    thin_evidence,
)
from mlobs_notebook.diagnose.suspects import Suspect, UpstreamChange, rank_key
from mlobs_notebook.diagnose.verdict import (
    DEFAULT_SLACK,
    RECOMMENDATIONS,
    VERDICTS,
    Diagnosis,
    diagnose,
)
from mlobs_notebook.diagnose.window import (
    DEFAULT_LOOKBACK,
    DEFAULT_MAX_LABEL_DELAY,
    suspect_window,
    timing_window,
)

__all__ = [
    "APP_CHANGE",
    "CROWDED_MIN",
    "DEFAULT_LOOKBACK",
    "DEFAULT_MAX_LABEL_DELAY",
    "DEFAULT_SLACK",
    "HIGH",
    "LOW",
    "MEDIUM",
    "RECOMMENDATIONS",
    "VERDICTS",
    "AppChange",
    "Cause",
    "Diagnosis",
    "Inconclusive",
    "Suspect",
    "UpstreamChange",
    "diagnose",
    "diagnose_app",
    "minimum_evaluations",
    "moving_reference",
    "rank_key",
    "suspect_window",
    "timing_window",
    "thin_evidence",
]
