"""The investigation: production model -> training snapshot -> drift -> lineage -> verdict.

Modules: ``facade`` (:func:`investigate`, composing the steps), ``inputs`` (the baseline and the
current data), ``metric_inputs`` (the metric series from wherever it is logged), ``result`` (the
frozen :class:`Investigation` and its outputs), ``features`` (which columns are compared),
``evidence`` (upstream changes from the lineage, in each drift onset's suspect window).
"""

from mlobs_notebook.investigation.facade import investigate
from mlobs_notebook.investigation.result import Investigation

__all__ = ["Investigation", "investigate"]
