"""The demo generator is deterministic and its stories are in the data (checked with plain pandas)."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.demo import DEFAULT_GOAL, generate_demo


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


def test_deterministic_and_well_formed(demo):
    again = generate_demo()
    pd.testing.assert_frame_equal(demo.events, again.events)
    events, users = demo.events, demo.users
    assert 80_000 < len(events) < 250_000 and len(users) == 6000
    assert events["time"].is_monotonic_increasing
    assert set(events["user"]) == set(users["user"])
    assert users["csat"].between(1, 10).all()


def test_goal_conversion_and_partner_segment(demo):
    events, users = demo.events, demo.users
    paid = set(events.loc[events["event"] == DEFAULT_GOAL, "user"])
    assert 0.15 < len(paid) / len(users) < 0.25
    rate = users.assign(paid=users["user"].isin(paid)).groupby("channel")["paid"].mean()
    others = rate.drop("Partner Referral")
    assert rate["Partner Referral"] > 2.0 * others.mean()
    assert (users.loc[users["user"].isin(paid), "revenue"] > 0).all()


def test_onboarding_loop_and_drop_off(demo):
    events = demo.events
    failures = events[events["event"] == "Connection Failed"].groupby("user").size()
    loopers = set(failures.index)
    assert 0.25 < len(loopers) / demo.users.shape[0] < 0.5 and failures.max() >= 4
    last = events.groupby("user")["event"].last()
    ended_there = last[last.index.isin(loopers)] == "Connect Data Source"
    assert ended_there.mean() > 0.5


def test_payment_error_blocks_small_companies(demo):
    events, users = demo.events, demo.users
    declined = (events["event"] == "Payment Failed") & (events["error_code"] == "CARD_DECLINED")   # not the outage
    failed = set(events.loc[declined, "user"])
    paid = set(events.loc[events["event"] == DEFAULT_GOAL, "user"])
    sizes = users.set_index("user").loc[sorted(failed), "company_size"]
    assert len(failed) > 50 and (sizes == "1-10").all()
    assert 0.15 < len(failed & paid) / len(failed) < 0.6


def test_one_event_under_two_names(demo):
    events = demo.events
    old = events[events["event"] == "invite_teammate"]["time"]
    new = events[events["event"] == "Invite Teammates"]["time"]
    assert len(old) > 300 and len(new) > 300
    assert old.min() < new.min()


def test_paying_users_weekly_activity_flattens(demo):
    events = demo.events
    paid_at = events[events["event"] == DEFAULT_GOAL].groupby("user")["time"].min()
    paid_at = paid_at[paid_at <= events["time"].max() - 13 * 7 * 86_400_000]     # 13 weeks observed
    logins = events[events["event"] == "Login"].merge(paid_at.rename("paid_at"), left_on="user", right_index=True)
    week = (logins["time"] - logins["paid_at"]) // (7 * 86_400_000)
    active = logins.assign(week=week).groupby("week")["user"].nunique() / len(paid_at)
    assert active.loc[1] > active.loc[6] + 0.15          # a clear early decline...
    assert abs(active.loc[8] - active.loc[12]) < 0.08    # ...then a plateau


def test_payment_outage_window(demo):
    from journey_explorer.demo import PAYMENT_OUTAGE
    events = demo.events
    start, end = (stamp.value // 1_000_000 for stamp in PAYMENT_OUTAGE)
    inside = events["time"].between(start, end - 1)
    checkout, paid = events["event"] == "Checkout Started", events["event"] == DEFAULT_GOAL
    outage_errors = events[events["error_code"] == "GATEWAY_TIMEOUT"]
    assert outage_errors["time"].between(start, end + 86_400_000).all() and len(outage_errors) > 80
    rate_inside = (paid & inside).sum() / (checkout & inside).sum()
    rate_outside = (paid & ~inside).sum() / (checkout & ~inside).sum()
    assert rate_inside < 0.6 * rate_outside


# --- the automatic outputs name the planted stories -----------------------------------------------


def demo_event_log(demo):
    """The demo as the analyses see it, its event columns (device, page, error_code) as event properties."""
    from dataclasses import replace

    import numpy as np

    from journey_explorer.eventlog import EventLog, PropertyColumn
    events = demo.events.rename(columns={"session_id": "session"})
    log = EventLog.from_frame(events[["user", "event", "time", "session"]], user_properties=demo.users,
                              default_goal=demo.default_goal)
    user_codes = pd.factorize(events["user"], sort=True)[0]
    order = np.lexsort((np.arange(len(events)), events["time"].to_numpy(), user_codes))   # from_frame's order
    columns = {}
    for name in ("device", "page", "error_code"):
        codes, values = pd.factorize(events[name].to_numpy()[order])
        columns[name] = PropertyColumn(codes.astype(np.int32), np.asarray(values, dtype=object))
    return replace(log, event_properties=columns)


@pytest.fixture(scope="module")
def demo_log(demo):
    return demo_event_log(demo)


@pytest.fixture(scope="module")
def demo_stuck(demo_log):
    from journey_explorer.analysis import stuck
    return stuck.run(demo_log, stuck.Spec(goal=DEFAULT_GOAL))


def test_the_onboarding_loop_tops_stuck_and_it_grows_on_mobile(demo_stuck):
    top = demo_stuck.table.iloc[0]
    assert top["event"] == "Connect Data Source"
    assert "loop on it" in top["explanation"] and "end a visit there" in top["explanation"]
    assert demo_stuck.table.set_index("event").loc["View Dashboard", "score"] < 0.5 * top["score"]
    context = demo_stuck.unstuck[0]
    assert context["where"]["property"] == "device" and context["where"]["value"] == "mobile"
    assert context["when"]["rate_late"] > context["when"]["rate_early"]
    assert context["next"][0]["event"] == "Connection Succeeded"


def test_per_session_the_loop_still_tops_not_the_dashboard_habit(demo_log):
    from journey_explorer.analysis import stuck
    from journey_explorer.analysis.common import CommonFilter, apply_filter
    sessions = apply_filter(demo_log, CommonFilter(by="session"))
    table = stuck.run(sessions, stuck.Spec(goal=DEFAULT_GOAL, unit="sessions")).table.set_index("event")
    assert table.index[0] == "Connect Data Source"
    # paying users' later visits loop on View Dashboard (a habit), so it is not stuck per session either
    assert table.loc["View Dashboard", "score"] == 0
    assert table.loc["View Dashboard", "loop_rate_successful_users"] > table.loc["View Dashboard", "loop_rate_failing"]


def test_docs_pages_have_raw_exits_but_are_not_stuck(demo_stuck):
    table = demo_stuck.table.set_index("event")
    raw = table["ended_without_goal"].sort_values(ascending=False)
    assert "Docs Page View" in raw.index[:5]
    assert table.loc["Docs Page View", "score"] == 0


def test_drivers_name_the_early_share_and_the_partner_channel(demo_log):
    from journey_explorer.analysis import drivers
    result = drivers.run(demo_log, drivers.Spec(goal=DEFAULT_GOAL))
    assert result.drivers.iloc[0]["event"] == "Dashboard Shared"
    assert (result.drivers.iloc[0]["k"], result.drivers.iloc[0]["days"]) == (1, 1)
    assert "Checkout Started" in result.route and "Checkout Started" not in set(result.cells["event"])
    who = result.who[result.who["significant"]]
    assert (who.iloc[0]["property"], who.iloc[0]["value"]) == ("channel", "Partner Referral")


def test_compare_ranks_behaviours_not_the_checkout_route(demo_log):
    from journey_explorer.analysis import compare
    result = compare.run(demo_log, compare.Spec(goal=DEFAULT_GOAL))
    assert "Checkout Started" in set(result.route["event"])
    passing = result.events[result.events["passes"]]
    assert "Checkout Started" not in set(passing["event"])
    assert passing[passing["difference"] > 0].iloc[0]["event"] == "Dashboard Shared"


def test_the_report_names_the_stories(demo_log):
    from journey_explorer.analysis import narrative
    from journey_explorer.export.report import report_questions
    findings = {f.title: f.observation for f in narrative.workshop_findings(demo_log, DEFAULT_GOAL, report_questions())}
    assert "Users get stuck at Connect Data Source" in findings
    stuck_words = findings["Users get stuck at Connect Data Source"]
    assert "device = mobile" in stuck_words and "up from" in stuck_words
    differ = next(words for title, words in findings.items() if title.endswith("of failing"))
    assert "Early behaviour that predicts Subscription Paid: Users who do Dashboard Shared" in differ
    assert "channel = Partner Referral" in " ".join(findings.values())
    # no tautology in a headline (what changed may name the route step whose conversion fell)
    assert "Checkout Started" not in " ".join(t for t in findings if not t.startswith("What changed"))
    assert len(findings) <= 10
    assert all(len(words) <= 900 for words in findings.values())      # fits the box beside the chart
