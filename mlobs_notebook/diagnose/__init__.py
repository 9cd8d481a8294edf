"""From evidence to a verdict with its suspects. Pure: records in, a :class:`Diagnosis` out.

Modules: ``verdict`` (the rules: pipeline_bug, data_drift, model_drift, healthy, inconclusive),
``support`` (when the metric series is too thin for a verdict, and the flag that fixes it), ``suspects``
(upstream changes and the runs suspected, ranked), ``window`` (the suspect window: when a change
must have happened to explain a drift onset; the one rule every step uses).
"""

from mlobs_notebook.diagnose.support import (
    CROWDED_MIN,
    Inconclusive,
    minimum_evaluations,
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
from mlobs_notebook.diagnose.window import DEFAULT_LOOKBACK, suspect_window

__all__ = [
    "CROWDED_MIN",
    "DEFAULT_LOOKBACK",
    "DEFAULT_SLACK",
    "RECOMMENDATIONS",
    "VERDICTS",
    "Diagnosis",
    "Inconclusive",
    "Suspect",
    "UpstreamChange",
    "diagnose",
    "minimum_evaluations",
    "rank_key",
    "suspect_window",
    "thin_evidence",
]
