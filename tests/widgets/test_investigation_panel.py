"""InvestigationPanel: the stepper moves, each step shows its panel, the button writes the postmortem."""

from __future__ import annotations

import pytest
from investigation_cache import demo_investigation

from mlobs_notebook.errors import InputError
from mlobs_notebook.widgets import DriftExplorer, LineageExplorer
from mlobs_notebook.widgets.correlation import CorrelationPanel
from mlobs_notebook.widgets.investigation_panel import STEPS, InvestigationPanel


@pytest.fixture(scope="module")
def inv(world):
    return demo_investigation(world)


def _find(widget, kind):
    if isinstance(widget, kind):
        return widget
    for child in getattr(widget, "children", ()):
        found = _find(child, kind)
        if found is not None:
            return found
    return None


def test_next_and_back_walk_the_steps_in_order(inv):
    panel = InvestigationPanel(inv)
    assert panel.step.value == "model" and panel.back.disabled and not panel.next.disabled
    assert list(panel.views) == ["model"]
    seen = [panel.step.value]
    for _ in STEPS[1:]:
        panel.next.click()
        seen.append(panel.step.value)
        assert panel.content.children == (panel.views[panel.step.value],)
    assert tuple(seen) == STEPS and panel.next.disabled and not panel.back.disabled
    panel.next.click()
    assert panel.step.value == "verdict"
    panel.back.click()
    assert panel.step.value == "correlation"


def test_each_step_opens_its_panel_on_the_first_drifted_feature(inv):
    panel = InvestigationPanel(inv, step="drift")
    top = inv.drifted_features[0].feature
    drift = _find(panel.view("drift"), DriftExplorer)
    assert drift.feature.value == top and drift.report is inv.drift
    lineage = _find(panel.view("lineage"), LineageExplorer)
    assert lineage.column.value == top
    assert set(lineage.highlight) == {s.job for s in inv.diagnosis.suspects}
    correlation = _find(panel.view("correlation"), CorrelationPanel)
    assert correlation.feature.value == top and correlation.investigation is inv
    # a view is built once and kept: changing it in one visit is still there on the next
    correlation.lag.value = 0
    panel.step.value = "model"
    panel.step.value = "correlation"
    assert _find(panel.content, CorrelationPanel).lag.value == 0


def test_the_verdict_step_shows_evidence_and_suspects(inv):
    panel = InvestigationPanel(inv, step="verdict")
    text = panel.view("verdict").children[0].value
    assert inv.verdict in text
    assert all(__import__("html").escape(e) in text for e in inv.diagnosis.evidence)
    assert inv.diagnosis.suspects[0].run_id in text


def test_the_button_writes_the_postmortem(inv, tmp_path):
    path = tmp_path / "incident.html"
    panel = InvestigationPanel(inv, step="verdict", path=str(path))
    panel.write.click()
    assert panel.written == str(path) and path.exists()
    body = path.read_text()
    assert inv.verdict in body and inv.diagnosis.suspects[0].job in body
    assert str(path) in panel.status.value


def test_a_postmortem_that_cannot_be_written_says_why_without_raising(inv, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    panel = InvestigationPanel(inv, step="verdict", path=str(blocker / "postmortem.html"))
    panel.write.click()
    assert panel.written is None and "could not write" in panel.status.value
    assert not (blocker / "postmortem.html").exists()


def test_static_view_holds_every_step(inv):
    html = InvestigationPanel(inv).to_html()
    for i, step in enumerate(STEPS, 1):
        assert f"{i}. {step}" in html
    assert inv.dataset.source.uri in html
    assert html.count('<script type="application/vnd.mlobs.figure+json">') >= 8  # model + drift 3 + lineage + correlation 3


def test_an_unknown_step_is_refused(inv):
    with pytest.raises(InputError, match="unknown step 'triage'.*verdict"):
        InvestigationPanel(inv, step="triage")


def test_an_inconclusive_verdict_shows_why_and_the_flag_in_its_colour(inv):
    import dataclasses

    from mlobs_notebook.diagnose import Inconclusive
    from mlobs_notebook.postmortem.html import VERDICT_COLORS

    why = Inconclusive("40 of the 40 evaluations of auc fall on 2026-11-30 (dated by start_time)", "--date-from tags.eval_date")
    thin = dataclasses.replace(inv, diagnosis=dataclasses.replace(inv.diagnosis, verdict="inconclusive", inconclusive=why))
    html = InvestigationPanel(thin, step="verdict").view("verdict").children[0].value
    assert "color:#4d4d4d'>inconclusive" in html
    assert "<b>Fix:</b> re-run with <code>--date-from tags.eval_date</code>" in html and why.reason in html
    summary = thin._repr_html_()
    assert f"background:{VERDICT_COLORS['inconclusive']}" in summary and "Fix: re-run with --date-from tags.eval_date" in summary
