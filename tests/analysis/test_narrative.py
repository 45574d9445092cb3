"""The automatic report's findings: words computed from the numbers, checked on a small log by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import narrative
from journey_explorer.domain import JourneyError, UnknownEvent
from journey_explorer.eventlog import EventLog
from tests.analysis.test_retention_readout import weekly_cohorts

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z

# Five users; a, b and c pay. Everyone who pays signed up and set up first (in that order);
# d and e loop on "setup" and leave.
ROWS = [
    ("a", "visit", 0), ("a", "signup", 1000), ("a", "setup", 2000), ("a", "pay", 3000),
    ("b", "visit", 0), ("b", "signup", 1000), ("b", "setup", 2000), ("b", "pay", 9000),
    ("c", "signup", 0), ("c", "visit", 500), ("c", "setup", 2000), ("c", "pay", 2500),
    ("d", "visit", 0), ("d", "setup", 1000), ("d", "setup", 2000), ("d", "setup", 3000),
    ("e", "visit", 0), ("e", "setup", 1000), ("e", "setup", 2000),
]


@pytest.fixture
def log():
    frame = pd.DataFrame(ROWS, columns=["user", "event", "time"])
    frame["time"] += MONDAY
    return EventLog.from_frame(frame, default_goal="pay")


def test_overview_counts_users_events_and_goal(log):
    finding = narrative.overview(log, "pay")
    assert finding.title == "60.0% of users reach pay"
    assert "5 users did 19 events (3.8 per user) of 4 kinds" in finding.observation
    assert "3 of them (60.0%) reached pay" in finding.observation


def test_funnel_steps_are_the_milestones_before_the_goal_in_typical_order(log):
    # visit is first for a and b, second for c: median position 0; signup 1; setup 2.
    assert narrative.goal_funnel_steps(log, "pay") == ["visit", "signup", "setup", "pay"]


def test_the_step_right_before_the_goal_is_a_funnel_step_even_when_more_common_ones_fill_the_funnel():
    # Everyone passes open, home, search, menu; 6 of 10 open the wallet, 5 of them pay right after. (Every
    # payer did all five: ties, which name order alone would break against "wallet".)
    rows = []
    for i in range(10):
        steps = ["open", "home", "search", "menu"] + (["wallet"] if i < 6 else []) + (["pay"] if i < 5 else [])
        rows += [(f"u{i}", event, k) for k, event in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    steps = narrative.goal_funnel_steps(log, "pay")
    assert len(steps) == narrative.FUNNEL_MAX_STEPS and steps[-2:] == ["wallet", "pay"]


def test_funnel_finding_names_the_biggest_loss(log):
    finding = narrative.goal_funnel(log, "pay")
    assert finding.spec.steps == ("visit", "signup", "setup", "pay")
    # Sequential: all 5 visit; a and b sign up after visiting (c signed up before): 2 of 5 continue.
    assert "The biggest loss is from visit to signup: 3 users (60%) did not continue" in finding.observation


def test_no_stuck_point_from_a_handful_of_users(log):
    finding = narrative.stuck_points(log, "pay")
    assert finding.title == "No stuck points stand out"
    assert "at least 20 failing" in finding.observation


def test_goal_guess_is_the_event_a_minority_reaches_late_once(log):
    assert narrative.guess_goal(log) == "pay"          # setup and visit: every path has them


def test_unknown_goal_is_named():
    frame = pd.DataFrame(ROWS, columns=["user", "event", "time"])
    with pytest.raises(UnknownEvent, match="No event named 'paid'"):
        narrative.workshop_findings(EventLog.from_frame(frame), "paid")


def test_every_question_gets_a_finding_with_its_view(log):
    from journey_explorer.export.report import report_questions
    findings = narrative.workshop_findings(log, "pay", report_questions())
    # the north star needs a full week of data; what changed: too little history
    assert [f.view for f in findings] == ["overview", "flows", "stuck", "compare", "funnel", "retention",
                                          "lifecycle", "", ""]
    assert all(f.title and f.observation for f in findings)


def test_a_question_the_data_cannot_answer_says_why_and_the_rest_still_come():
    # Everyone reaches "pay": there is no failing group to compare with.
    frame = pd.DataFrame([(u, e, t) for u in "abc" for t, e in enumerate(["visit", "pay"])],
                         columns=["user", "event", "time"])
    from journey_explorer.export.report import report_questions
    findings = narrative.workshop_findings(EventLog.from_frame(frame), "pay", report_questions())
    assert len(findings) == len(report_questions()) - 1 <= narrative.MAX_FINDINGS    # no tracking slide: nothing to say
    differ = findings[3]
    assert differ.view == "" and differ.title == "How successful users differ: not answered by this data"
    assert "empty" in differ.observation
    assert findings[0].view == "overview" and findings[0].title == "100.0% of users reach pay"


def test_guessed_goal_skips_events_every_path_has():
    # Every path contains "open" and most end with it; "close" separates users.
    rows = [("a", "close", 0), ("a", "open", 1), ("b", "close", 0), ("b", "open", 1),
            ("c", "open", 0), ("d", "open", 0), ("d", "close", 1)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert narrative.guess_goal(log) == "close"


def test_funnel_observation_says_all_steps_in_order(log):
    finding = narrative.goal_funnel(log, "pay")
    assert finding.observation.startswith(
        "40% of users who do visit complete all 4 steps in this order (visit → signup → setup → pay): 2 of 5.")


def test_flows_finding_reads_the_top_path_as_drawn():
    # Twenty copies of each user: 40 paths visit → signup → setup → pay, 20 start with signup...
    frame = pd.DataFrame([(f"{u}{n}", e, t) for u, e, t in ROWS for n in range(20)], columns=["user", "event", "time"])
    finding = narrative.first_flows(EventLog.from_frame(frame), "pay")
    assert "The most common first 4 steps are visit → signup → setup → pay and then leave, taken by 40 users (40%)" \
        in finding.observation
    assert finding.title == "How journeys start: visit → signup → setup"


def test_flows_finding_names_no_path_of_a_handful_of_users(log):
    finding = narrative.first_flows(log, "pay")
    assert "No opening of 5 steps is shared by enough users to name" in finding.observation
    assert finding.title == "Journeys start with visit"


def test_a_funnel_is_built_from_milestones_users_did_together():
    # Half the buyers search, half browse: a funnel needing both would show 0% completing.
    rows = [("a", "open", 0), ("a", "search", 1), ("a", "buy", 2), ("b", "open", 0), ("b", "browse", 1),
            ("b", "buy", 2), ("c", "open", 0), ("c", "leave", 1), ("d", "open", 0), ("d", "leave", 1)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    steps = narrative.goal_funnel_steps(log, "buy")
    assert steps[0] == "open" and steps[-1] == "buy" and len(steps) == 3        # one of search/browse, not both
    assert narrative.goal_funnel(log, "buy").title == "25% complete the 3 steps to buy"       # 1 of the 4 openers


def test_short_histories_say_so_instead_of_inventing_trends(log):
    with pytest.raises(JourneyError, match="one full week"):
        narrative.north_star(log, "pay")
    assert narrative.retention_finding(log, "pay").title == "Too little history to judge retention"
    # three weeks of one user: a full week, too few for a trend
    rows = [("a", "use", MONDAY + d * DAY) for d in range(0, 20, 2)]
    north = narrative.north_star(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])), "use")
    assert "too few to tell a trend" in north.observation and "first four" not in north.observation
    assert north.title == "1 user did use in the last full week"


def test_differences_name_what_failing_users_do_more_and_leave_the_route_out():
    # 25 buyers: open, cart, buy; 25 others: open, error (20 of them), open again, leave. (An error that ends
    # the path is told as another outcome: test_other_outcomes.)
    rows = []
    for i in range(25):
        rows += [(f"b{i}", "open", 0), (f"b{i}", "cart", 1000), (f"b{i}", "buy", 2000)]
        rows += [(f"f{i}", "open", 0)] + ([(f"f{i}", "error", 1000), (f"f{i}", "open", 2000)] if i < 20 else [])
    finding = narrative.differences(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])), "buy")
    assert finding.title == "80% of failing users did error, 0% of successful"
    assert "Left out as the route to buy: cart." in finding.observation
    assert "Successful users did more" not in finding.observation        # cart is the route, not a difference


def test_who_names_the_segment_most_above_and_the_one_most_below_but_not_a_mirror():
    def row(prop, value, lift, phi, significant=True):
        return {"property": prop, "value": value, "lift": lift, "phi": phi, "significant": significant,
                "rate_a": 0.5 * lift, "rate_b": 0.5, "sentence": f"Users with {prop} = {value} x{lift}"}
    who = pd.DataFrame([row("source", "referral", 1.2, 0.12), row("source", "tiktok", 0.7, -0.18),
                        row("source", "organic", 1.0, 0.0, False), row("app", "7.3", 1.2, 0.11),
                        row("app", "7.4", 0.8, -0.17)])
    assert narrative._who_sentences(who) == "Users with source = referral x1.2; source = tiktok at 35% vs 50% (0.7x)"
    two_sided = who[who["property"] == "app"]              # 7.4 below is 7.3 above said again
    assert narrative._who_sentences(two_sided) == "Users with app = 7.3 x1.2"
    assert narrative._who_sentences(who.iloc[:0]) == ""


def test_funnel_takes_a_step_after_which_users_are_lost_over_steps_everyone_passes():
    """All 20 users search, see results and a hotel; 16 choose a room; 10 fill in details, extras and pay;
    8 book. Every booker did all seven steps: the funnel keeps a step of the first three and the room
    (users are lost after each), not a run of steps with no loss between them."""
    rows = []
    for i in range(20):
        steps = ["search", "results", "hotel"] + (["room"] if i < 16 else []) + (
            ["details", "extras", "payment"] if i < 10 else []) + (["book"] if i < 8 else [])
        rows += [(f"u{i}", event, k) for k, event in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    steps = narrative.goal_funnel_steps(log, "book")
    assert "room" in steps and steps[-2:] == ["payment", "book"] and steps[0] in ("search", "results", "hotel")
    text = narrative.goal_funnel(log, "book").observation
    assert "The biggest loss is from room to " in text and ": 6 users (38%) did not continue" in text


def test_funnel_names_who_it_loses_most_at_the_biggest_loss():
    """40 web and 40 mobile-web users reach the room choice; 30 web and 8 mobile-web users go on to pay."""
    rows = []
    for i in range(80):
        platform = "web" if i < 40 else "mweb"
        goes_on = i < 30 or 40 <= i < 48
        steps = ["search", "room"] + (["payment", "book"] if goes_on else [])
        rows += [(f"u{i}", event, k, platform) for k, event in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "platform"]))
    text = narrative.goal_funnel(log, "book").observation
    assert "The biggest loss is from room to payment: 42 users (52%)" in text
    assert "Worst for platform = mweb: 20% of them went on vs 75% of the others." in text


def test_funnel_does_not_name_a_property_that_restates_the_goal_as_who_it_loses():
    """Everyone on plan "Trial" until they pay (then "Pro"): trial users go on from the room choice far
    less, but the plan says only whether they paid. The web/mobile split is who the funnel loses."""
    rows = []
    for i in range(80):
        platform = "web" if i < 40 else "mweb"
        goes_on = i < 30 or 40 <= i < 48
        pays = i < 24 or 40 <= i < 46
        steps = ["search", "room"] + (["payment"] if goes_on else []) + (["book"] if pays else [])
        rows += [(f"u{i}", event, k, platform, "Pro" if pays else "Trial") for k, event in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "platform", "plan"]))
    text = narrative.goal_funnel(log, "book").observation
    assert "plan" not in text and "Worst for platform = mweb" in text


def test_retention_finding_says_when_newer_users_came_back_less():
    """Weekly cohorts of 40 users over 10 weeks: before week 5, 20 of each come back the next week;
    from week 5 on, 6 do. The report leads with the change between cohorts."""
    finding = narrative.retention_finding(weekly_cohorts(lambda week: 20 if week < 5 else 6), "open")
    assert finding.title == "Week-1 retention fell from 50% to 15% for users starting since 2024-02-05"
    assert ("Week-1 retention fell from 50% of the 200 users who started before 2024-02-05 to 15% of the 200 "
            "who started from then to the week of 2024-03-04 (the last whose week 1 is known).") in finding.observation


def test_retention_finding_claims_no_change_when_cohorts_come_back_alike():
    """The same 10 weekly cohorts of 40, each with 13 coming back the next week (32%): enough users to
    test every split, and no change to find."""
    finding = narrative.retention_finding(weekly_cohorts(lambda week: 13), "open")
    assert "Week-1 retention" not in finding.observation and "Week-1" not in finding.title


def test_early_drivers_tell_the_habit_then_strong_rework_never_errors_outcomes_or_mirrors():
    """The habit that goes with the goal first, then rework that cuts the goal's rate when its link (phi)
    is at least half as strong; a failed payment happens to users, a cancellation is another outcome
    (nobody doing it reaches the goal), and the skipped tutorial is the completed one's other half."""
    import pandas as pd
    table = pd.DataFrame([
        ("Update Delivery Date", 1.2, 0.07, 0.95, 0.78, "habit"),
        ("Change Price", 0.66, -0.29, 0.56, 0.85, "rework"),
        ("Cancel Order", 0.0, -0.86, 0.0, 0.9, "cancelled"),
        ("payment_failed", 0.3, -0.5, 0.3, 0.9, "error")],
        columns=["event", "lift", "phi", "rate_a", "rate_b", "sentence"])
    assert narrative._strongest_drivers(table) == ["habit", "rework"]       # rework: 4x as strong
    assert narrative._strongest_drivers(table.iloc[1:]) == ["rework"]         # no habit goes with the goal
    table.loc[0, "phi"] = 0.7
    assert narrative._strongest_drivers(table) == ["habit"]                   # rework under half as strong
    halves = pd.DataFrame([("tutorial_completed", 3.6, 0.25, 0.11, 0.03, "completed"),
                           ("tutorial_skipped", 0.3, -0.24, 0.03, 0.11, "skipped")],
                          columns=["event", "lift", "phi", "rate_a", "rate_b", "sentence"])
    assert narrative._strongest_drivers(halves) == ["completed"]
    assert narrative._strongest_drivers(table.iloc[2:]) == []


def test_the_weeks_a_case_extract_drains_out_are_not_counted_as_shrinking():
    """40 cases start each week for 12 weeks, each active for three weeks; then no case starts and the
    open ones finish over two weeks. Counted to the end, the active base 'shrinks'; it does not."""
    week = 7 * 86_400_000
    monday = 1704067200000          # 2024-01-01
    rows = [(f"c{w}_{i}", "step", monday + (w + k) * week + i * 3_600_000)
            for w in range(12) for i in range(40) for k in range(3)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert narrative._draining_since(log) == "2024-03-25"          # week 12: nobody new, 80 finishing
    finding = narrative.lifecycle_finding(log, "step")
    assert "shrinking" not in finding.title and "Weeks from 2024-03-25 on are left out" in finding.observation


def test_the_north_star_trend_leaves_out_the_weeks_cases_start_up():
    """Cases started evenly over 16 weeks, each paid three weeks after it starts: the first three weeks
    hold no payment only because no case is old enough. Against them, any later week 'grows'."""
    week = 7 * 86_400_000
    monday = 1704067200000
    rows = []
    for w in range(16):
        for i in range(20):
            case, start = f"c{w}_{i}", monday + w * week + i * 3_600_000
            rows += [(case, "create", start), (case, "check", start + week), (case, "pay", start + 3 * week)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    finding = narrative.north_star(log, "pay")
    assert "The first 3 weeks are left out of that comparison" in finding.observation
    assert "averaged 20, 0% above the first four (20)" in finding.observation      # 20 a week either side


def test_got_past_does_not_call_a_step_both_groups_take_the_way_out():
    # every case, paid or not, goes on to assess after receiving documents: they part later
    unstuck = {"next": [{"event": "assess", "successful_share": 1.0, "failing_share": 1.0}], "failing_left": 0.0,
               "routes": [{"route": "receive → assess → pay", "share": 0.8}],
               "failing_routes": [{"route": "receive → assess → reject → (left)", "share": 0.6}]}
    text = narrative._got_past(unstuck, "cases")
    assert text.startswith("Right after it successful and failing cases alike went on to assess (100% and 100%); "
                           "they part later. Successful cases' most common way on: receive → assess → pay (80%).")
    unstuck["next"][0]["failing_share"] = 0.5           # a step that does set them apart keeps its sentence
    assert narrative._got_past(unstuck, "cases").startswith("Every successful case went on to assess, 50% of failing "
                                                            "cases did.")


def test_a_further_stuck_point_says_who_handled_its_step():
    unstuck = [{"event": "assess", "step_brief": "adjuster = K: waited a median 4 d vs 10 h"},
               {"event": "receive", "step_brief": ""}]
    assert narrative._with_step_text("assess", unstuck) == "assess (adjuster = K: waited a median 4 d vs 10 h)"
    assert narrative._with_step_text("receive", unstuck) == "receive"
    assert narrative._with_step_text("close", unstuck) == "close"       # not among the top stuck points


def test_a_further_stuck_point_says_the_wait_for_it_when_that_is_its_strongest_part():
    row = {"wait_excess": 0.45, "dwell_excess": 0.2, "exit_excess": 0.0, "loop_excess": 0.0, "repeat_excess": 0.0,
           "stop_excess": 0.0, "wait_median_seconds_failing": 8 * 86400.0, "wait_median_seconds_successful": 72000.0}
    assert narrative._with_step_text("assess", [], row) == "assess (waited a median 8 d for it vs 20 h)"
    assert narrative._with_step_text("assess", [], {**row, "loop_excess": 0.6}) == "assess"


def test_the_stuck_finding_of_cases_says_the_wait_for_the_step_they_waited_for():
    import dataclasses

    from tests.analysis.test_stuck import _slow_assessment_log
    log = dataclasses.replace(_slow_assessment_log(), path_noun="case")
    finding = narrative.stuck_points(log, "Pay Claim")
    assert finding.title == "Cases get stuck at Assess Damage"
    assert finding.observation.startswith("Assess Damage is where cases get stuck most: failing cases waited a median ")
    assert "for it (since their previous step) vs " in finding.observation


def test_got_past_gives_its_routes_way_for_a_longer_finding():
    unstuck = {"next": [{"event": "retry", "successful_share": 0.8, "failing_share": 0.3}], "failing_left": 0.7,
               "routes": [{"route": "upload → retry → pay", "share": 0.6}],
               "failing_routes": [{"route": "upload → (left)", "share": 0.7}]}
    full = narrative._got_past(unstuck, "users")
    assert "Successful users' most common way on" in full and "Failing users most often" in full
    assert "Failing users most often" not in narrative._got_past(unstuck, "users", routes=1)
    assert narrative._got_past(unstuck, "users", routes=0) == (
        "80% of successful users went on to retry, 30% of failing users did; 70% of failing users left there.")


def test_the_north_star_says_drained_weeks_are_left_out_only_when_it_left_them_out():
    """Cases start for 5 weeks, then the extract drains out: too few weeks come before the drain to leave
    the rest out of the north star (its weeks and peak count them all), so it must not say it did."""
    week = 7 * 86_400_000
    monday = 1704067200000
    rows = [(f"c{w}_{i}", "step", monday + (w + k) * week + i * 3_600_000)
            for w in range(5) for i in range(40) for k in range(3)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert narrative._draining_since(log) == "2024-02-05"
    finding = narrative.north_star(log, "step")
    assert "6 weeks of data are too few to tell a trend." in finding.observation      # drained weeks counted
    assert "left out" not in finding.observation


def test_after_a_peak_cases_are_those_that_came_and_one_active_case_is_singular():
    from types import SimpleNamespace
    peak = {"week": "2024-03-04", "new": 300, "usual": 100.0, "active_before": 150.0}
    cases = narrative._after_peak_sentence(peak, 1, SimpleNamespace(path_noun="case"))
    assert "those that came in the peak go dormant" in cases and "With 1 active case the base is below" in cases
    users = narrative._after_peak_sentence(peak, 400, SimpleNamespace(path_noun="user"))
    assert "those who came in the peak" in users and "With 400 active users the base is still above" in users


@pytest.mark.parametrize(("successful", "failing", "left", "sentence"), [
    (0.97, 0.0, 0.26, "97% of successful users went on to Confirm, no failing user did; 26% of failing users left "
                      "there."),
    (1.0, 0.4, 0.6, "Every successful user went on to Confirm, 40% of failing users did; 60% of failing users left "
                    "there."),
    (0.9, 0.0, 1.0, "90% of successful users went on to Confirm, no failing user did; every failing user left there."),
    (0.9, 0.3, 0.0, "90% of successful users went on to Confirm, 30% of failing users did."),
    (0.99, 0.0, 0.0003, "99% of successful users went on to Confirm, no failing user did; under 0.1% of failing users "
                        "left there."),
])
def test_got_past_reads_naturally_for_none_some_and_all(successful, failing, left, sentence):
    unstuck = {"next": [{"event": "Confirm", "successful_share": successful, "failing_share": failing}],
               "failing_left": left, "routes": [], "failing_routes": []}
    assert narrative._got_past(unstuck, "users", routes=0) == sentence
    cases = narrative._got_past(unstuck, "cases", routes=0)
    assert "user" not in cases and ("failing case " in cases or "of failing cases" in cases)
