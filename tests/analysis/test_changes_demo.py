"""The automatic outputs name the demo's planted payment outage (demo story 6)."""
from __future__ import annotations

import pytest

from journey_explorer.analysis import changes, narrative
from journey_explorer.demo import DEFAULT_GOAL, PAYMENT_OUTAGE
from journey_explorer.store.project import Project


@pytest.fixture(scope="module")
def demo_log(demo_project_path):
    with Project.open(demo_project_path) as project:
        return project.load_event_log()


def test_changes_ranks_the_outage_first(demo_log):
    result = changes.run(demo_log, changes.Spec())
    top = result.stories[0]
    lead = top["changes"][0]
    assert lead["label"] == f"Checkout Started → {DEFAULT_GOAL}" and lead["kind"] == "funnel"
    assert lead["during"] < lead["before"] / 1.5
    start, end = (stamp.date().isoformat() for stamp in PAYMENT_OUTAGE)
    assert (top["window"]["since"], top["window"]["until"], top["window"]["recovered"]) == (start, end, True)
    assert top["evidence"]["during"] == {"since": start, "until": end}
    assert any(c["kind"] == "rate" and c["label"] == "Payment Failed" and c["during"] > c["before"]
               for c in top["changes"])
    assert "Payment Failed rose from" in top["text"]


def test_the_report_says_what_changed(demo_log):
    findings = narrative.workshop_findings(demo_log, DEFAULT_GOAL)
    changed = [f for f in findings if f.title.startswith("What changed")]
    assert len(changed) == 1
    finding = changed[0]
    assert "Checkout Started → Subscription Paid fell from" in finding.title
    assert PAYMENT_OUTAGE[0].date().isoformat() in finding.observation
    assert "Payment Failed" in finding.observation
