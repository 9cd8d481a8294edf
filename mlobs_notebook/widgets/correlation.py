"""CorrelationPanel: did a feature's drift come before the metric's fall, and how closely do they move?

State: ``feature`` (Dropdown, drifted features first) and ``lag`` (IntSlider, windows from the
drift to the metric; it opens on the lead time). A feature change redraws the three figures; a
lag change redraws only the scatter and the correlation bars. The outputs are a summary (the
onsets and the lead time), the figures ``figures["timeline"]``, ``figures["scatter"]`` and
``figures["correlation"]``, and the correlation at every lag as a table; the numbers come from
the investigation (see ``plots.correlation``).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from mlobs_notebook.errors import UnknownColumn
from mlobs_notebook.plots.correlation import (
    correlation_table,
    drift_metric_scatter,
    feature_timeline,
    lag_correlation_figure,
    ranked_features,
)
from mlobs_notebook.times import human
from mlobs_notebook.widgets._panel import Panel, block, table

__all__ = ["CorrelationPanel"]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


class CorrelationPanel(Panel):
    """Drift of one feature against the investigation's metric: a two-axis timeline with the
    onsets and the lead time, a drift-vs-metric scatter at the chosen lag, and the correlation
    at every lag with its point counts."""

    title = "Drift and the metric"
    blocks = ("summary", "timeline", "scatter", "correlation", "table")

    def __init__(self, investigation: Any, feature: str | None = None, lag: int | None = None) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.investigation = inv = investigation
        names = ranked_features(inv)
        if feature is not None and feature not in names:
            raise UnknownColumn(
                f"the investigation compared no feature {feature!r}. Its features: {', '.join(names)}."
            )
        drifted = {o.feature for o in inv.onsets if o.onset is not None}
        self.feature = widgets.Dropdown(
            options=[(f"{n} ({'drifted' if n in drifted else 'no drift onset'})", n) for n in names],
            value=feature or names[0], description="feature",
        )
        lags = correlation_table(inv, self.feature.value)["lag"].to_list()
        lo, hi = min(lags), max(lags)
        if lag is None:
            lead = inv.lead_windows
            lag = min(hi, max(lo, lead)) if lead is not None else 0
        elif not lo <= lag <= hi:
            raise ValueError(f"lag must be between {lo} and {hi} windows of {inv.granularity}, not {lag}")
        self.lag = widgets.IntSlider(value=lag, min=lo, max=hi, description=f"lag (×{inv.granularity})",
                                     continuous_update=False)  # fmt: skip
        self.feature.observe(self._on_feature, names="value")
        self.lag.observe(self._on_lag, names="value")
        self._render_timeline()
        self._render_lagged()
        self.children = [widgets.HBox([self.feature, self.lag])]

    # --- reactions -----------------------------------------------------------------------------
    def _on_feature(self, _change: dict) -> None:
        self._render_timeline()
        self._render_lagged()

    def _on_lag(self, _change: dict) -> None:
        self._render_lagged()

    def _render_timeline(self) -> None:
        self._show("timeline", feature_timeline(self.investigation, self.feature.value))
        self._render_table()

    def _render_lagged(self) -> None:
        feature, lag = self.feature.value, self.lag.value
        self._show("scatter", drift_metric_scatter(self.investigation, feature, lag))
        self._show("correlation", lag_correlation_figure(self.investigation, feature, lag))
        self._render_summary()

    def _render_summary(self) -> None:
        inv = self.investigation
        onset = next((o.onset for o in inv.onsets if o.feature == self.feature.value), None)
        facts = [
            ("drift onset", human(onset, inv.granularity) if onset else "none"),
            (f"{inv.metric_name} drop", human(inv.drop.onset, inv.granularity) if inv.drop.onset else "none"),
            ("lead time", "n/a" if inv.lead_windows is None else inv.granularity.windows(inv.lead_windows)),
        ]
        self._show_html("summary", block(self._summary(), [table(None, facts)]), repr(self))

    def _render_table(self) -> None:
        inv = self.investigation
        rows = [(r["lag"], _fmt(r["pearson"]), _fmt(r["spearman"]), r["points"])
                for r in correlation_table(inv, self.feature.value).iter_rows(named=True)]  # fmt: skip
        head = [f"lag (windows of {inv.granularity})", "Pearson", "Spearman", "points"]
        self._show_html("table", block(tables=[table(head, rows, "correlation at every lag", fold=True)]))

    def _summary(self) -> str:
        return f"feature {self.feature.value}, lag {self.investigation.granularity.windows(self.lag.value)}"
