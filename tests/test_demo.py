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
