"""Route vs behaviour, early drivers, the goal guess, the value event and complete periods: hand-checked."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journey_explorer.analysis import compare, drivers, goals, interval, northstar
from journey_explorer.eventlog import EventLog
from tests.analysis.shop import shop_log

MINUTE, DAY = 60_000, 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z


def frame_log(rows, goal=None) -> EventLog:
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]), default_goal=goal)


def route_rows():
    """25 buyers: home, browse, [coupon for 16], cart, pay in one visit; 25 others: home, browse, browse
    (4 of them with a coupon)."""
    rows = []
    for i in range(25):
        steps = ["home", "browse"] + (["coupon"] if i < 16 else []) + ["cart", "pay"]
        rows += [(f"b{i}", e, k * MINUTE) for k, e in enumerate(steps)]
        steps = ["home", "browse"] + (["coupon"] if i < 4 else []) + ["browse"]
        rows += [(f"f{i}", e, k * MINUTE) for k, e in enumerate(steps)]
    return rows


def test_a_prerequisite_every_buyer_did_earlier_is_route_not_a_behaviour():
    # 30 buyers all "return" in a later visit before paying (days apart: not "just before" the goal);
    # of 30 others, 20 return and 10 never come back. Returning is a prerequisite, not a habit.
    rows = []
    for i in range(30):
        rows += [(f"b{i}", "signup", 0), (f"b{i}", "return", 3 * DAY), (f"b{i}", "offer", 6 * DAY),
                 (f"b{i}", "pay", 6 * DAY + MINUTE)]
        rows += [(f"f{i}", "signup", 0)] + ([(f"f{i}", "return", 3 * DAY)] if i < 20 else [])
    log = frame_log(rows)
    route = compare.route_to_goal(log, log.event_code("pay")).set_index("event")
    assert "return" in route.index and route.loc["return", "share_before_goal"] == 1.0
    assert "signup" not in route.index                # everyone does it: no difference to explain


def test_a_step_renamed_halfway_is_route_under_both_names():
    # 60 buyers over 60 days, one a day: home, cart, pay; the cart step is logged as "cart" until day 30,
    # then as "basket". 60 others only browse. Over all buyers each name is taken by half of them.
    rows = []
    for day in range(60):
        step = "cart" if day < 30 else "basket"
        rows += [(f"b{day}", "home", day * DAY), (f"b{day}", step, day * DAY + MINUTE),
                 (f"b{day}", "pay", day * DAY + 2 * MINUTE)]
        rows += [(f"f{day}", "home", day * DAY), (f"f{day}", "browse", day * DAY + MINUTE)]
    log = frame_log(rows)
    route = compare.route_to_goal(log, log.event_code("pay")).set_index("event")
    assert set(route.index) == {"cart", "basket"}
    assert route.loc["cart", "share"] == 1.0 and route.loc["basket", "share"] == 1.0    # 30 of 30 each
    result = compare.run(log, compare.Spec(goal="pay"))
    assert not set(result.events["event"]) & {"cart", "basket"}        # not "successful users did more"


def test_two_ways_into_the_goal_are_both_route():
    """40 buyers buy from the shop (24) or from an offer shown in a level (16); neither is right before
    the purchase on 80% of them, but the two together are on all of them: both are how buyers buy. Of
    40 others, 8 open the shop and 10 see an offer; 20 skip the tutorial (4 buyers do)."""
    rows = []
    for i in range(40):
        way = "shop" if i < 24 else "offer"
        rows += [(f"b{i}", e, k * MINUTE) for k, e in
                 enumerate(["play"] + (["skip"] if i < 4 else []) + [way, "buy"])]
        extra = (["shop"] if i < 8 else []) + (["offer"] if i < 10 else [])
        rows += [(f"f{i}", e, k * MINUTE) for k, e in
                 enumerate(["play"] + (["skip"] if i >= 20 else []) + extra + ["play"])]
    log = frame_log(rows)
    route = compare.route_to_goal(log, log.event_code("buy")).set_index("event")
    assert set(route.index) == {"shop", "offer"}
    assert (route.loc["shop", "share"], route.loc["offer", "share"]) == (0.6, 0.4)    # 24 and 16 of 40
    assert {"shop", "offer"} <= set(route.attrs["just_before"])      # with play, before every purchase
    result = compare.run(log, compare.Spec(goal="buy"))
    assert not set(result.events["event"]) & {"shop", "offer"}
    assert result.events.iloc[0]["event"] == "skip"          # 4 of 40 buyers vs 20 of 40 others


def test_a_step_right_before_the_goal_on_a_few_paths_is_no_way_in():
    """The step right before the purchase: cart on 28 of 40 buyers, wishlist, compare and search on 4
    each — cart and two others would cover 80%, but a 10% detour is no way in: no route."""
    rows = []
    for i in range(40):
        before = "cart" if i < 28 else ("wishlist", "compare", "search")[(i - 28) // 4]
        rows += [(f"b{i}", e, k * MINUTE) for k, e in enumerate(["home", before, "buy"])]
        rows += [(f"f{i}", e, k * MINUTE) for k, e in enumerate(["home", "wishlist" if i < 4 else "home"])]
    log = frame_log(rows)
    assert compare.route_to_goal(log, log.event_code("buy"))["event"].tolist() == []


def test_route_is_reported_apart_and_only_behaviours_are_ranked():
    log = frame_log(route_rows())
    route = compare.route_to_goal(log, log.event_code("pay"))
    # cart: every buyer, no one else; home and browse: everyone (failing paths too) -> not a route
    assert route.to_dict("records") == [{"event": "cart", "successful_paths": 25, "share": 1.0,
                                         "failing_share": 0.0, "share_before_goal": 1.0}]
    result = compare.run(log, compare.Spec(goal="pay"))
    assert result.route["event"].tolist() == ["cart"]
    events = result.events.set_index("event")
    assert "cart" not in events.index and "pay" not in events.index
    assert (events.loc["coupon", "users_a"], events.loc["coupon", "users_b"]) == (16, 4)
    # expected counts of 6 and more: chi-square with continuity correction
    assert events.loc["coupon", "p_value"] == pytest.approx(stats.chi2_contingency([[16, 9], [4, 21]])[1])
    # q over the three behaviours (home, browse, coupon) only: the route is no hypothesis
    assert events.loc["coupon", "q_value"] == pytest.approx(3 * events.loc["coupon", "p_value"])
    assert bool(events.loc["coupon", "passes"]) and result.events.iloc[0]["event"] == "coupon"
    assert not events.loc["home", "passes"]          # no difference


def more_visits_rows():
    """80 buyers come once (open, [faq for 40], cart, buy); 80 others come twice (open, cart) and 60
    of them open the faq in one of the two visits: 75% of users vs 50%, but 60 of 160 visits (38%)
    against 40 of 80 (50%) -- they only came more often. 'error': 60 others meet it on both visits,
    10 buyers once: more per visit too."""
    rows = []
    for i in range(80):
        start = i * DAY
        rows += [(f"b{i}", "open", start), (f"b{i}", "cart", start + 2 * MINUTE), (f"b{i}", "buy", start + 3 * MINUTE)]
        rows += [(f"b{i}", "faq", start + MINUTE)] if i < 40 else []
        rows += [(f"b{i}", "error", start + MINUTE + 1)] if i < 10 else []
        for visit in range(2):
            t = start + visit * DAY // 2
            rows += [(f"f{i}", "open", t), (f"f{i}", "cart", t + 2 * MINUTE)]
            rows += [(f"f{i}", "faq", t + MINUTE)] if i < 60 and visit == i % 2 else []
            rows += [(f"f{i}", "error", t + MINUTE + 1)] if i < 60 else []
    return rows


def test_failing_users_doing_more_only_because_they_visit_more_is_no_difference():
    rows = more_visits_rows()
    result = compare.run(frame_log(rows), compare.Spec(goal="buy"))
    events = result.events.set_index("event")
    assert (events.loc["faq", "share_a"], events.loc["faq", "share_b"]) == (0.5, 0.75)
    assert events.loc["faq", "q_value"] < 0.05                # a difference of users, but not of visits
    assert (events.loc["faq", "visit_share_a"], events.loc["faq", "visit_share_b"]) == (0.5, 0.375)
    assert not events.loc["faq", "passes"]
    assert (events.loc["error", "visit_share_a"], events.loc["error", "visit_share_b"]) == (0.125, 0.75)
    assert events.loc["error", "passes"]


def test_a_small_excess_per_visit_does_not_make_failing_users_do_it_more():
    """400 failing users make 10 visits, 4 of them with the FAQ (40% of visits; every user); 400 buyers
    open the FAQ on their first visit (two thirds of them) and pay on the next. Per user 100% vs 67%; per
    visit 40% vs 67% of the buyers' visits before the paying one (33% of all 800: counting the paying
    visit, which is never a browsing visit, made the FAQ look rarer among buyers)."""
    rows = []
    for u in range(400):
        for k in range(10):
            rows += [(f"f{u}", "open", k * DAY)] + ([(f"f{u}", "faq", k * DAY + 1)] if (u + k) % 5 < 2 else [])
        rows += [(f"s{u}", "open", 0)] + ([(f"s{u}", "faq", 1)] if u % 3 < 2 else [])
        rows += [(f"s{u}", "open", 3 * DAY), (f"s{u}", "pay", 3 * DAY + 1)]
    result = compare.run(frame_log(rows), compare.Spec(goal="pay"))
    faq = result.events.set_index("event").loc["faq"]
    assert faq["share_b"] == 1.0 and faq["share_a"] == pytest.approx(267 / 400, abs=1e-4) and faq["q_value"] < 0.05
    assert faq["visit_share_b"] == 0.4 and faq["visit_share_a"] == pytest.approx(267 / 400, abs=1e-4)
    assert not faq["passes"]


def test_a_behaviour_that_piles_up_because_users_visit_more_is_no_negative_driver():
    result = drivers.run(frame_log(more_visits_rows()), drivers.Spec(goal="buy"))
    faq = result.cells[(result.cells["event"] == "faq") & (result.cells["k"] == 1)]
    assert (faq["lift"] < 1).all() and (faq["q_value"] < 0.05).any()      # by users: a negative driver
    # by visits: 50% vs 38%; and 'open' / 'cart' twice (every visit has them) only count visits
    assert set(result.table["event"]) == {"error"}
    error = result.table.set_index("event").loc["error"]
    assert error["visit_share_not"] > 5 * error["visit_share_reached"]


def test_no_route_from_a_handful_of_successful_paths():
    rows = [r for r in route_rows() if r[0] in {"b1", "b2", "f1"}]
    log = frame_log(rows)
    assert compare.route_to_goal(log, log.event_code("pay")).empty


def driver_rows():
    """40 users do 'tour' twice on day 0 (30 buy on day 5); 40 never do (10 buy); 5 buy at once and
    tour only afterwards (not counted: after the goal). The data ends on day 20."""
    rows = []
    for i in range(40):
        rows += [(f"t{i}", "open", 0), (f"t{i}", "tour", MINUTE), (f"t{i}", "tour", 2 * MINUTE)]
        if i < 30:
            rows.append((f"t{i}", "buy", 5 * DAY))
        rows += [(f"n{i}", "open", 0), (f"n{i}", "read", MINUTE)]
        if i < 10:
            rows.append((f"n{i}", "buy", 5 * DAY))
    for i in range(5):
        rows += [(f"q{i}", "open", 0), (f"q{i}", "buy", MINUTE), (f"q{i}", "tour", 2 * MINUTE),
                 (f"q{i}", "tour", 3 * MINUTE)]
    rows.append(("late", "open", 20 * DAY))
    return rows


def test_driver_cells_are_hand_checked():
    result = drivers.run(frame_log(driver_rows()), drivers.Spec(goal="buy"))
    cell = result.cells.set_index(["event", "k", "days"]).loc[("tour", 2, 1)]
    # cohort 40 (30 buy); the rest: 40 non-touring + 5 who toured after buying (15 buy); "late" is too late
    assert (cell["cohort"], cell["cohort_reached"], cell["rest"], cell["rest_reached"]) == (40, 30, 45, 15)
    assert cell["rate_a"] == 0.75 and cell["rate_b"] == pytest.approx(1 / 3, abs=1e-4)
    assert cell["lift"] == 2.25 and cell["share"] == pytest.approx(40 / 85, abs=1e-4)
    assert cell["phi"] == pytest.approx((30 * 30 - 10 * 15) / np.sqrt(40 * 45 * 45 * 40), abs=1e-4)
    assert cell["p_value"] == pytest.approx(stats.chi2_contingency([[30, 10], [15, 30]])[1])
    assert ("tour", 3, 1) not in result.cells.set_index(["event", "k", "days"]).index    # nobody toured 3 times
    top = result.drivers.iloc[0]
    assert (top["event"], top["k"], top["days"]) == ("tour", 1, 1)      # ties: the simplest cell
    assert top["sentence"] == ("Users who do tour at least once in their first day reach buy at 75% vs 33% of "
                               "the others (2.2x; 47% of users, 40 of 85)")
    assert (result.cells["q_value"] >= result.cells["p_value"] - 1e-12).all()


def test_a_behaviour_done_after_the_goal_is_no_negative_driver():
    """40 buyers buy at once and read the docs afterwards; 40 users read the docs and never buy; 40 do
    neither. Counted before the goal only, "docs" would read 0% vs 50%. 'error': 40 never-buyers and 5
    buyers (before buying) meet it -- that one holds whenever it is counted."""
    rows = []
    for i in range(40):
        rows += [(f"b{i}", "open", 0), (f"b{i}", "buy", MINUTE), (f"b{i}", "docs", 5 * MINUTE)]
        rows += [(f"r{i}", "open", 0), (f"r{i}", "docs", MINUTE), (f"r{i}", "error", 2 * MINUTE)]
        rows += [(f"n{i}", "open", 0), (f"n{i}", "browse", MINUTE)]
    rows += [(f"b{i}", "error", MINUTE // 2) for i in range(5)]
    rows.append(("late", "open", 20 * DAY))
    result = drivers.run(frame_log(rows), drivers.Spec(goal="buy", min_users=20))
    cells = result.cells.set_index(["event", "k", "days"])
    docs = cells.loc[("docs", 1, 1)]
    assert (docs["cohort"], docs["cohort_reached"], docs["lift"]) == (40, 0, 0.0)    # before the goal: 0% vs 50%
    assert docs["q_value"] < 0.05 and docs["after_goal_p"] > 0.5                      # any time: 50% vs 0%
    assert "docs" not in set(result.table["event"])
    assert cells.loc[("error", 1, 1), "after_goal_p"] < 0.05
    assert "error" in set(result.table["event"])


def test_seeing_a_route_page_again_is_no_early_driver():
    """Everyone sees "pricing" at sign-up; 40 buyers see it again just before paying, 40 others never
    come back. "pricing at least twice" would 'predict' buying perfectly: it is the way to pay."""
    rows = []
    for i in range(40):
        rows += [(f"b{i}", "signup", 0), (f"b{i}", "pricing", MINUTE), (f"b{i}", "home", DAY),
                 (f"b{i}", "pricing", DAY + MINUTE), (f"b{i}", "checkout", DAY + 2 * MINUTE),
                 (f"b{i}", "pay", DAY + 3 * MINUTE)]
        rows += [(f"f{i}", "signup", 0), (f"f{i}", "pricing", MINUTE)]
    rows += [("late", "signup", 20 * DAY), ("late", "pricing", 20 * DAY + MINUTE)]
    log = frame_log(rows)
    route = compare.route_to_goal(log, log.event_code("pay"))
    assert "pricing" not in set(route["event"]) and "pricing" in route.attrs["just_before"]
    result = drivers.run(log, drivers.Spec(goal="pay", min_users=20))
    assert not ((result.cells["event"] == "pricing") & (result.cells["k"] >= 2)).any()
    assert "pricing" not in set(result.table["event"])


def test_no_driver_from_a_handful_of_users():
    rows = [r for r in driver_rows() if r[0][1:] in {"0", "1", "2", "3"} or r[0] == "late"]
    result = drivers.run(frame_log(rows), drivers.Spec(goal="buy"))
    assert result.cells.empty and result.table.empty


def test_shop_drivers_and_compare_name_the_planted_behaviour_not_the_route():
    log = shop_log(seed=3)
    result = drivers.run(log, drivers.Spec(goal="purchase"))
    assert result.drivers.iloc[0]["event"] == "wishlist_add"
    assert {"cart", "checkout", "payment_details"} <= set(result.route)
    differences = compare.run(log, compare.Spec(goal="purchase"))
    passing = differences.events[differences.events["passes"]]
    assert passing[passing["difference"] > 0].iloc[0]["event"] == "wishlist_add"
    assert not set(passing["event"]) & {"cart", "checkout", "payment_details", "add_to_cart"}
    # shipping_error can only happen in the checkout: compared among the paths that reached its form.
    # Every failing shopper who got there met it; a quarter of the buyers did (and got past).
    error = passing.set_index("event").loc["shipping_error"]
    assert error["reached"] == "shipping_form"
    assert (error["share_b"], error["users_b"]) == (1.0, error["reached_b"])
    assert error["share_a"] == pytest.approx(error["users_a"] / error["reached_a"], abs=1e-4)


def test_an_optional_step_inside_the_route_is_compared_where_it_can_happen():
    """coupon is only ever used in the cart, by half the buyers and half the cart-leavers alike: the
    whole-group shares (50% vs 17%) differ only because every buyer reaches the cart."""
    rows = []
    for i in range(400):
        user, t = f"u{i}", i * 10_000_000
        rows += [(user, "home", t), (user, "browse", t + 1000)]
        if i % 2:                                      # half reach the cart...
            rows.append((user, "cart", t + 2000))
            if i % 8 in (1, 3):                        # ...half of those use a coupon
                rows.append((user, "coupon", t + 3000))
            if i % 8 in (1, 5):                        # ...and half of them buy
                rows += [(user, "pay", t + 4000), (user, "buy", t + 5000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    result = compare.run(log, compare.Spec(goal="buy"))
    coupon = result.events.set_index("event").loc["coupon"]
    assert coupon["reached"] == "cart"
    assert (coupon["reached_a"], coupon["reached_b"]) == (100, 100)
    assert (coupon["share_a"], coupon["share_b"], coupon["difference"]) == (0.5, 0.5, 0.0)
    assert not coupon["passes"]


def test_goal_guess_prefers_structure_to_the_most_common_last_event():
    log = shop_log(seed=3)
    last = pd.Series(np.asarray(log.event_names)[log.event[np.append(log.user[1:] != log.user[:-1], True)]])
    assert last.value_counts().index[0] == "product_view"         # what the old guess would have said
    assert goals.guess_goal(log) == "purchase"
    assert goals.default_goal(log) == "purchase"
    stored = EventLog.from_frame(pd.DataFrame(route_rows(), columns=["user", "event", "time"]), default_goal="cart")
    assert goals.default_goal(stored) == "cart"


def test_goal_score_parts_are_hand_checked():
    # a: open, buy; b: open, look, buy (one visit each); c: open, look, look
    rows = [("a", "open", 0), ("a", "buy", 1), ("b", "open", 0), ("b", "look", 1), ("b", "buy", 2),
            ("c", "open", 0), ("c", "look", 1), ("c", "look", 2)]
    table = goals.goal_scores(frame_log(rows))
    buy, look = table.loc["buy"], table.loc["look"]
    assert buy["reach"] == pytest.approx(2 / 3) and buy["once"] == 1.0 and buy["ends_after"] == 1.0
    assert buy["lateness"] == 1.0                      # last of the path's distinct events in both paths
    # look: once for b, twice for c; of its 3 occurrences only c's second ends a visit; b: 1/2, c: 1 late
    assert look["once"] == 0.5 and look["ends_after"] == pytest.approx(1 / 3) and look["lateness"] == 0.75
    assert table.loc["open", "score"] == 0.0            # every path has it
    assert table.index[0] == "buy"


def test_goal_is_the_event_carrying_an_amount_not_the_feedback_step_after_it():
    # 40 users browse; 24 order (with an order value of their own), 12 of them twice and then rate the order.
    # Structure alone prefers "rate": later, rarer, done once, always last. The amount marks the purchase.
    rows = []
    for i in range(40):
        user = f"u{i}"
        rows += [(user, "open", 0, None), (user, "browse", MINUTE, None), (user, "browse", 2 * MINUTE, None)]
        if i < 24:
            rows.append((user, "order", 3 * MINUTE, 10.0 + i))
        if i < 12:
            rows += [(user, "order", DAY, 50.0 + i), (user, "rate", DAY + MINUTE, None)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "order_value"]))
    table = goals.goal_scores(log)
    assert table.loc["order", "amount"] == goals.AMOUNT_WEIGHT and table.loc["rate", "amount"] == 1.0
    assert table.loc["rate", "score"] > table.loc["order", "score"] / goals.AMOUNT_WEIGHT   # structure: rate
    assert goals.guess_goal(log) == "order"
    without_amount = EventLog.from_frame(pd.DataFrame([row[:3] for row in rows], columns=["user", "event", "time"]))
    assert goals.guess_goal(without_amount) == "rate"
    timed = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "load_ms"]))
    assert goals.guess_goal(timed) == "rate"                 # a number of its own, but no amount by its name


def test_a_failure_is_never_the_goal_while_a_purchase_followed_by_more_browsing_scores():
    # 40 users open and browse; 20 buy and browse on in the same visit (the purchase never ends one);
    # 4 others meet a payment error, their last event.
    rows = []
    for i in range(40):
        rows += [(f"u{i}", "open", 0), (f"u{i}", "browse", MINUTE)]
        if i < 20:
            rows += [(f"u{i}", "purchase", 2 * MINUTE), (f"u{i}", "browse", 3 * MINUTE)]
        elif i < 24:
            rows.append((f"u{i}", "payment_error", 2 * MINUTE))
    log = frame_log(rows)
    table = goals.goal_scores(log)
    assert table.loc["purchase", "ends_after"] == 0.0 and table.loc["purchase", "score"] > 0
    assert goals.guess_goal(log) == "purchase"


def test_value_event_is_repeated_across_visits_and_not_a_way_in():
    rows = []
    for u in "abc":
        for visit in range(3):
            t = visit * DAY
            rows += [(u, "login", t), (u, "report", t + MINUTE)]
        rows.append((u, "signup", -DAY))
    rows += [("a", "share", 1), ("a", "share", 2)]          # repeated, but within one visit
    log = frame_log(rows)
    assert interval.value_event(log) == "report"        # login opens every visit; signup and share: one visit


def north_star_rows(after_goal: bool):
    """30 users browse 'rates' in three visits; 20 of them 'deposit' once. With ``after_goal``, 10
    depositors come back in two later visits to 'transfer'. A deposit sent twice in one visit: 5 of them."""
    rows = []
    for i in range(30):
        for visit in range(3):
            rows += [(f"u{i}", "open", visit * DAY), (f"u{i}", "rates", visit * DAY + MINUTE)]
        if i < 20:
            rows.append((f"u{i}", "deposit", 2 * DAY + 2 * MINUTE))
        if i < 5:
            rows.append((f"u{i}", "deposit", 2 * DAY + 3 * MINUTE))
        if after_goal and i < 10:
            rows += [(f"u{i}", "open", (3 + v) * DAY) for v in range(2)]
            rows += [(f"u{i}", "transfer", (3 + v) * DAY + MINUTE) for v in range(2)]
    return rows


def test_north_star_default_is_what_the_goal_opens_never_a_page_everybody_browses():
    # Nothing follows the one-off deposit (the repeat within one visit is no repeat): the goal itself,
    # not 'rates', which everybody browses in every visit, depositing or not.
    log = frame_log(north_star_rows(after_goal=False))
    assert interval.value_event(log) == "rates"                 # without a goal: the most repeated
    assert interval.default_choice(log, "deposit") == ("deposit", "goal once")
    assert interval.interval_event(log, "deposit") == "rates"   # an interval needs repeats
    # 10 of 20 depositors come back twice to transfer: the value the deposit opens.
    log = frame_log(north_star_rows(after_goal=True))
    assert interval.default_event(log, "deposit") == "transfer"
    assert interval.default_choice(log, "deposit") == ("transfer", "after goal")
    assert interval.WHY["after goal"].format(goal="deposit", paths="users") == "what users come back to do after deposit"
    assert interval.default_event(log, None) == interval.value_event(log)


def test_north_star_default_on_a_sample_of_a_large_log_agrees(monkeypatch):
    log = frame_log(north_star_rows(after_goal=True) * 1)
    monkeypatch.setattr(interval, "SAMPLE_ROWS", 40)
    monkeypatch.setattr(interval, "SAMPLE_PIECES", 4)
    user = interval._path_sample(log)[0]
    assert 40 <= len(user) < len(log)                       # whole paths from four places
    assert np.all(np.diff(user) >= 0) and len(set(user.tolist())) < log.n_users
    assert interval.default_event(log, "deposit") == "transfer"


def test_north_star_headline_is_the_last_complete_week():
    # Mon 1 Jan to Wed 17 Jan: weeks of 1 and 8 Jan are complete, the week of 15 Jan is not (and quiet)
    rows = [("a", "use", MONDAY), ("a", "use", MONDAY + 8 * DAY), ("b", "use", MONDAY + 9 * DAY),
            ("c", "other", MONDAY + 16 * DAY)]
    result = northstar.run(frame_log(rows), northstar.Spec(event="use"))
    assert result.table["complete"].tolist() == [True, True, False]
    assert result.headline["period"] == "2024-01-08" and result.headline["metric"] == 2
    assert result.charted()["period"].tolist() == ["2024-01-01", "2024-01-08"]     # the trend leaves it out too
    assert result.to_json_dict()["headline"]["metric"] == 2


def test_north_star_headline_skips_an_empty_tail():
    # use in the weeks of 1 and 8 Jan; the weeks of 15 and 22 Jan are complete but only carry "other"
    rows = [("a", "use", MONDAY), ("b", "use", MONDAY + 8 * DAY), ("c", "other", MONDAY + 15 * DAY),
            ("c", "other", MONDAY + 29 * DAY)]
    result = northstar.run(frame_log(rows), northstar.Spec(event="use"))
    assert result.table["complete"].tolist() == [True, True, True, True, False]
    assert result.headline["period"] == "2024-01-08" and result.headline["metric"] == 1


def test_drivers_command_refuses_per_session_paths():
    from argparse import Namespace

    from journey_explorer.cli.arguments import drivers_spec
    from journey_explorer.domain import JourneyError
    log = frame_log(driver_rows(), goal="buy")
    assert drivers_spec(Namespace(goal=None, min_users=30, by="user"), log).goal == "buy"
    with pytest.raises(JourneyError, match="per user"):
        drivers_spec(Namespace(goal=None, min_users=30, by="session"), log)


def test_cli_drivers_stuck_and_northstar_defaults(demo_project_path, capsys):
    import json

    from journey_explorer.cli import main
    assert main(["drivers", str(demo_project_path), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["goal"] == "Subscription Paid" and found["drivers"][0]["event"] == "Dashboard Shared"
    assert found["who"][0]["value"] == "Partner Referral"
    assert main(["stuck", str(demo_project_path), "--by", "session", "--json"]) == 0
    stuck_points = json.loads(capsys.readouterr().out)
    assert stuck_points["events"][0]["event"] == "Connect Data Source"
    assert "failing sessions that reach it" in stuck_points["events"][0]["explanation"]
    assert main(["northstar", str(demo_project_path), "--json"]) == 0        # no --event: the value event
    star = json.loads(capsys.readouterr().out)
    assert star["event"] == "View Dashboard" and star["headline"]["complete"]


def test_an_event_that_ends_every_path_is_no_failing_behaviour():
    # every ticket ends with close; 25 are escalated first (the goal), 25 not; 20 of those 25 got a reminder
    # and were opened again (a reminder right before the close would take the goal's place: another outcome)
    rows = []
    for i in range(25):
        rows += [(f"e{i}", "open", 0), (f"e{i}", "escalate", 1000), (f"e{i}", "close", 2000)]
        rows += [(f"n{i}", "open", 0)] + ([(f"n{i}", "remind", 500), (f"n{i}", "open", 600)] if i < 20 else []) \
            + [(f"n{i}", "close", 2000)]
    events = compare.run(frame_log(rows), compare.Spec(goal="escalate")).events.set_index("event")
    assert events.loc["close", "share_b"] == 1.0 and events.loc["close", "share_a"] == 0.0    # before the goal
    assert events.loc["close", "share_a_any_time"] == 1.0 and not events.loc["close", "passes"]
    assert events.loc["remind", "passes"]          # 80 % vs 0 % (also any time): a real difference


def test_the_route_follows_the_compared_groups_when_the_goal_must_come_within_a_time():
    # 25 quick buyers (home, cart, pay in one visit); 25 slow ones pay after 10 days via a wishlist.
    # With "within 3 days" the slow ones are in the failing group: their wishlist is not a route step,
    # and cart (done by every quick buyer, by no one else) is.
    rows = []
    for i in range(25):
        rows += [(f"q{i}", "home", 0), (f"q{i}", "cart", MINUTE), (f"q{i}", "pay", 2 * MINUTE)]
        rows += [(f"s{i}", "home", 0), (f"s{i}", "wishlist", 10 * DAY), (f"s{i}", "pay", 10 * DAY + MINUTE)]
    log = frame_log(rows)
    quick = np.array([key.startswith("q") for key in log.user_keys])
    route = compare.route_to_goal(log, log.event_code("pay"), quick)
    assert route["event"].tolist() == ["cart"]
    # every buyer: home before the goal on all of them, and two ways in (cart, wishlist: half each)
    everyone = compare.route_to_goal(log, log.event_code("pay")).set_index("event")
    assert set(everyone.index) == {"home", "cart", "wishlist"} and everyone.loc["cart", "share"] == 0.5


def test_the_north_star_is_the_goal_when_users_repeat_it():
    """Weekly buyers when shoppers buy again; when the goal is a one-off and nothing but the way in
    ('browse' opens every visit) follows it, still the goal (a count of new buyers per week)."""
    from journey_explorer.analysis import narrative
    from journey_explorer.state import registry
    from journey_explorer.state.filters import FilterState
    rows = []
    for i in range(60):
        for visit in range(4):
            t = (i * 4 + visit) * 86_400_000
            rows += [(f"u{i}", "browse", t), (f"u{i}", "browse", t + 1000)]
            if i % 2 and visit in (1, 3):
                rows.append((f"u{i}", "buy", t + 2000))          # half the users buy, twice each
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    assert narrative.north_star(log, "buy").spec.event == "buy"
    assert registry.view("northstar").default_spec(log, FilterState(goal="buy")).event == "buy"
    bought_once = [r for r in rows if not (r[1] == "buy" and (r[2] // 86_400_000) % 4 == 3)]   # drop 2nd buys
    one_off = EventLog.from_frame(pd.DataFrame(bought_once, columns=["user", "event", "time"]))
    assert narrative.north_star(one_off, "buy").spec.event == "buy"


def test_an_early_behaviour_that_only_happens_in_the_route_is_no_driver_by_itself():
    """coupon is used only in the cart, by half the cart-reachers, who buy at the same 50% either way:
    against all others it would look like a 3x driver (50% vs 17%); among those who reached the cart it
    is none."""
    rows = [("late", "home", 40 * 86_400_000)]                     # the data end: everyone had 14 days
    for i in range(800):
        user, t = f"u{i}", i * 60_000
        rows += [(user, "home", t), (user, "browse", t + 1000)]
        if i % 2:
            rows.append((user, "cart", t + 2000))
            if i % 8 in (1, 3):
                rows.append((user, "coupon", t + 3000))
            if i % 8 in (1, 5):
                rows += [(user, "pay", t + 4000), (user, "buy", t + 5000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    result = drivers.run(log, drivers.Spec(goal="buy"))
    coupon = result.cells[(result.cells["event"] == "coupon") & (result.cells["k"] == 1)
                          & (result.cells["days"] == 1)].iloc[0]
    assert coupon["reached"] == "cart"
    assert (coupon["cohort"], coupon["rest"], coupon["rate_a"], coupon["rate_b"]) == (200, 200, 0.5, 0.5)
    assert "coupon" not in set(result.drivers["event"])


def test_a_negative_cell_that_fails_the_visit_check_does_not_hide_the_events_positive_one():
    import pandas as pd
    frame = pd.DataFrame({"event": ["search", "search"], "k": [1, 5], "days": [7, 7], "cohort": [300, 80],
                          "cohort_reached": [150, 10], "rest": [700, 920], "rest_reached": [250, 390],
                          "rate_a": [0.5, 0.125], "rate_b": [0.357, 0.424], "lift": [1.4, 0.29], "share": [0.3, 0.08],
                          "phi": [0.13, -0.16], "p_value": [1e-5, 1e-6], "q_value": [1e-5, 1e-6],
                          "after_goal_p": [np.nan, 1e-4], "visit_ok": [True, False], "reached": [None, None]})
    best = drivers._best(frame, drivers.Spec(goal="buy"))
    assert best[["event", "k"]].values.tolist() == [["search", 1]]


def test_a_rare_goal_is_judged_on_its_own_users_paths_not_a_sample_that_missed_them(monkeypatch):
    # 10 depositors of 310 users, all at the end of the log; they come back twice to transfer. A sample of
    # the first paths would hold no deposit and say "nothing comes back after it".
    rows = [(f"a{i}", "browse", d * DAY) for i in range(300) for d in range(2)]
    rows += [(f"z{i}", "deposit", 0) for i in range(10)]
    rows += [(f"z{i}", "open", (1 + v) * DAY) for i in range(10) for v in range(2)]
    rows += [(f"z{i}", "transfer", (1 + v) * DAY + MINUTE) for i in range(10) for v in range(2)]
    log = frame_log(rows)
    monkeypatch.setattr(interval, "SAMPLE_ROWS", 60)
    monkeypatch.setattr(interval, "SAMPLE_PIECES", 1)
    assert not (interval._path_sample(log)[2] == log.event_code("deposit")).any()
    assert interval.default_choice(log, "deposit") == ("transfer", "after goal")
