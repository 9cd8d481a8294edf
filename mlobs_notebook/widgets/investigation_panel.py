"""InvestigationPanel: a guided stepper through an investigation, ending with the verdict.

The steps follow the on-call path: model -> training snapshot -> drift -> lineage ->
correlation -> verdict. State: ``step`` (ToggleButtons; ``back`` and ``next`` Buttons move it)
and ``path`` (Text, where the postmortem goes). Each step's view is built on its first visit
and kept (``views[step]``): the drift, lineage and correlation steps hold the DriftExplorer,
LineageExplorer and CorrelationPanel opened on the investigation's first drifted feature, whose
controls then sit under the step buttons. The verdict step's ``write`` button calls
``investigation.write(path)``.

The panel's outputs are ``SLOTS`` displays that show the current step's outputs (its text, then
its panel's summary, figures and tables); moving to another step redraws them in place, so a
saved or exported notebook shows the step last drawn. ``to_html()`` holds every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from mlobs_notebook import markup
from mlobs_notebook.errors import InputError, MlobsError
from mlobs_notebook.widgets._display import EMPTY, Display
from mlobs_notebook.widgets._panel import Panel, block
from mlobs_notebook.widgets._static import figure_bundle, html_bundle

__all__ = ["SLOTS", "STEPS", "InvestigationPanel"]

STEPS = ("model", "training snapshot", "drift", "lineage", "correlation", "verdict")
SLOTS = 6
"""Outputs of the panel: the most any step shows (its text and a panel's five outputs)."""


@dataclass
class StepView:
    """One step: its outputs in order, the controls shown under the step buttons, and the
    panel it opens (if any)."""

    displays: list[Display]
    controls: list[Any] = field(default_factory=list)
    panel: Panel | None = None


class InvestigationPanel(Panel):
    """Walk an :class:`Investigation` step by step; ``path`` is where ``write`` puts the
    postmortem (``.html`` or ``.md``)."""

    title = "Investigation"
    blocks = tuple(f"slot {i + 1}" for i in range(SLOTS))

    def __init__(self, investigation: Any, *, step: str = STEPS[0], path: str = "postmortem.html") -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        if step not in STEPS:
            raise InputError(f"unknown step {step!r}; the steps are: {', '.join(STEPS)}")
        self.investigation = investigation
        self.views: dict[str, StepView] = {}
        self.step = widgets.ToggleButtons(options=list(STEPS), value=step, description="step")
        self.back = widgets.Button(description="back", icon="arrow-left")
        self.next = widgets.Button(description="next", icon="arrow-right")
        self.path = widgets.Text(value=path, description="postmortem", continuous_update=False)
        self.write = widgets.Button(description="write postmortem", button_style="primary", icon="file")
        self.status = widgets.HTML()
        self.written: str | None = None
        self.content = widgets.VBox(layout=widgets.Layout(width="100%"))
        self._current: StepView | None = None
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
        view = self.view(self.step.value)
        slots = list(self.displays.values())
        if self._current is not None:
            for shown, slot in zip(self._current.displays, slots, strict=False):
                shown.unmirror(slot)
        for k, slot in enumerate(slots):
            if k < len(view.displays):
                view.displays[k].mirror(slot)
            else:
                slot.set(EMPTY)
        self._current = view
        self.content.children = tuple(view.controls)

    def view(self, step: str) -> StepView:
        """The view of ``step``, built on first use."""
        if step not in self.views:
            build = {
                "model": self._model_view, "training snapshot": self._snapshot_view, "drift": self._drift_view,
                "lineage": self._lineage_view, "correlation": self._correlation_view, "verdict": self._verdict_view,
            }[step]  # fmt: skip
            view = build()
            if len(view.displays) > SLOTS:  # a step grew: SLOTS must grow with it
                raise RuntimeError(f"step {step!r} has {len(view.displays)} outputs, the panel {SLOTS}")
            self.views[step] = view
        return self.views[step]

    # --- the steps -----------------------------------------------------------------------------
    def _text(self, step: str, **context: Any) -> Display:
        html = markup.render("widgets/investigation_step.html.j2", step=step, number=STEPS.index(step) + 1,
                             inv=self.investigation, **context)  # fmt: skip
        return Display(html_bundle(html, f"{STEPS.index(step) + 1}. {step}"))

    def _top_feature(self) -> str | None:
        drifted = self.investigation.diagnosis.drifted
        return drifted[0].feature if drifted else None

    def _with_panel(self, text: Display, panel: Panel) -> StepView:
        return StepView([text, *panel.displays.values()], [panel], panel)

    def _model_view(self) -> StepView:
        from mlobs_notebook.plots import metric_series_figure

        inv, m = self.investigation, self.investigation.model
        marks = {}
        if inv.drop.onset is not None:
            marks[f"{inv.metric_name} drop"] = inv.drop.onset.isoformat()
        for change in getattr(inv, "app_changes", ()):
            marks[f"{change.after} serving"] = change.at.isoformat()
        fig = metric_series_figure(inv.metric, inv.metric_name, marks=marks,
                                   title=f"{inv.metric_name} of {m.label} in production")  # fmt: skip
        self.figures["model"] = fig
        if inv.of_traces:
            versions = "; ".join(f"{c.after} from {c.at:%Y-%m-%d %H:%M} ({c.what})" for c in inv.app_changes)
            rows = [("app", m.label), ("parameters", ", ".join(f"{k}={v}" for k, v in sorted(m.params.items()))),
                    ("new versions", versions or "none in the traces"),
                    (f"{inv.metric_name} reference", f"{inv.drop.reference:.3f}" if inv.drop.reference is not None else "n/a")]  # fmt: skip
            return StepView([self._text("model", rows=rows), Display(figure_bundle(fig))])
        rows = [("model", f"{m.name} version {m.version}"), ("aliases", ", ".join(m.aliases) or "none"),
                ("training run", m.run_id), ("registered", m.creation_time.isoformat() if m.creation_time else ""),
                (f"{inv.metric_name} reference", f"{inv.drop.reference:.3f}" if inv.drop.reference is not None else "n/a")]  # fmt: skip
        return StepView([self._text("model", rows=rows), Display(figure_bundle(fig))])

    def _snapshot_view(self) -> StepView:
        inv, d = self.investigation, self.investigation.dataset
        if inv.of_traces:
            rows = [("baseline", d.name), ("source", d.source.uri), ("traces", d.num_rows), ("digest of their ids", d.digest)]
            return StepView([self._text("training snapshot", rows=rows, check=None)])
        rows = [("dataset", d.name), ("source", d.source.uri), ("kind", d.source_type), ("digest", d.digest),
                ("rows", (d.profile or {}).get("num_rows", "unknown")),
                ("training data ends", getattr(inv, "trained_until", None) or "unknown")]  # fmt: skip
        return StepView([self._text("training snapshot", rows=rows, check=inv.snapshot_check)])

    def _drift_view(self) -> StepView:
        from mlobs_notebook.widgets.drift_explorer import ALL_WINDOWS, DriftExplorer

        inv = self.investigation
        drifted = ", ".join(f"{o.feature} (from {o.onset})" for o in inv.diagnosis.drifted)
        explorer = DriftExplorer(inv.drift, feature=self._top_feature(), window=ALL_WINDOWS)
        return self._with_panel(self._text("drift", drifted=drifted), explorer)

    def _lineage_view(self) -> StepView:
        inv = self.investigation
        if inv.lineage is None or inv.lineage_dataset is None:
            target = "the retriever's index" if inv.of_traces else "the training source"
            reason = "no lineage was given" if inv.lineage is None else f"no lineage dataset matches {target}"
            return StepView([self._text("lineage", reason=reason)])
        from mlobs_notebook.widgets.lineage_explorer import LineageExplorer

        top = self._top_feature()
        suspects = [s.job for s in inv.diagnosis.suspects]
        # the window the diagnosis searched: the panel shows what the verdict read
        since, until = inv.diagnosis.suspect_windows.get(top, (None, None)) if top else (None, None)
        column = top if top and top in inv.upstream and inv.upstream[top].column is not None else None
        explorer = LineageExplorer(inv.lineage, inv.lineage_dataset, column=column, since=since, until=until,
                                   highlight=suspects)  # fmt: skip
        text = self._text("lineage", reason="", target=str(column or inv.lineage_dataset), suspects=", ".join(suspects))
        return self._with_panel(text, explorer)

    def _correlation_view(self) -> StepView:
        from mlobs_notebook.widgets.correlation import CorrelationPanel

        inv = self.investigation
        lead = inv.granularity.windows(inv.lead_windows) if inv.lead_windows is not None else ""
        return self._with_panel(self._text("correlation", lead=lead), CorrelationPanel(inv, feature=self._top_feature()))

    def _verdict_view(self) -> StepView:
        from markupsafe import Markup

        from mlobs_notebook.postmortem.html import summary_html

        inv = self.investigation
        text = self._text("verdict", summary=Markup(summary_html(inv)), notes=list(inv.notes))
        return StepView([text], [widgets.HBox([self.path, self.write]), self.status])

    # --- the postmortem ------------------------------------------------------------------------
    def write_postmortem(self, path: str | None = None) -> str | None:
        """Write the postmortem to ``path`` (default: the ``path`` field); returns the path written,
        or None with the reason in ``status`` (a callback must not raise into the frontend)."""
        target = Path(path or self.path.value).expanduser()
        try:
            self.written = self.investigation.write(str(target))
        except (MlobsError, OSError) as exc:
            self.written = None
            self.status.value = block(error=f"could not write {target}: {exc}")
            return None
        self.status.value = block(f"postmortem written to {self.written}")
        return self.written

    # --- static view ---------------------------------------------------------------------------
    def _summary(self) -> str:
        inv = self.investigation
        return f"{inv.model.label}: {inv.verdict}, step {self.step.value}"

    def _parts(self) -> list[str]:
        """Every step's outputs, in order (the displayed slots hold only the current step)."""
        return [d.data.get("text/html", "") for step in STEPS for d in self.view(step).displays]
