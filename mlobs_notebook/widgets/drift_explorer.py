"""DriftExplorer: features ranked by drift, and one feature's histograms and statistic over windows.

State lives in the controls' ``value`` traits (``feature``, ``window``, ``statistic``); a change
re-renders only the outputs that depend on it. All numbers come from the DriftReport.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from mlobs_notebook.errors import InputError, UnknownColumn
from mlobs_notebook.plots import (
    DEFAULT_STATISTIC,
    drift_over_windows,
    drift_ranking,
    feature_ranking,
    histogram_overlay,
    report_windows,
)
from mlobs_notebook.plots.drift import window_key, window_label
from mlobs_notebook.times import human
from mlobs_notebook.widgets._panel import Panel, block, table

__all__ = ["ALL_WINDOWS", "DriftExplorer"]

ALL_WINDOWS = "all"
"""The ``window`` value that pools every window."""


class DriftExplorer(Panel):
    """Explore a DriftReport: ``feature``, ``window`` and ``statistic`` are Dropdowns.

    ``window`` takes a window start (a datetime as the report stores it) or ``ALL_WINDOWS``;
    it opens on the latest window. ``figures`` holds "ranking", "histogram" and "over_windows";
    the outputs are a summary line, the three figures and the ranking as a folded table.
    """

    title = "Drift explorer"
    blocks = ("summary", "ranking", "over_windows", "histogram", "table")

    def __init__(
        self,
        report: Any,
        feature: str | None = None,
        window: Any = None,
        statistic: str = DEFAULT_STATISTIC,
        *,
        drift_type: str = "BASELINE",
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.report = report
        self.drift_type = drift_type
        ranking = feature_ranking(report, statistic, drift_type=drift_type)
        names = ranking["column_name"].to_list()
        if not names:
            raise InputError("the drift report compares no columns; nothing to explore")
        if feature is not None and feature not in names:
            raise UnknownColumn(f"the drift report has no column {feature!r}. Compared columns: {', '.join(names)}.")
        windows = report_windows(report, drift_type)
        window_options: list[tuple[str, Any]] = [(window_label(w, report.granularity), w) for w in windows if w is not None]
        if len(window_options) > 1 and drift_type == "BASELINE":
            window_options.insert(0, ("all windows", ALL_WINDOWS))
        if not window_options:
            window_options = [("all data", ALL_WINDOWS)]
        chosen_window = window_options[-1][1] if window is None else (
            ALL_WINDOWS if window == ALL_WINDOWS else window_key(report, window))  # fmt: skip
        if chosen_window not in [v for _, v in window_options]:
            raise InputError(f"the drift report has no window {window!r}; windows: "
                             f"{window_options[1 if len(window_options) > 1 else 0][0]} .. {window_options[-1][0]}")  # fmt: skip
        labels = dict(zip(names, ranking["status"].to_list(), strict=True))
        self.feature = widgets.Dropdown(
            options=[(f"{n} ({labels[n] or 'not judged'})", n) for n in names],
            value=feature or names[0], description="feature",
        )
        self.window = widgets.Dropdown(options=window_options, value=chosen_window, description="window")
        self.statistic = widgets.Dropdown(
            options=list(report.statistics) or [statistic], value=statistic, description="statistic",
        )
        self._ranking_table = ranking
        self.feature.observe(self._on_feature, names="value")
        self.window.observe(self._on_window, names="value")
        self.statistic.observe(self._on_statistic, names="value")
        self._render_ranking()
        self._render_histogram()
        self._render_over_windows()
        self.children = [widgets.HBox([self.feature, self.window, self.statistic])]

    # --- reactions: each re-renders only what depends on the changed value ---------------------
    def _on_feature(self, _change: dict) -> None:
        self._render_histogram()
        self._render_over_windows()
        self._render_summary()

    def _on_window(self, _change: dict) -> None:
        self._render_histogram()
        self._render_over_windows()
        self._render_summary()

    def _on_statistic(self, _change: dict) -> None:
        self._ranking_table = feature_ranking(self.report, self.statistic.value, drift_type=self.drift_type)
        self._render_ranking()
        self._render_over_windows()

    def _window_arg(self) -> Any:
        return None if self.window.value == ALL_WINDOWS else self.window.value

    def _render_ranking(self) -> None:
        self._show("ranking", drift_ranking(self.report, self.statistic.value, drift_type=self.drift_type))
        self._render_summary()
        self._render_table()

    def _render_histogram(self) -> None:
        self._show("histogram", histogram_overlay(
            self.report, self.feature.value, self._window_arg(), drift_type=self.drift_type))  # fmt: skip

    def _render_over_windows(self) -> None:
        self._show("over_windows", drift_over_windows(
            self.report, self.feature.value, self.statistic.value, drift_type=self.drift_type,
            window=self._window_arg()))  # fmt: skip

    def _render_summary(self) -> None:
        self._show_html("summary", block(self._summary()), repr(self))

    def _render_table(self) -> None:
        rows = [
            (r["column_name"], r["kind"], f"{r['worst']:.4g}" if r["worst"] is not None else "",
             f"{r['drifted_windows']} / {r['windows']}", r["status"] or "not judged",
             human(r["first_drift"], self.report.granularity) if r["first_drift"] is not None else "")
            for r in self._ranking_table.iter_rows(named=True)
        ]  # fmt: skip
        head = ["feature", "kind", f"worst {self.statistic.value}", "drifted windows", "status", "first drift"]
        self._show_html("table", block(tables=[table(head, rows, "every feature as a table", fold=True)]))

    def _summary(self) -> str:
        return f"feature {self.feature.value}, window {self.window.label}, statistic {self.statistic.value}"
