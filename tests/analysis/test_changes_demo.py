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
    from journey_explorer.export.report import report_questions
    findings = narrative.workshop_findings(demo_log, DEFAULT_GOAL, report_questions())
    changed = [f for f in findings if f.title.startswith("What changed")]
    assert len(changed) == 1
    finding = changed[0]
    assert "Checkout Started → Subscription Paid fell from" in finding.title
    assert PAYMENT_OUTAGE[0].date().isoformat() in finding.observation
    assert "Payment Failed" in finding.observation


def test_cli_changes_then_compare_the_two_periods_it_names(demo_project_path, tmp_path, capsys):
    import json

    import pandas as pd

    from journey_explorer.cli import main
    project = str(demo_project_path)
    table = tmp_path / "changes.csv"
    assert main(["changes", project, "--json", "--csv", str(table)]) == 0
    document = json.loads(capsys.readouterr().out)
    top = document["stories"][0]
    assert document["period"] == "week" and top["changes"][0]["label"] == "Checkout Started → Subscription Paid"
    frame = pd.read_csv(table)
    assert frame["label"].iloc[0] == "Checkout Started → Subscription Paid" and frame["story"].iloc[0] == 1
    # One click from the evidence: compare the before and during periods the story names.
    assert main(["compare", project, "--by", "session", *top["compare_args"], "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert compared["groups"]["b"] == f"period {top['evidence']['during']['since']}..{top['evidence']['during']['until']}"
    events = pd.DataFrame(compared["events"]).set_index("event")
    assert events.loc["Payment Failed", "share_b"] > 2 * events.loc["Payment Failed", "share_a"]
    assert main(["changes", project, "--goal", "Nope"]) == 1
    assert "No event named 'Nope'" in capsys.readouterr().err


def test_per_session_the_outage_is_first_and_the_end_of_sign_ups_is_told_as_a_mix_change(demo_log):
    from journey_explorer.analysis.common import CommonFilter, apply_filter
    result = changes.run(apply_filter(demo_log, CommonFilter(by="session")), changes.Spec(paths="session"))
    top = result.stories[0]
    assert top["changes"][0]["label"] == f"Checkout Started → {DEFAULT_GOAL}"
    assert top["window"]["since"] == PAYMENT_OUTAGE[0].date().isoformat()
    assert "per session fell" in top["text"]
    # No one signs up after 2026-06-05: what moves then moves with the share of sessions from new users.
    mixed = [s for s in result.stories if "sessions from new users moved in the same weeks" in s["text"]]
    assert mixed and all(s["rank"] > top["rank"] for s in mixed)
