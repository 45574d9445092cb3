"""Another outcome is no behaviour: compare and the differences finding list it apart (hand-checked logs)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from journey_explorer.analysis import compare, narrative
from journey_explorer.eventlog import EventLog

DAY = 86_400_000


def claims(n: int = 100) -> EventLog:
    """n paid claims, n failing: 80% of those end in Reject Claim (then Close Claim), the rest just stop.
    The behaviours: Request Documents on 70% of failing claims vs 30% of paid ones (twice on half of
    those), Call Customer on 70% vs 30% (it happens on many paid claims too). Two paid claims are
    rejected first, appealed and paid: "almost never" with the goal, not never."""
    rows = []
    for i in range(2 * n):
        case, paid, k = f"c{i}", i < n, i % n
        steps = ["Register Claim", "Check Coverage"]
        if (k % 10) < (3 if paid else 7):
            steps += ["Request Documents"] * (2 if k % 2 else 1)
        if ((k + 5) % 10) < (3 if paid else 7):
            steps += ["Call Customer"]
        steps += ["Assess Claim"]
        if paid:
            steps += (["Reject Claim", "Appeal"] if k < 2 else []) + ["Pay Claim", "Close Claim"]
        elif k < 0.8 * n:
            steps += ["Reject Claim", "Close Claim"]
        rows += [(case, step, i * DAY + t * 600_000) for t, step in enumerate(steps)]   # one visit each
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def web(n: int = 100) -> EventLog:
    """n buyers (purchase); n others, 60% of whom delete their account as their last event. Support is
    visited by 60% of the others and 20% of the buyers; error_banner is seen only by the others, mid-visit,
    with browsing after it (a behaviour, though no buyer has it)."""
    rows = []
    for i in range(2 * n):
        user, buyer, k = f"u{i}", i < n, i % n
        steps = ["open_app", "browse"]
        if (k % 10) < (2 if buyer else 6):
            steps += ["support"]
        if not buyer and k % 10 >= 5:
            steps += ["error_banner", "browse", "search", "browse"]
        steps += ["cart", "purchase", "receipt"] if buyer else ["cart", "browse"]
        if not buyer and k < 0.6 * n:
            steps += ["settings", "account_deleted"]
        rows += [(user, step, t * 60_000) for t, step in enumerate(steps)]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def named(log: EventLog, mask: np.ndarray) -> list[str]:
    return [name for name, on in zip(log.event_names, mask) if on]


def test_the_rejection_is_another_outcome_the_behaviours_are_not():
    log = claims()
    assert named(log, compare.other_outcomes(log, log.event_code("Pay Claim"))) == ["Reject Claim"]


def test_compare_leads_with_a_behaviour_and_lists_the_rejection_apart():
    result = compare.run(claims(), compare.Spec(goal="Pay Claim"))
    passing = result.events[result.events["passes"]]
    assert "Reject Claim" not in set(result.events["event"])
    # Request Documents: 70 of 100 failing vs 30 of 100 paid; Call Customer the same, and stays ranked
    assert set(passing["event"].head(2)) == {"Request Documents", "Call Customer"}
    row = passing.set_index("event").loc["Request Documents"]
    assert (row["share_a"], row["share_b"]) == (0.3, 0.7)
    outcome = result.outcomes.set_index("event").loc["Reject Claim"]
    assert (outcome["share_a"], outcome["share_b"], bool(outcome["passes"])) == (0.02, 0.8, True)
    document = result.to_json_dict()
    assert [r["event"] for r in document["other_outcomes"]] == ["Reject Claim"]


def test_the_differences_finding_tells_the_outcome_apart():
    finding = narrative.differences(claims(), "Pay Claim")
    assert "Reject Claim" not in finding.title
    assert "Request Documents" in finding.title or "Call Customer" in finding.title
    assert "Left out as another outcome: 80% of failing users did Reject Claim instead of Pay Claim." \
        in finding.observation


def test_web_log_account_deletion_is_an_outcome_support_and_an_error_are_behaviours():
    log = web()
    # settings comes before the deletion, with a step after it that no buyer takes: a behaviour
    assert named(log, compare.other_outcomes(log, log.event_code("purchase"))) == ["account_deleted"]
    result = compare.run(log, compare.Spec(goal="purchase"))
    passing = set(result.events.loc[result.events["passes"], "event"])
    assert {"support", "error_banner", "settings"} <= passing
    assert "account_deleted" not in set(result.events["event"])
    assert result.outcomes["event"].tolist() == ["account_deleted"]


def test_an_error_users_leave_after_is_what_they_met_not_another_outcome():
    # 25 buyers: open, cart, buy; 20 others: open, error and nothing after it. The error ends their paths as
    # the purchase ends the buyers', yet it happened to them: the difference to lead with, not an outcome.
    rows = []
    for i in range(25):
        rows += [(f"b{i}", "open", 0), (f"b{i}", "cart", 1000), (f"b{i}", "buy", 2000)]
        rows += [(f"f{i}", "open", 0)] + ([(f"f{i}", "error", 1000)] if i < 20 else [])
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert not compare.other_outcomes(log, log.event_code("buy"))[log.event_code("error")]
    finding = narrative.differences(log, "buy")
    assert "another outcome" not in finding.observation and "error (80% vs 0%)" in finding.observation
