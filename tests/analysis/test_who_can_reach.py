"""Who compare and drivers compare: users the goal is not open to, users observed too briefly, a property
only some events carry, and the visit that reaches the goal. Hand-checked logs, one per trap."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import compare, drivers, narrative, pathprops
from journey_explorer.eventlog import EventLog

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


def account_rows():
    """An account-level goal on user paths. 100 owners: 50 of big accounts (30 upgrade: 60%), 50 of small
    ones (15 upgrade: 30%). Each big account invites two members, who accept the invite and never can
    upgrade. By user, small accounts look better (15 of 50 vs 30 of 150); among owners, big ones are."""
    rows = []
    for i in range(100):
        size, start = ("big" if i < 50 else "small"), (i % 20) * DAY
        upgrades = i < 30 or 50 <= i < 65
        rows += [(f"o{i}", "signup", start, "owner", size), (f"o{i}", "project", start + MINUTE, "owner", size)]
        if upgrades:
            rows.append((f"o{i}", "upgrade", start + HOUR, "owner", size))
        if size == "big":
            for m in range(2):
                rows += [(f"m{i}_{m}", "invite_accepted", start + 2 * HOUR, "member", size),
                         (f"m{i}_{m}", "project", start + 3 * HOUR, "member", size)]
    rows.append(("late", "signup", 40 * DAY, "owner", "small"))
    return rows


def account_log() -> EventLog:
    return EventLog.from_frame(pd.DataFrame(account_rows(), columns=["user", "event", "time", "role", "size"]))


def test_a_value_whose_many_users_never_reach_the_goal_marks_users_it_is_not_open_to():
    log = account_log()
    mask, text = pathprops.never_reaching(log, "upgrade")
    assert int(mask.sum()) == 100 and all(key.startswith("m") for key in log.user_keys[mask])
    assert text == "role = member never reaches upgrade (100 users): left out"


def test_few_users_without_success_or_a_property_restating_the_goal_are_no_such_mark():
    # 12 "tablet" users never upgrade while the others do at 45%: 0.55^12 = 0.0008 can be chance.
    rows = [r if not (r[0].startswith("m") and int(r[0][1:].split("_")[0]) < 6) else (*r[:3], "owner", "tablet")
            for r in account_rows()]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "device", "size"]))
    assert pathprops.never_reaching(log, "upgrade")[1] == "device = member never reaches upgrade (88 users): left out"
    # A plan of "Trial" until one upgrades (then "Paid"): "Trial never upgrades" is the outcome itself.
    rows = [(u, e, t, "Paid" if u.startswith("o") and (int(u[1:]) < 30 or 50 <= int(u[1:]) < 65) else "Trial",
             size) for u, e, t, _, size in account_rows() if not u.startswith("m")]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "plan", "size"]))
    mask, text = pathprops.never_reaching(log, "upgrade")
    assert text == "" and not mask.any()


def test_compare_and_drivers_leave_out_users_who_cannot_reach_the_goal_and_say_so():
    log = account_log()
    result = compare.run(log, compare.Spec(goal="upgrade"))
    assert result.group_sizes == (45, 56)              # 55 owners who did not upgrade and "late"
    assert result.left_out == "role = member never reaches upgrade (100 users): left out"
    assert "invite_accepted" not in set(result.events["event"][result.events["passes"]])
    found = drivers.run(log, drivers.Spec(goal="upgrade"))
    assert found.left_out == result.left_out and found.users == 101         # the owners and "late"
    who = found.who.set_index(["property", "value"])
    assert ("role", "member") not in who.index and ("role", "owner") not in who.index   # one value left: no split
    big = who.loc[("size", "big")]
    assert (big["cohort"], big["cohort_reached"], big["rest"], big["rest_reached"]) == (50, 30, 50, 15)
    assert big["lift"] == 2.0 and big["significant"]
    text = narrative.differences(log, "upgrade").observation
    assert "Comparing 45 successful with 56 failing users (before upgrade). role = member never reaches " \
           "upgrade (100 users): left out." in text
    assert "size = big reach upgrade at 60% vs 30%" in text


def test_who_counts_only_users_observed_for_the_time_most_take_to_convert():
    """20 users a day for 60 days; every 5th converts 10 days after arriving. The app version "old" is
    first seen by the first 30 days' users, "new" by the rest; those arriving in the last 10 days had no
    time to convert: by reach at any time, new 80 of 600 vs old 120 of 600 (13% vs 20%)."""
    rows = []
    for day in range(60):
        for j in range(20):
            user, version = f"u{day}_{j}", "old" if day < 30 else "new"
            rows.append((user, "open", day * DAY, version))
            if j % 5 == 0 and day + 10 < 60:
                rows.append((user, "subscribe", (day + 10) * DAY, version))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "version"]))
    who = drivers.run(log, drivers.Spec(goal="subscribe")).who.set_index(["property", "value"])
    new = who.loc[("version", "new")]           # observed: arrived by day 49 (10 days before the end)
    assert (new["cohort"], new["cohort_reached"], new["rest"], new["rest_reached"]) == (400, 80, 600, 120)
    assert new["lift"] == 1.0 and not who["significant"].any()


def test_a_property_only_some_events_carry_is_compared_among_the_paths_carrying_it():
    """400 players fail a level (320 out of moves, 80 out of time, at random) and 20% of them buy; 100
    never fail and 2% buy. Against every other path "out of moves" would read 20% vs 10%."""
    rows = []
    for i in range(500):
        rows.append((f"p{i}", "start", i * MINUTE, None))
        if i < 400:
            rows.append((f"p{i}", "level_failed", i * MINUTE + 1, "moves" if i < 320 else "time"))
        if (i < 400 and i % 5 == 0) or (i >= 400 and i % 50 == 0):
            rows.append((f"p{i}", "buy", i * MINUTE + 2, None))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "reason"]))
    who = drivers.run(log, drivers.Spec(goal="buy")).who.set_index(["property", "value"])
    moves = who.loc[("reason", "moves")]
    assert (moves["cohort"], moves["cohort_reached"], moves["rest"], moves["rest_reached"]) == (320, 64, 80, 16)
    assert moves["lift"] == 1.0 and not who["significant"].any()


def reading_rows():
    """200 buyers: a first visit (reading an article on every 5th) and a buying visit the next day. 200
    others: three visits, each with an article on every 5th. Per user 20% vs 60% read; per visit before
    the buying one both read on 20% of visits (counting the buying visit, buyers 10%)."""
    rows = []
    for i in range(200):
        rows += [(f"b{i}", "home", 0)] + ([(f"b{i}", "article", MINUTE)] if i % 5 == 0 else [])
        rows += [(f"b{i}", "home", DAY), (f"b{i}", "cart", DAY + MINUTE), (f"b{i}", "buy", DAY + 2 * MINUTE)]
        for visit in range(3):
            rows += [(f"n{i}", "home", visit * DAY)] + (
                [(f"n{i}", "article", visit * DAY + MINUTE)] if i % 5 == visit else [])
    rows.append(("late", "home", 30 * DAY))
    return rows


def test_the_visit_that_reaches_the_goal_is_not_counted_among_the_buyers_visits():
    log = EventLog.from_frame(pd.DataFrame(reading_rows(), columns=["user", "event", "time"]))
    article = compare.run(log, compare.Spec(goal="buy")).events.set_index("event").loc["article"]
    assert article["share_a"] == 0.2 and article["share_b"] == pytest.approx(120 / 201, abs=1e-4)     # "late" too
    assert article["q_value"] < 0.05
    assert article["visit_share_a"] == 0.2 and article["visit_share_b"] == pytest.approx(120 / 601, abs=1e-4)
    assert not article["passes"]
    found = drivers.run(log, drivers.Spec(goal="buy", windows_days=(3,)))
    cell = found.cells.set_index(["event", "k"]).loc[("article", 1)]
    assert cell["lift"] < 1 and cell["q_value"] < 0.05                          # by users: a negative driver
    assert (cell["visit_share_reached"], cell["visit_share_not"]) == (0.2, 0.2) and not cell["visit_ok"]
    assert "article" not in set(found.table["event"])


def test_an_event_of_return_visits_is_no_difference_because_failing_users_return_more():
    """Login happens on every return visit. 100 buyers buy on their first visit, 100 on their second
    (logging in first); 200 others come three times. Per user 50% vs 100% log in; per visit before the
    buying one 0% vs 67% -- but on first visits, the only ones buyers had besides, nobody logs in."""
    rows = []
    for i in range(200):
        if i < 100:
            rows += [(f"b{i}", "home", 0), (f"b{i}", "buy", MINUTE)]
        else:
            rows += [(f"b{i}", "home", 0), (f"b{i}", "home", DAY), (f"b{i}", "login", DAY + 1),
                     (f"b{i}", "buy", DAY + MINUTE)]
        for visit in range(3):
            rows += [(f"n{i}", "home", visit * DAY)] + ([(f"n{i}", "login", visit * DAY + 1)] if visit else [])
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    login = compare.run(log, compare.Spec(goal="buy")).events.set_index("event").loc["login"]
    assert (login["share_a"], login["share_b"]) == (0.5, 1.0) and login["q_value"] < 0.05
    assert login["visit_share_a"] == 0.0 and login["visit_share_b"] == pytest.approx(400 / 600, abs=1e-4)
    assert login["visit_share_b_matched"] == 0.0 and not login["passes"]


def test_a_state_that_flips_at_the_goal_and_sessions_are_no_mark():
    # plan is "trial" until the upgrade and "team" after it; 60 users join on "team" and never upgrade
    # themselves: plan is a state (it changes along a third of users' events), not who can upgrade
    rows = []
    for i in range(200):
        rows += [(f"u{i}", "open", 0, "trial"), (f"u{i}", "work", MINUTE, "trial")]
        if i % 3 == 0:
            rows += [(f"u{i}", "upgrade", 2 * MINUTE, "trial"), (f"u{i}", "work", 3 * MINUTE, "team")]
    rows += [(f"t{i}", event, k * MINUTE, "team") for i in range(60) for k, event in enumerate(["open", "work"])]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "plan"]))
    mask, text = pathprops.never_reaching(log, "upgrade")
    assert text == "" and not mask.any()
    from journey_explorer.analysis.common import CommonFilter, apply_filter
    assert pathprops.never_reaching(apply_filter(log, CommonFilter(by="session")), "upgrade")[1] == ""
