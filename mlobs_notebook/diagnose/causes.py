"""Causes: a verdict with its confidence and its own evidence; a diagnosis holds one or two. Pure.

An incident can have two causes at once (a pipeline bug on one feature while another feature
drifts for real). The diagnosis names the primary cause (its ``verdict``) and any secondary one,
each with a confidence in [0, 1] read from the strength of its evidence:

=================  ==========================================================================
``HIGH`` (0.9)     pipeline_bug: the top suspect is tied to the drifted column by column-level
                   lineage and is a cause, not a symptom (a semantic definition change, a
                   schema change, failures in a row); healthy with no drift at all
``MEDIUM`` (0.7)   pipeline_bug through dataset-level lineage only, or from a symptom (a single
                   failure, a row count); data_drift with the lineage searched; model_drift
                   with no upstream change near the drop; healthy with drift warnings; a
                   secondary data_drift of features no suspect explains
``LOW`` (0.5)      pipeline_bug from timing alone (no drift; a semantic change upstream of the
                   features when the spoiled predictions were made); data_drift when no lineage
                   was given; model_drift when no lineage was given, or as the alternative
                   to a timing-only pipeline bug
=================  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlobs_notebook.diagnose.suspects import Suspect

__all__ = ["HIGH", "LOW", "MEDIUM", "Cause"]

HIGH, MEDIUM, LOW = 0.9, 0.7, 0.5


@dataclass(frozen=True)
class Cause:
    """One cause of an incident: a verdict, how sure, why (sentences), which features and runs."""

    verdict: str
    confidence: float
    evidence: tuple[str, ...]
    features: tuple[str, ...] = ()
    suspects: tuple[Suspect, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "features": list(self.features),
            "suspects": [s.run_id for s in self.suspects],
        }
