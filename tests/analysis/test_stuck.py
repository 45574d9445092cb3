"""Stuck points: each statistic on a hand-checked log, and the ranking on generated logs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journey_explorer.analysis import stuck
from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from tests.analysis.shop import shop_log

ROWS = [  # a and b pay; c and d loop on connect and leave; e leaves after home
    ("a", "home", 0), ("a", "connect", 60_000), ("a", "pay", 120_000),
    ("b", "home", 0), ("b", "connect", 10_000), ("b", "error", 20_000), ("b", "connect", 30_000), ("b", "pay", 40_000),
    ("c", "home", 0), ("c", "connect", 600_000), ("c", "connect", 700_000),
    ("d", "home", 0), ("d", "connect", 10_000), ("d", "error", 20_000), ("d", "connect", 30_000),
    ("e", "home", 0),
]
SMALL = stuck.Spec(goal="pay", min_paths=1, min_reference=1)


@pytest.fixture
def log():
    return EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))


def test_hand_checked_rates(log):
    result = stuck.run(log, SMALL)
    table = result.table.set_index("event")
    assert (result.paths, result.successful) == (5, 2)
    connect = table.loc["connect"]
    assert (connect["failing_users"], connect["successful_users"]) == (2, 2)
    # c and d leave from connect, a and b go on: 100 % vs 0 %
    assert (connect["exit_rate_failing"], connect["exit_rate_successful"]) == (1.0, 0.0)
    # random exits: c's one visit is 2 connects of 3 steps, d's 2 of 4 -> (2/3 + 1/2) / 2
    assert connect["exit_rate_expected"] == pytest.approx((2 / 3 + 1 / 2) / 2, abs=1e-4)
    # loops: c repeats, d bounces (failing 2 of 2); b bounces (successful 1 of 2)
    assert (connect["loop_rate_failing"], connect["loop_rate_successful"]) == (1.0, 0.5)
    # waits after connect per path, a wait that ends at the goal left out (it is the conversion): a none
    # (connect -> pay); b 10 s (connect -> error; its connect -> pay left out); c 100 s; d 10 s
    assert (connect["dwell_median_seconds_failing"], connect["dwell_median_seconds_successful"]) == (55.0, 10.0)
    assert connect["dwell_excess"] == 0.0          # 1.5 of 2 pairs favour failing: AUC 0.75, not significant
    assert stuck.auc_greater(np.array([100.0, 10.0]), np.array([60.0, 10.0]))[0] == 0.625
    home = table.loc["home"]
    assert home["exit_rate_expected"] == pytest.approx((1 / 3 + 1 / 4 + 1) / 3, abs=1e-4)
    assert "pay" not in table.index


def test_nothing_is_stuck_on_a_handful_of_paths(log):
    result = stuck.run(log, stuck.Spec(goal="pay"))
    assert (result.table["score"] == 0).all() and result.stuck.empty
    assert "too few failing users" in result.table.set_index("event").loc["connect", "explanation"]


def test_statistics_match_scipy_and_hand_values():
    # Fisher one-sided: P(X >= 8) for the hypergeometric with 10 of 20 drawn, 10 successes.
    assert stuck.fisher_greater(8, 10, 2, 10) == pytest.approx(stats.hypergeom.sf(7, 20, 10, 10))
    assert stuck.fisher_greater(3, 0, 1, 5) == 1.0
    # mean 20, variance 16 -> z = (30 - 0.5 - 20) / 4
    assert stuck.poisson_binomial_greater(30, np.full(100, 0.2)) == pytest.approx(stats.norm.sf(9.5 / 4))
    assert stuck.auc_greater(np.array([3.0, 4.0]), np.array([1.0, 2.0]))[0] == 1.0
    q = stuck.benjamini_hochberg(np.array([0.01, np.nan, 0.04, 0.03]))
    assert np.isnan(q[1]) and q[[0, 2, 3]].round(3).tolist() == [0.03, 0.04, 0.04]


def test_unstuck_names_the_next_step_and_route(log):
    result = stuck.unstuck_for(log, "connect", log.event_code("pay"), np.array([True, True, False, False, False]))
    nexts = {n["event"]: (n["successful_share"], n["failing_share"]) for n in result["next"]}
    assert nexts["pay"] == (1.0, 0.0) and nexts[stuck.LEFT] == (0.0, 1.0)
    assert result["routes"] == [{"route": "connect → pay", "users": 2, "share": 1.0}]
    assert result["failing_routes"] == [{"route": "connect → (left)", "users": 2, "share": 1.0}]


def test_needs_a_goal(log):
    with pytest.raises(JourneyError, match="goal"):
        stuck.run(log, stuck.Spec())


@pytest.fixture(scope="module")
def shop():
    return shop_log(seed=3)


@pytest.mark.parametrize("by", ["user", "session"])
def test_shop_ranks_the_real_stuck_point_over_browsing_pages(shop, by):
    log = apply_filter(shop, CommonFilter(by=by))
    result = stuck.run(log, stuck.Spec(goal="purchase", unit=stuck.unit_word(by)))
    table = result.table.set_index("event")
    assert result.table.iloc[0]["event"] == "shipping_form"
    # Browsing pages: lots of raw exits and loops, but successful paths leave and loop there too.
    assert table.loc["product_view", "ended_without_goal"] > table.loc["shipping_form", "ended_without_goal"]
    assert table.loc["product_view", "score"] < 0.5 * table.loc["shipping_form", "score"]
    assert table.loc["catalog", "score"] < 0.5 * table.loc["shipping_form", "score"]
    # Every visit that fails at shipping_form ends there, the later buyers' failed visits too: its exits
    # are the funnel's drop-off; what failing paths do worse there is retry.
    words = table.loc["shipping_form", "explanation"]
    assert f"of failing {stuck.unit_word(by)} loop on it vs" in words


# c and d look at the offer and leave; a and b buy right after it (b on a second visit, having left the
# offer once); e leaves from a broken upload that a and b got past.
OFFER_ROWS = [
    ("a", "home", 0), ("a", "upload", 60_000), ("a", "offer", 120_000), ("a", "buy", 180_000),
    ("b", "home", 0), ("b", "upload", 60_000), ("b", "offer", 120_000),
    ("b", "home", 90_000_000), ("b", "offer", 90_060_000), ("b", "buy", 90_120_000),
    ("c", "home", 0), ("c", "upload", 60_000), ("c", "offer", 120_000),
    ("d", "home", 0), ("d", "upload", 60_000), ("d", "offer", 120_000),
    ("e", "home", 0), ("e", "upload", 60_000),
]


def test_the_step_before_the_goal_is_compared_on_visits_that_did_not_convert():
    log = EventLog.from_frame(pd.DataFrame(OFFER_ROWS, columns=["user", "event", "time"]))
    table = stuck.run(log, stuck.Spec(goal="buy", min_paths=1, min_reference=1)).table.set_index("event")
    offer = table.loc["offer"]
    # Failing c and d end their visit at the offer (2 of 2); of the successful, only b ever does (1 of 2)
    # but a visit that buys cannot end there: on visits that did not buy after it, b ended there 1 of 1.
    assert (offer["exit_rate_failing"], offer["exit_rate_successful"]) == (1.0, 0.5)
    assert offer["exit_rate_successful_open"] == 1.0
    assert offer["exit_reference"] == 1.0 and offer["exit_excess"] == 0.0
    # The upload is no such step: a and b go on from it in the same visit and do not end there.
    upload = table.loc["upload"]
    assert (upload["exit_rate_failing"], upload["exit_rate_successful_open"]) == (pytest.approx(1 / 3, abs=1e-4), 0.0)


def test_goal_follows_in_visit_marks_only_steps_of_converting_visits():
    log = EventLog.from_frame(pd.DataFrame(OFFER_ROWS, columns=["user", "event", "time"]))
    follows = stuck.goal_follows_in_visit(log, log.event_code("buy"))
    marked = {(log.user_keys[u], log.event_names[e], t) for u, e, t, m in zip(log.user, log.event, log.ts, follows) if m}
    assert marked == {("a", "home", 0), ("a", "upload", 60_000), ("a", "offer", 120_000),
                      ("b", "home", 90_000_000), ("b", "offer", 90_060_000)}


def test_where_it_is_worse_is_hand_checked():
    from types import SimpleNamespace
    # 40 paths reach connect; mobile: 15 of 20 loop on it, desktop: 4 of 20
    rows = []
    for i in range(40):
        loops = (i < 15) or (20 <= i < 24)          # u00-u19 are mobile, u20-u39 desktop
        rows += [(f"u{i:02d}", "connect", 0), (f"u{i:02d}", "error", 1000)]
        if loops:
            rows.append((f"u{i:02d}", "connect", 2000))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    os_of = np.array(["mobile" if int(key[1:]) < 20 else "desktop" for key in log.user_keys], dtype=object)
    row = SimpleNamespace(event="connect", loop_excess=0.3, exit_excess=0.0)
    spec = stuck.Spec(goal="pay", min_paths=10)
    found = stuck.where_and_when(log, row, np.zeros(log.n_users, dtype=bool), {"os": os_of}, spec)
    where = found["where"]
    assert (where["property"], where["value"], where["rate"], where["rate_others"]) == ("os", "mobile", 0.75, 0.2)
    assert where["p_value"] == pytest.approx(stuck.fisher_greater(15, 20, 4, 20))
    assert where["q_value"] == pytest.approx(2 * where["p_value"])        # BH over mobile and desktop
    assert found["when"] is None                                          # every path starts at once
    assert found["where_text"] == "worst for os = mobile: 75% of users who reach it there loop on it vs 20% of the others"


def test_since_when_compares_the_first_and_last_third_by_path_start():
    from types import SimpleNamespace
    # 30 paths start on day 0 (6 loop), 30 on day 30 (21 loop); the data spans days 0-30
    rows = []
    for i in range(60):
        start = 0 if i < 30 else 30 * 86_400_000
        loops = (i < 6) or (30 <= i < 51)
        rows += [(f"u{i:02d}", "connect", start), (f"u{i:02d}", "error", start + 1000)]
        if loops:
            rows.append((f"u{i:02d}", "connect", start + 2000))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    row = SimpleNamespace(event="connect", loop_excess=0.3, exit_excess=0.0)
    found = stuck.where_and_when(log, row, np.zeros(log.n_users, dtype=bool), {}, stuck.Spec(goal="pay", min_paths=10))
    when = found["when"]
    assert (when["rate_early"], when["rate_late"], when["paths_early"], when["paths_late"]) == (0.2, 0.7, 30, 30)
    assert when["p_value"] == pytest.approx(stats.fisher_exact([[6, 24], [21, 9]])[1])
    assert found["when_text"] == ("up from 20% of users starting 1970-01-01 – 1970-01-11 to 70% of those "
                                  "starting 1970-01-21 – 1970-01-31")


def test_per_session_reference_is_successful_users_over_all_their_sessions():
    # a buys in session 2 after looping on view in session 1; b loops on view in its only session
    hour = 3_600_000
    rows = [("a", "view", 0), ("a", "view", 1000), ("a", "view", 5 * hour), ("a", "pay", 5 * hour + 1000),
            ("b", "view", 0), ("b", "view", 1000)]
    log = apply_filter(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])),
                       CommonFilter(by="session"))
    successful = np.array([False, True, False])          # sessions a#1, a#2, b#1
    assert stuck.successful_owners(log, successful).tolist() == [0, 0, -1]
    result = stuck.run(log, stuck.Spec(goal="pay", min_paths=1, min_reference=1, unit="sessions"))
    view = result.table.set_index("event").loc["view"]
    # failing sessions a#1 and b#1 both loop; the successful session a#2 does not; user a did (in a#1)
    assert (view["loop_rate_failing"], view["loop_rate_successful"], view["loop_rate_successful_users"]) == \
        (1.0, 0.0, 1.0)
    assert view["loop_excess"] == 0.0
    per_user = stuck.run(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])),
                         stuck.Spec(goal="pay", min_paths=1, min_reference=1))
    assert stuck.successful_owners(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])),
                                   np.array([True, False])) is None
    assert np.isnan(per_user.table.set_index("event").loc["view", "loop_rate_successful_users"])


def test_a_loop_is_within_one_visit_coming_back_another_day_is_not():
    """u opens the app on three days (open → rates each time): no loop. v bounces rates → faq → rates in
    one visit, and w repeats faq twice in a row: loops on rates and faq."""
    day, minute = 86_400_000, 60_000
    rows = [("u", "open", d * day) for d in range(3)] + [("u", "rates", d * day + minute) for d in range(3)]
    rows += [("v", "open", 0), ("v", "rates", minute), ("v", "faq", 2 * minute), ("v", "rates", 3 * minute)]
    rows += [("w", "faq", 0), ("w", "faq", minute)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    codes, users = stuck.loop_paths(log, len(log.event_names))
    found = sorted((log.event_names[c], log.user_keys[u]) for c, u in zip(codes, users))
    assert found == [("faq", "w"), ("rates", "v")]


def browsing_log(users: int, page: str, failing_bounces) -> EventLog:
    """Browsing visits "open, PAGE, blog", one a day, that bounce back to PAGE now and then: each failing
    user makes four (visit v of user i bounces when ``failing_bounces(i, v)``); each buyer makes one
    (every fourth buyer's bounces), then buys on another day."""
    day = 86_400_000
    rows = []

    def visit(user, start, bounce):
        steps = ["open", page, "blog"] + ([page] if bounce else [])
        return [(user, event, start + k * 60_000) for k, event in enumerate(steps)]

    for i in range(users):
        for v in range(4):
            rows += visit(f"f{i}", v * day, bounce=failing_bounces(i, v))
        rows += visit(f"s{i}", 0, bounce=(i % 4 == 0))
        rows += [(f"s{i}", "open", 5 * day), (f"s{i}", "pricing", 5 * day + 60_000), (f"s{i}", "pay", 5 * day + 120_000)]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_bouncing_on_a_browsing_page_over_more_visits_is_not_being_stuck():
    """Every browsing visit, whoever makes it, is "open, docs, blog" — one in four bounces back to docs.
    60 failing users make four such visits (so each bounces once); 60 buyers make one (a quarter of them
    bounce), then buy on another day. Per user: 100% vs 25% loop on docs; per visit: 25% vs 25%."""
    log = browsing_log(60, "docs", lambda i, v: v == i % 4)
    table = stuck.run(log, stuck.Spec(goal="pay")).table.set_index("event")
    docs = table.loc["docs"]
    assert docs["loop_rate_failing"] == 1.0 and docs["loop_rate_successful"] == 0.25          # per user
    assert docs["loop_rate_failing_visits"] == 0.25 and docs["loop_rate_successful_visits"] == 0.25
    assert docs["loop_excess"] == 0.0 and docs["score"] == 0.0


def test_a_loop_only_slightly_more_common_per_visit_is_not_being_stuck():
    """Browsing visits "open, guide, blog" bounce back to the guide on 3 in 10 of failing users' visits
    (4 visits each) and 1 in 4 of buyers' (one visit, then they buy). Per user 60% vs 25%, and per visit
    the 30% vs 25% is significant over 2,400 visits, yet no visit of a failing user loops there much more
    often (1.2x): browsing more, not being stuck."""
    log = browsing_log(600, "guide", lambda i, v: (i * 4 + v) % 10 < 3)
    guide = stuck.run(log, stuck.Spec(goal="pay")).table.set_index("event").loc["guide"]
    assert guide["loop_rate_failing"] == 0.6 and guide["loop_rate_successful"] == 0.25
    assert guide["loop_rate_failing_visits"] == 0.3 and guide["loop_rate_successful_visits"] == 0.25
    assert guide["loop_q"] < 0.05                       # significant per user and per visit ...
    assert guide["loop_excess"] == 0.0 and guide["score"] == 0.0       # ... but not 1.25x per visit


def test_a_quick_conversion_is_no_reference_for_how_long_failing_users_wait():
    """After the trial, 30 buyers pay within a minute; 30 others read help for 10 minutes, then leave.
    Both groups also browse a page 2 minutes before the trial. The wait trial -> pay is the conversion
    itself: against the buyers' other waits at the trial (none) nothing says the others wait longer."""
    rows = []
    for i in range(30):
        rows += [(f"b{i}", "browse", 0), (f"b{i}", "trial", 120_000), (f"b{i}", "pay", 150_000)]
        rows += [(f"f{i}", "browse", 0), (f"f{i}", "trial", 120_000), (f"f{i}", "help", 720_000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    trial = stuck.run(log, stuck.Spec(goal="pay")).table.set_index("event").loc["trial"]
    assert np.isnan(trial["dwell_median_seconds_successful"]) and trial["dwell_excess"] == 0.0


def test_counts_kept_while_walking_rank_as_pandas_value_counts_ties_included():
    """Next steps and routes are counted in the walk over the paths (pandas' hash of a million routes
    held the GIL a quarter of a second at 10M events); ranked, they must be what value_counts gave."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        values = [str(v) for v in rng.integers(0, rng.integers(1, 9), size=rng.integers(0, 40))]
        counted: dict[str, int] = {}
        for value in values:
            stuck._count(counted, value)
        expected = pd.Series(values, dtype=object).value_counts()
        pd.testing.assert_series_equal(stuck._tally(counted), expected)
        assert list(stuck._tally(counted).index) == list(expected.index)      # the order of ties too
