"""An unwanted goal (an outcome to avoid, a cancellation): who does it is the failing group, every sentence says so.

A small subscription log, by hand: 120 users; 60 stay (they play, some make a playlist), 60 cancel through the
cancel flow (settings → cancel_flow_started → cancel_offer_shown → subscription_cancelled), 40 of whom had a
failed payment and a billing retry first; 10 of those who stay had one too.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from journey_explorer.analysis import compare, drivers, narrative, stuck
from journey_explorer.analysis.goals import goal_is_unwanted, outcome_groups
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog

MINUTE, DAY = 60_000, 86_400_000
MONDAY = 1735516800000          # 2024-12-30T00:00:00Z
CANCEL_FLOW = ("settings_viewed", "cancel_flow_started", "cancel_offer_shown", "subscription_cancelled")


def subscription_rows() -> list[tuple[str, str, int]]:
    rows = []

    def visit(user: str, day: int, *events: str) -> None:
        rows.extend((user, event, MONDAY + day * DAY + k * MINUTE) for k, event in enumerate(events))

    for i in range(120):
        user, cancels = f"u{i:03d}", i < 60
        visit(user, 0, "trial_started", "app_open", "track_played")
        if (cancels and i < 40) or (not cancels and i < 70):          # 40 of 60 cancellers, 10 of 60 who stay
            visit(user, 3 + i % 5, "payment_failed")
            visit(user, 4 + i % 5, "billing_retry")
        visit(user, 10 + i % 20, "app_open", "track_played", *(("playlist_created",) if i % 3 == 0 else ()))
        if cancels:
            visit(user, 40 + i % 20, "app_open", *CANCEL_FLOW)
        else:
            visit(user, 40 + i % 20, "app_open", "track_played")
    return rows


@pytest.fixture(scope="module")
def log() -> EventLog:
    return EventLog.from_frame(pd.DataFrame(subscription_rows(), columns=["user", "event", "time"]))


def test_a_goal_named_like_a_failure_is_unwanted_unless_said_otherwise():
    assert goal_is_unwanted("subscription_cancelled") and goal_is_unwanted("account_deleted")
    assert not goal_is_unwanted("playlist_created") and not goal_is_unwanted("subscription_cancelled", False)
    assert outcome_groups("subscription_cancelled") == ("users who cancel", "users who never cancel")


def test_the_overview_says_users_cancel(log):
    finding = narrative.overview(log, "subscription_cancelled", unwanted=True)
    assert finding.title == "50.0% of users cancel (subscription_cancelled)"
    assert "60 of them (50.0%) did subscription_cancelled, the outcome to avoid." in finding.observation


def test_stuck_compares_cancellers_up_to_it_with_those_who_stay_and_leaves_out_the_cancel_flow(log):
    goal = log.event_code("subscription_cancelled")
    cut, successful, route = stuck.unwanted_groups(log, goal)
    assert int(successful.sum()) == 60 and not (cut.event == goal).any()       # those who stay succeed
    assert {log.event_names[c] for c in route.nonzero()[0]} >= {"cancel_flow_started", "cancel_offer_shown"}
    result = stuck.run(log, stuck.Spec(goal="subscription_cancelled", unwanted=True, min_paths=5, min_reference=5))
    assert result.successful == 60
    events = set(result.table["event"])
    assert not events & {"cancel_flow_started", "cancel_offer_shown", "subscription_cancelled"}
    assert "payment_failed" in events
    words = " ".join(result.table["explanation"])
    assert "successful" not in words and "failing" not in words
    assert "users who cancel" in words and "users who never cancel" in words


def test_compare_and_drivers_say_who_cancels(log):
    finding = narrative.differences(log, "subscription_cancelled", unwanted=True)
    # 40 of 60 vs 10 of 60 did the billing loop (the failure and the retry tie)
    assert re.fullmatch(r"67% of users who cancel did (payment_failed|billing_retry) before they cancel, 17% of "
                        r"those who never cancel", finding.title)
    assert finding.observation.startswith("Comparing 60 users who cancel (their paths up to it) with 60 users who "
                                          "never cancel.")
    assert re.search(r"Users who cancel did more: [^.]*payment_failed \(67% vs 17%\)", finding.observation)
    assert "successful" not in finding.title + finding.observation
    assert compare.run(log, compare.Spec(goal="subscription_cancelled", unwanted=True)).labels == (
        "did subscription_cancelled", "never did subscription_cancelled")
    spec = drivers.Spec(goal="subscription_cancelled", unwanted=True)
    assert spec.reaching() == "cancel"
    assert drivers.Spec(goal="subscription_cancelled").reaching() == "reach subscription_cancelled"


def test_no_funnel_to_a_cancellation_and_the_north_star_is_the_usual_goal(log):
    assert narrative.goal_funnel(log, "subscription_cancelled", unwanted=True) is None
    star = narrative.north_star(log, "subscription_cancelled", unwanted=True)
    assert "subscription_cancelled" not in star.title
    assert star.spec.event != "subscription_cancelled"


def test_the_report_takes_a_failure_named_goal_as_one_to_avoid(log):
    from journey_explorer.export.report import plan_report
    from journey_explorer.state.filters import FilterState
    plan = plan_report(log, "subscription_cancelled", name="music")
    assert plan.filters.avoid_goal is True and "outcome to avoid: subscription_cancelled" in plan.title
    titles = [finding.title for finding in plan.findings]
    assert titles[0] == "50.0% of users cancel (subscription_cancelled)"
    assert not any("funnel" in finding.view for finding in plan.findings if finding.view)
    wanted = plan_report(log, "subscription_cancelled", FilterState(avoid_goal=False))
    assert wanted.findings[0].title == "50.0% of users reach subscription_cancelled"
    assert FilterState.from_dict(plan.filters.to_dict()).avoid_goal is True       # saved with the view state


def test_the_report_points_at_a_cancellation_that_scores_better_than_the_guessed_goal():
    from journey_explorer.analysis import goals
    rows = []
    for i in range(100):
        user = f"u{i:03d}"
        rows += [(user, "app_open", MONDAY), (user, "track_played", MONDAY + MINUTE)]
        if i % 3 == 0:           # a third make playlists, most of them more than once, early on
            rows += [(user, "playlist_created", MONDAY + (2 + k) * MINUTE) for k in range(1 if i % 2 else 3)]
        rows += [(user, "track_played", MONDAY + DAY)]
        if i < 40:               # 40 cancel, at the very end
            rows += [(user, "subscription_cancelled", MONDAY + 2 * DAY)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert goals.guess_goal(log) == "playlist_created"                     # never a failure while another scores
    assert goals.outcome_to_avoid(log) == "subscription_cancelled"


def _tiny(rows) -> EventLog:
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_a_step_found_worse_for_one_value_says_they_do_the_unwanted_goal_not_that_they_never_reach_it():
    test = {"property": "org:resource", "value": "A", "paths": 40, "measure": "fail", "rate": 0.6,
            "rate_others": 0.3, "p_value": 1e-5, "q_value": 1e-5}
    avoided = stuck._at_step_found("Assess", [test], "exit", stuck.Spec(goal="subscription_cancelled", unit="users",
                                                                         unwanted=True))
    assert avoided["step_text"].endswith("60% cancel vs 30% of the others")
    assert avoided["step_brief"] == "org:resource = A: 60% cancel vs 30%"
    wanted = stuck._at_step_found("Assess", [test], "exit", stuck.Spec(goal="Pay", unit="cases"))
    assert wanted["step_text"].endswith("60% never reach Pay vs 30% of the others")


def test_stuck_points_say_why_when_one_of_the_two_groups_is_empty():
    everyone = _tiny([("a", "cancel", 0), ("b", "cancel", 1)])
    with pytest.raises(JourneyError, match="Every user does cancel: there is no user who avoids it"):
        stuck.run(everyone, stuck.Spec(goal="cancel", unwanted=True))
    # b cancels first thing (a session of its own): before, "no user does cancel" while a third of them did
    first_thing = _tiny([("a", "app", 0), ("b", "cancel", 1), ("c", "app", 2)])
    with pytest.raises(JourneyError, match="Every user who does cancel does it first"):
        narrative.stuck_points(first_thing, "cancel", unwanted=True)


def test_the_explanations_name_the_successful_group_with_its_noun():
    row = pd.Series({"failing_users": 30, "successful_users": 3, "exit_excess": 0, "loop_excess": 0,
                     "dwell_excess": 0})
    assert stuck._explain(row, stuck.Spec(goal="purchase", unit="users")) == \
        "too few successful users reach it (3) to compare with"


def test_per_session_a_goal_to_avoid_is_not_compared_with_users_who_succeed_in_any_session(log):
    """Per session, "users who succeed (in any session)" counted every user with a session without a
    cancellation: nearly everyone, the cancellers too."""
    from journey_explorer.analysis.common import sessions_as_paths
    per_session = sessions_as_paths(log)
    result = stuck.run(per_session, stuck.Spec(goal="subscription_cancelled", unwanted=True, min_paths=5,
                                               min_reference=5))
    assert len(result.table)
    assert not any("in any session" in text for text in result.table["explanation"])
    assert result.table[["exit_rate_successful_users", "loop_rate_successful_users"]].isna().all().all()


def test_a_group_of_one_is_counted_in_the_singular():
    # Only u000 cancels: "1 user who cancels", not "1 users who cancel".
    rows = [row for row in subscription_rows() if not (row[1] in CANCEL_FLOW[1:] and row[0] != "u000")]
    one = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    finding = narrative.differences(one, "subscription_cancelled", unwanted=True)
    assert finding.observation.startswith("Comparing 1 user who cancels (their paths up to it) with 119 users who "
                                          "never cancel.")
    from journey_explorer.analysis.goals import counted_outcome_groups
    assert counted_outcome_groups("Reject Claim", "case", (2, 1)) == ("2 cases that are rejected",
                                                                      "1 case that is never rejected")
    assert counted_outcome_groups("deleteAccount", "user", (1, 3))[0] == "1 user who deletes their account"
