"""InvestigationPanel: a guided stepper through an investigation, ending with the verdict.

The steps follow the on-call path: model -> training snapshot -> drift -> lineage ->
correlation -> verdict. State: ``step`` (ToggleButtons; ``back`` and ``next`` Buttons move it)
and ``path`` (Text, where the postmortem goes). Each step's view is built on its first visit
and kept (``views[step]``): the drift, lineage and correlation steps are the DriftExplorer,
LineageExplorer and CorrelationPanel opened on the investigation's first drifted feature. The
verdict step's ``write`` button calls ``investigation.write(path)``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from mlobs_notebook.errors import InputError, MlobsError
from mlobs_notebook.widgets._panel import Panel, html_table

__all__ = ["STEPS", "InvestigationPanel"]

STEPS = ("model", "training snapshot", "drift", "lineage", "correlation", "verdict")

_VERDICT_COLOUR = {"pipeline_bug": "#b2182b", "data_drift": "#e08214", "model_drift": "#8073ac", "healthy": "#1b7837",
                   "app_change": "#0e7490"}


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _para(text: str) -> str:
    return f"<p style='max-width:60em'>{text}</p>"


class InvestigationPanel(Panel):
    """Walk an :class:`Investigation` step by step; ``path`` is where ``write`` puts the
    postmortem (``.html`` or ``.md``)."""

    title = "Investigation"

    def __init__(self, investigation: Any, *, step: str = STEPS[0], path: str = "postmortem.html") -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        if step not in STEPS:
            raise InputError(f"unknown step {step!r}; the steps are: {', '.join(STEPS)}")
        self.investigation = investigation
        self.views: dict[str, Any] = {}
        self.step = widgets.ToggleButtons(options=list(STEPS), value=step, description="step")
        self.back = widgets.Button(description="back", icon="arrow-left")
        self.next = widgets.Button(description="next", icon="arrow-right")
        self.path = widgets.Text(value=path, description="postmortem", continuous_update=False)
        self.write = widgets.Button(description="write postmortem", button_style="primary", icon="file")
        self.status = widgets.HTML()
        self.written: str | None = None
        self.content = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.step.observe(self._on_step, names="value")
        self.back.on_click(lambda _b: self._move(-1))
        self.next.on_click(lambda _b: self._move(+1))
        self.write.on_click(lambda _b: self.write_postmortem())
        self.children = [self.step, widgets.HBox([self.back, self.next]), self.content]
        self._render()

    # --- moving between steps ------------------------------------------------------------------
    def _move(self, delta: int) -> None:
        i = STEPS.index(self.step.value) + delta
        self.step.value = STEPS[min(len(STEPS) - 1, max(0, i))]

    def _on_step(self, _change: dict) -> None:
        self._render()

    def _render(self) -> None:
        i = STEPS.index(self.step.value)
        self.back.disabled = i == 0
        self.next.disabled = i == len(STEPS) - 1
        self.content.children = [self.view(self.step.value)]

    def view(self, step: str) -> Any:
        """The widget of ``step``, built on first use."""
        if step not in self.views:
            build = {
                "model": self._model_view, "training snapshot": self._snapshot_view, "drift": self._drift_view,
                "lineage": self._lineage_view, "correlation": self._correlation_view, "verdict": self._verdict_view,
            }[step]  # fmt: skip
            self.views[step] = build()
        return self.views[step]

    # --- the steps -----------------------------------------------------------------------------
    def _top_feature(self) -> str | None:
        drifted = self.investigation.diagnosis.drifted
        return drifted[0].feature if drifted else None

    def _model_view(self) -> Any:
        from mlobs_notebook.plots import metric_series_figure

        inv, m = self.investigation, self.investigation.model
        marks = {}
        if inv.drop.onset is not None:
            marks[f"{inv.metric_name} drop"] = inv.drop.onset.isoformat()
        for change in getattr(inv, "app_changes", ()):
            marks[f"{change.after} serving"] = change.at.isoformat()
        fig = metric_series_figure(inv.metric, inv.metric_name, marks=marks,
                                   title=f"{inv.metric_name} of {m.label} in production")  # fmt: skip
        if getattr(inv, "of_traces", False):
            return self._static_step("model", self._app_intro(), fig)
        rows = [("model", f"{m.name} version {m.version}"), ("aliases", ", ".join(m.aliases) or "none"),
                ("training run", m.run_id), ("registered", m.creation_time.isoformat() if m.creation_time else ""),
                (f"{inv.metric_name} reference", f"{inv.drop.reference:.3f}" if inv.drop.reference is not None else "n/a")]  # fmt: skip
        intro = _para(
            f"The investigation starts from the model in production and its {_esc(inv.metric_name)} over "
            f"{inv.drop.points} evaluations. The reference level is the median of the first evaluations; "
            "a drop is a fall below it by more than the tolerance that persists."
        )
        return self._static_step("model", intro + html_table(["", ""], rows), fig)

    def _app_intro(self) -> str:
        inv, m = self.investigation, self.investigation.model
        versions = "; ".join(f"{c.after} from {c.at:%Y-%m-%d %H:%M} ({c.what})" for c in inv.app_changes)
        rows = [("app", m.label), ("parameters", ", ".join(f"{k}={v}" for k, v in sorted(m.params.items()))),
                ("new versions", versions or "none in the traces"),
                (f"{inv.metric_name} reference", f"{inv.drop.reference:.3f}" if inv.drop.reference is not None else "n/a")]  # fmt: skip
        return _para(
            f"The investigation starts from the LLM app and its {_esc(inv.metric_name)} per window, the mean "
            f"of its traces' assessments over {inv.drop.points} windows. The reference level is the median of "
            "the first windows; a drop is a fall below it by more than the tolerance that persists."
        ) + html_table(["", ""], rows)

    def _snapshot_view(self) -> Any:
        inv, d = self.investigation, self.investigation.dataset
        if getattr(inv, "of_traces", False):
            rows = [("baseline", d.name), ("source", d.source.uri), ("traces", d.num_rows), ("digest of their ids", d.digest)]
            return self._static_step("training snapshot", _para(
                "An app has no training snapshot: the baseline of every comparison is the traces of the "
                "evaluation run that accepted it (or the date range given).") + html_table(["", ""], rows)
                + _para(f"Current traces: {_esc(inv.current_source)}, in windows of {_esc(inv.granularity)}."))
        check = inv.snapshot_check
        rows = [("dataset", d.name), ("source", d.source.uri), ("kind", d.source_type), ("digest", d.digest),
                ("rows", (d.profile or {}).get("num_rows", "unknown")),
                ("training data ends", getattr(inv, "trained_until", None) or "unknown")]  # fmt: skip
        verdict = "not rechecked" if check is None else ("matches" if check.matches else "DOES NOT MATCH")
        colour = "#1b7837" if check is not None and check.matches else "#b2182b"
        body = (
            _para("The baseline of every comparison is the exact snapshot the model was trained on, as the "
                  "training run recorded it, and not the table as it is today.")
            + html_table(["", ""], rows)
            + f"<p>Digest check: <b style='color:{colour}'>{verdict}</b>"
            + (f" &mdash; {_esc(check.message)}" if check is not None else "") + "</p>"
            + _para(f"Current data: {_esc(inv.current_source)}, {_esc(inv.current_range[0])} to "
                    f"{_esc(inv.current_range[1])}, in windows of {_esc(inv.granularity)}.")
        )  # fmt: skip
        return self._static_step("training snapshot", body)

    def _drift_view(self) -> Any:
        from mlobs_notebook.widgets.drift_explorer import ALL_WINDOWS, DriftExplorer

        inv = self.investigation
        top = self._top_feature()
        drifted = ", ".join(f"{o.feature} (from {o.onset})" for o in inv.diagnosis.drifted) or "none"
        intro = widgets.HTML(_para(
            f"Every feature against the baseline (the training snapshot; an app's baseline traces), window by "
            f"window. Drifted features "
            f"(a sustained onset): <b>{_esc(drifted)}</b>. The explorer opens on the first of them, "
            "pooled over all windows."
        ))
        return widgets.VBox([intro, DriftExplorer(inv.drift, feature=top, window=ALL_WINDOWS)])

    def _lineage_view(self) -> Any:
        inv = self.investigation
        if inv.lineage is None or inv.lineage_dataset is None:
            target = "the retriever's index" if getattr(inv, "of_traces", False) else "the training source"
            reason = "no lineage was given" if inv.lineage is None else f"no lineage dataset matches {target}"
            return self._static_step("lineage", _para(f"Upstream changes were not searched: {_esc(reason)}."))
        from mlobs_notebook.widgets.lineage_explorer import LineageExplorer

        top = self._top_feature()
        suspects = [s.job for s in inv.diagnosis.suspects]
        # the window the diagnosis searched: the panel shows what the verdict read
        since, until = inv.diagnosis.suspect_windows.get(top, (None, None)) if top else (None, None)
        column = top if top and top in inv.upstream and inv.upstream[top].column is not None else None
        intro = widgets.HTML(_para(
            f"The upstream path of {_esc(column or inv.lineage_dataset)} in the OpenLineage events, with "
            f"the changes near the drift onset. Suspects are drawn in purple: {_esc(', '.join(suspects) or 'none')}."
        ))
        explorer = LineageExplorer(inv.lineage, inv.lineage_dataset, column=column, since=since, until=until,
                                   highlight=suspects)  # fmt: skip
        return widgets.VBox([intro, explorer])

    def _correlation_view(self) -> Any:
        from mlobs_notebook.widgets.correlation import CorrelationPanel

        inv = self.investigation
        lead = inv.lead_windows
        intro = widgets.HTML(_para(
            "Did the drift come before the metric fell, and do they move together? "
            + (f"The lead time is <b>{_esc(inv.granularity.windows(lead))}</b>." if lead is not None
               else "There is no lead time to measure.")
        ))
        return widgets.VBox([intro, CorrelationPanel(inv, feature=self._top_feature())])

    def _verdict_view(self) -> Any:
        d = self.investigation.diagnosis
        colour = _VERDICT_COLOUR.get(d.verdict, "#333")
        parts = [
            f"<h3 style='margin:4px 0'>Verdict: <span style='color:{colour}'>{_esc(d.verdict)}</span></h3>",
            "<b>Evidence</b><ol>" + "".join(f"<li>{_esc(e)}</li>" for e in d.evidence) + "</ol>",
            f"<p><b>Recommendation.</b> {_esc(d.recommendation)}</p>",
        ]
        if d.suspects:
            rows = [(i + 1, s.job, s.run_id, s.event_time.isoformat(timespec="minutes"), ", ".join(s.kinds),
                     ", ".join(s.features), "column" if s.column_level else "dataset", s.distance)
                    for i, s in enumerate(d.suspects)]  # fmt: skip
            parts.append("<b>Suspects</b>" + html_table(
                ["rank", "job", "run", "time", "change", "features", "lineage", "hops"], rows))  # fmt: skip
        if d.warnings:
            parts.append("<b>Warnings</b><ul>" + "".join(f"<li>{_esc(w)}</li>" for w in d.warnings) + "</ul>")
        if self.investigation.notes:
            parts.append("<details><summary>notes</summary><ul>"
                         + "".join(f"<li>{_esc(n)}</li>" for n in self.investigation.notes) + "</ul></details>")  # fmt: skip
        return widgets.VBox([widgets.HTML("".join(parts)), widgets.HBox([self.path, self.write]), self.status])

    def _static_step(self, name: str, body: str, fig: Any = None) -> Any:
        if fig is None:
            return widgets.HTML(body)
        self._show(name, fig)
        return widgets.VBox([widgets.HTML(body), self._output(name)])

    def _figure_of(self, output: widgets.Output) -> Any:
        return next((self.figures[n] for n, o in self.outputs.items() if o is output), None)

    # --- the postmortem ------------------------------------------------------------------------
    def write_postmortem(self, path: str | None = None) -> str | None:
        """Write the postmortem to ``path`` (default: the ``path`` field); returns the path written,
        or None with the reason in ``status`` (a callback must not raise into the frontend)."""
        target = Path(path or self.path.value).expanduser()
        try:
            self.written = self.investigation.write(str(target))
        except (MlobsError, OSError) as exc:
            self.written = None
            self.status.value = f"<p style='color:#b00'>could not write {_esc(target)}: {_esc(exc)}</p>"
            return None
        self.status.value = f"<p>postmortem written to <code>{_esc(self.written)}</code></p>"
        return self.written

    # --- static view ---------------------------------------------------------------------------
    def _summary(self) -> str:
        inv = self.investigation
        return f"{inv.model.label}: {inv.verdict}, step {self.step.value}"

    def _static_parts(self) -> list[Any]:
        parts: list[Any] = []
        for name in STEPS:
            parts.append(f"<h4 style='margin:8px 0 2px'>{STEPS.index(name) + 1}. {_esc(name)}</h4>")
            parts += self._static_of(self.view(name))
        return parts

    def _static_of(self, view: Any) -> list[Any]:
        """HTML strings and figures of a step's view: panels give their static parts, HTML
        widgets their value, this panel's Outputs the figure they hold; controls give nothing."""
        if isinstance(view, Panel):
            return view._static_parts()
        if isinstance(view, widgets.HTML):
            return [view.value]
        if isinstance(view, widgets.Output):
            fig = self._figure_of(view)
            return [fig] if fig is not None else []
        out: list[Any] = []
        for child in getattr(view, "children", ()):
            out += self._static_of(child)
        return out
