"""From evidence to a verdict with its suspects. Pure: records in, a :class:`Diagnosis` out.

Modules: ``verdict`` (the rules: pipeline_bug, data_drift, model_drift, healthy), ``app_change``
(an LLM app's own verdict, app_change: the app itself changed), ``suspects``
(upstream changes and the runs suspected, ranked), ``window`` (the suspect window: when a change
must have happened to explain a drift onset; the one rule every step uses).
"""

from mlobs_notebook.diagnose.app_change import APP_CHANGE, AppChange, diagnose_app
from mlobs_notebook.diagnose.suspects import Suspect, UpstreamChange, rank_key
from mlobs_notebook.diagnose.verdict import (
    DEFAULT_SLACK,
    RECOMMENDATIONS,
    VERDICTS,
    Diagnosis,
    diagnose,
)
from mlobs_notebook.diagnose.window import DEFAULT_LOOKBACK, suspect_window

__all__ = [
    "APP_CHANGE",
    "DEFAULT_LOOKBACK",
    "DEFAULT_SLACK",
    "RECOMMENDATIONS",
    "VERDICTS",
    "AppChange",
    "Diagnosis",
    "Suspect",
    "UpstreamChange",
    "diagnose",
    "diagnose_app",
    "rank_key",
    "suspect_window",
]
