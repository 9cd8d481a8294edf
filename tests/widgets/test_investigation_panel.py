"""InvestigationPanel: the stepper moves, each step shows its panel, the button writes the postmortem."""

from __future__ import annotations

import markupsafe
import pytest
from investigation_cache import demo_investigation

from mlobs_notebook.errors import InputError
from mlobs_notebook.widgets import DriftExplorer, LineageExplorer
from mlobs_notebook.widgets._display import EMPTY
from mlobs_notebook.widgets.correlation import CorrelationPanel
from mlobs_notebook.widgets.investigation_panel import SLOTS, STEPS, InvestigationPanel


@pytest.fixture(scope="module")
def inv(world):
    return demo_investigation(world)


PLOTLY = "application/vnd.plotly.v1+json"


def shown(panel):
    """The display data of the panel's outputs (its slots), in order."""
    return [d.data for d in panel.displays.values()]


def test_next_and_back_walk_the_steps_in_order(inv):
    panel = InvestigationPanel(inv)
    assert panel.step.value == "model" and panel.back.disabled and not panel.next.disabled
    assert list(panel.views) == ["model"]
    seen = [panel.step.value]
    for _ in STEPS[1:]:
        panel.next.click()
        seen.append(panel.step.value)
        view = panel.views[panel.step.value]
        assert panel.content.children == tuple(view.controls)
        assert shown(panel) == [d.data for d in view.displays] + [EMPTY] * (SLOTS - len(view.displays))
    assert tuple(seen) == STEPS and panel.next.disabled and not panel.back.disabled
    panel.next.click()
    assert panel.step.value == "verdict"
    panel.back.click()
    assert panel.step.value == "correlation"


def test_each_step_opens_its_panel_on_the_first_drifted_feature(inv):
    panel = InvestigationPanel(inv, step="drift")
    top = inv.drifted_features[0].feature
    drift = panel.view("drift").panel
    assert isinstance(drift, DriftExplorer) and panel.content.children == (drift,)
    assert drift.feature.value == top and drift.report is inv.drift
    lineage = panel.view("lineage").panel
    assert isinstance(lineage, LineageExplorer)
    assert lineage.column.value == top
    assert set(lineage.highlight) == {s.job for s in inv.diagnosis.suspects}
    correlation = panel.view("correlation").panel
    assert isinstance(correlation, CorrelationPanel) and correlation.feature.value == top and correlation.investigation is inv
    # a view is built once and kept: changing it in one visit is still there on the next
    correlation.lag.value = 0
    panel.step.value = "model"
    panel.step.value = "correlation"
    assert panel.content.children[0].lag.value == 0


def test_the_outputs_follow_the_open_panel_and_only_it(inv):
    panel = InvestigationPanel(inv, step="drift")
    explorer = panel.view("drift").panel
    slot = 1 + list(explorer.displays).index("histogram")  # after the step's text
    quiet = next(f for f in inv.features if f != explorer.feature.value)
    explorer.feature.value = quiet
    assert shown(panel)[slot][PLOTLY]["layout"]["title"]["text"].startswith(f"{quiet}: baseline vs current")
    assert shown(panel)[slot] == explorer.displays["histogram"].data
    panel.step.value = "correlation"
    correlation = shown(panel)
    explorer.feature.value = inv.drifted_features[0].feature  # a hidden step changes: the outputs stay
    assert shown(panel) == correlation
    assert "3. drift" not in "".join(d["text/html"] for d in correlation) and "5. correlation" in correlation[0]["text/html"]


def test_the_verdict_step_shows_evidence_and_suspects(inv):
    panel = InvestigationPanel(inv, step="verdict")
    text = panel.view("verdict").displays[0].data["text/html"]
    assert inv.verdict in text
    assert all(str(markupsafe.escape(e)) in text for e in inv.diagnosis.evidence)
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
    html = InvestigationPanel(thin, step="verdict").view("verdict").displays[0].data["text/html"]
    assert f"background:{VERDICT_COLORS['inconclusive']};color:#fff;padding:.2em .6em;border-radius:.3em\">inconclusive" in html
    assert "Fix: re-run with --date-from tags.eval_date" in html and why.reason in html
    summary = thin._repr_html_()
    assert f"background:{VERDICT_COLORS['inconclusive']}" in summary and "Fix: re-run with --date-from tags.eval_date" in summary
