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


def test_random_exits_flag_nothing():
    # 2,000 users browse five pages in random order, one visit each, ending at a random step; a fifth
    # buy at the end of theirs: no page is where failing users leave more than at random
    rng = np.random.default_rng(3)
    rows = []
    for i in range(2000):
        steps = list(rng.choice(["home", "list", "item", "help", "cart"], size=int(rng.integers(1, 8))))
        if i % 5 == 0:
            steps.append("buy")
        rows += [(f"u{i}", step, 1000 * k) for k, step in enumerate(steps)]
    result = stuck.run(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])),
                       stuck.Spec(goal="buy"))
    assert result.stuck.empty


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


def _unstuck_by_walking(log, name, goal, successful_user, top=5):
    """The path-by-path walk ``unstuck_for`` replaced (it took 15-20 s at 10M events): the oracle."""
    def route(position, last_position):
        codes = log.event[position:last_position + 1]
        names = [log.event_names[c] for c in codes[np.append(True, codes[1:] != codes[:-1])]]
        return " → ".join(names[:2] + ["…"] + names[-3:] if len(names) > 6 else names)

    def tally(values):
        return pd.Series(values, dtype=object).value_counts(sort=True)     # stable: ties first seen first

    code = log.event_code(name)
    nexts, routes = {True: [], False: []}, {True: [], False: []}
    for user in range(log.n_users):
        rows = np.flatnonzero(log.user == user)
        goal_rows = rows[log.event[rows] == goal]
        first_goal = goal_rows[0] if len(goal_rows) else len(log)
        visits = rows[(log.event[rows] == code) & (rows < first_goal)]
        if not len(visits):
            continue
        ok, position = bool(successful_user[user]), visits[-1]
        following = position + 1
        while following <= rows[-1] and log.event[following] == code:
            following += 1
        nexts[ok].append(log.event_names[log.event[following]] if following <= rows[-1] else stuck.LEFT)
        routes[ok].append(route(position, first_goal) if ok else route(position, rows[-1]) + f" → {stuck.LEFT}")
    n_ok, n_fail = len(nexts[True]), len(nexts[False])
    s_next, f_next = tally(nexts[True]) / max(n_ok, 1), tally(nexts[False]) / max(n_fail, 1)
    events = s_next.sub(f_next, fill_value=0).sort_values(ascending=False).index[:top]

    def top_routes(values, paths):
        return [{"route": r, "users": int(n), "share": round(n / max(paths, 1), 4)}
                for r, n in tally(values).head(3).items()]
    return {"event": name, "successful_users": n_ok, "failing_users": n_fail,
            "next": [{"event": e, "successful_share": round(float(s_next.get(e, 0.0)), 4),
                      "failing_share": round(float(f_next.get(e, 0.0)), 4)} for e in events],
            "failing_left": round(float(f_next.get(stuck.LEFT, 0.0)), 4),
            "routes": top_routes(routes[True], n_ok), "failing_routes": top_routes(routes[False], n_fail)}


@pytest.mark.parametrize("seed", range(6))
def test_unstuck_counts_as_a_walk_over_every_path_would(seed):
    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame({"user": rng.integers(0, 40, n), "event": rng.choice(list("abcdeg"), n, p=[.3, .25, .15, .1, .1, .1]),
                          "time": rng.permutation(n)})
    log = EventLog.from_frame(frame)
    goal = log.event_code("g")
    successful_user = stuck.users_with_event(log, goal)
    for name in "abcde":
        assert stuck.unstuck_for(log, name, goal, successful_user) == _unstuck_by_walking(log, name, goal, successful_user)


def test_needs_a_goal(log):
    with pytest.raises(JourneyError, match="goal"):
        stuck.run(log, stuck.Spec())


@pytest.fixture(scope="module")
def shop():
    return shop_log(seed=3)


@pytest.mark.parametrize("by", ["user", "session"])
def test_shop_ranks_the_real_stuck_point_over_browsing_pages(shop, by):
    log = apply_filter(shop, CommonFilter(by=by))
    result = stuck.run(log, stuck.Spec(goal="purchase"))         # the log says what its paths are
    table = result.table.set_index("event")
    assert result.table.iloc[0]["event"] == "shipping_form"
    # Browsing pages: lots of raw exits and loops, but successful paths leave and loop there too.
    assert table.loc["product_view", "ended_without_goal"] > table.loc["shipping_form", "ended_without_goal"]
    assert table.loc["product_view", "score"] < 0.5 * table.loc["shipping_form", "score"]
    assert table.loc["catalog", "score"] < 0.5 * table.loc["shipping_form", "score"]
    # Every visit that fails at shipping_form ends there, the later buyers' failed visits too: its exits
    # are the funnel's drop-off; what failing paths do worse there is retry.
    words = table.loc["shipping_form", "explanation"]
    assert f"of failing {by}s loop on it (most often back via shipping_error) vs" in words


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
    assert found["where_text"] == "worst for os = mobile: 75% of those users who reach it loop on it vs 20% of the others"


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


def _lessons_rows() -> list[tuple]:
    """200 learners take lessons L1..L4 in one visit (lesson_started carries the lesson); 50 quit as
    L3 starts, 100 subscribe after L4, 50 finish L4 and leave."""
    rows = []
    for i in range(200):
        steps = [("app_open", None)]
        for lesson in ("L1", "L2", "L3", "L4"):
            steps.append(("lesson_started", lesson))
            if lesson == "L3" and i % 4 == 0:
                break
            steps.append(("lesson_done", None))
        if i % 4 in (1, 2):
            steps.append(("subscribe", None))
        rows += [(f"u{i}", event, 60_000 * k, lesson) for k, (event, lesson) in enumerate(steps)]
    return rows


def test_a_stuck_step_inside_an_event_named_by_its_property():
    log = EventLog.from_frame(pd.DataFrame(_lessons_rows(), columns=["user", "event", "time", "lesson"]))
    result = stuck.run(log, stuck.Spec(goal="subscribe"))
    top = result.stuck.iloc[0]
    assert (top["event"], top["inside_event"], top["inside_property"]) == ("lesson_started: L3", "lesson_started",
                                                                           "lesson")
    assert (top["failing_users"], top["left_failing"]) == (100, 50)       # every failing learner reaches L3
    added = result.table[result.table["inside_property"].notna()]
    assert added["event"].tolist() == ["lesson_started: L3"]              # only the stuck lessons join the table
    assert result.unstuck[0]["event"] == "lesson_started: L3"             # counted on the log named by lesson
    assert result.unstuck[0]["next"][0]["event"] == "lesson_done"
    assert list(result.table["rank"]) == list(range(1, len(result.table) + 1))


def test_without_the_property_the_plain_event_is_all_there_is():
    rows = [row[:3] for row in _lessons_rows()]
    result = stuck.run(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])),
                       stuck.Spec(goal="subscribe"))
    assert result.table["inside_event"].isna().all()
    assert not result.table["event"].str.contains(": ").any()


def _steps_of(named: EventLog, event: str) -> np.ndarray:
    return np.array([name.startswith(f"{event}: ") for name in named.event_names])


def _levels_log(walls: dict[int, int], players: int = 200) -> EventLog:
    """``players`` start levels 1, 2, ... 5 in order; ``walls[level]`` of them start that level and
    go no further; every 4th player who finishes level 5 buys after it. The log ends a month later."""
    rows = []
    stops = [level for level, count in walls.items() for _ in range(count)]
    for i in range(players):
        last = stops[i] if i < len(stops) else 5
        steps = [("level_started", level) for level in range(1, last + 1)]
        if last == 5 and i % 4 == 0:
            steps.append(("buy", None))
        rows += [(f"p{i}", event, 60_000 * k, level) for k, (event, level) in enumerate(steps)]
    rows.append(("observer", "ping", 30 * 86_400_000, None))      # the log runs on a month: all have settled
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "level"]))


def test_the_step_of_a_sequence_where_paths_stop_for_good():
    from journey_explorer.store.event_detail import name_by_property
    named = name_by_property(_levels_log({3: 60, 2: 10}), {"level_started": "level"})
    stops = stuck.stops_for_good(named, _steps_of(named, "level_started"), stuck.Spec(goal="buy")).set_index("event")
    # level 5 ends the sequence (nobody goes on from it): no candidate, no reference
    assert "level_started: 5" not in stops.index
    # level 3: 190 reach it, 60 stop there -> 60/190; the others: level 1 0/200, level 2 10/200, level 4 0/130
    assert stops.loc["level_started: 3", "stop_rate"] == round(60 / 190, 4)
    assert stops.loc["level_started: 3", "stop_reference"] == round(10 / 530, 4)
    assert stops.loc["level_started: 3", "stop_q"] < 0.001
    found = stuck.run(_levels_log({3: 60, 2: 10}), stuck.Spec(goal="buy")).stuck.set_index("event")
    assert found.loc["level_started: 3", "stop_excess"] == round(60 / 190 - 10 / 530, 4)
    assert found.loc["level_started: 3", "explanation"].startswith(
        "32% of users who reach it go no further and never reach the goal, vs 2% at the other values of level")
    assert found["stop_excess"].drop("level_started: 3").eq(0).all()      # level 2's 10 stops are no wall


def test_values_browsed_in_any_order_are_no_sequence_to_stop_in():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(300):
        cities = rng.choice(["Rome", "Paris", "Lisbon"], size=4)
        if i % 3 == 0:
            cities[-1] = "Rome"          # many browsing paths happen to end on Rome
        rows += [(f"u{i}", "guide_viewed", 1000 * k, city) for k, city in enumerate(cities)]
        if i % 5 == 0:
            rows.append((f"u{i}", "book", 9000, None))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "city"]))
    from journey_explorer.store.event_detail import name_by_property
    named = name_by_property(log, {"guide_viewed": "city"})
    assert stuck.stops_for_good(named, _steps_of(named, "guide_viewed"), stuck.Spec(goal="book")).empty


def test_where_paths_stop_for_good_names_the_segment_and_no_trend_over_time():
    log = _levels_log({3: 60, 2: 10})
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": log.ts, "level": log.event_properties["level"].values[log.event_properties[
                              "level"].codes]})
    stopper = frame.groupby("user")["level"].transform("max") == 3
    player = pd.to_numeric(frame["user"].str[1:], errors="coerce")
    frame["platform"] = np.where(stopper | player.between(100, 139), "android", "ios")
    result = stuck.run(EventLog.from_frame(frame), stuck.Spec(goal="buy"))
    [wall] = [u for u in result.unstuck if u["event"] == "level_started: 3"]
    # android: 60 of the 100 android players reaching level 3 stop there; ios: 0 of 90
    assert wall["part"] == "stop" and wall["where"]["property"] == "platform" and wall["where"]["value"] == "android"
    assert wall["where_text"].startswith("worst for platform = android: 60% of those users who reach it go no further")
    assert wall["when"] is None


def test_paths_seen_too_close_to_the_end_have_not_stopped_yet():
    from journey_explorer.store.event_detail import name_by_property
    log = _levels_log({3: 60, 2: 10})
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": log.ts, "level": log.event_properties["level"].values[log.event_properties[
                              "level"].codes]})
    late = 30 * 86_400_000 - 120_000              # 20 players start two minutes before the log ends
    recent = pd.DataFrame([(f"r{i}", "level_started", late + 60_000 * k, k + 1) for i in range(20) for k in range(3)],
                          columns=frame.columns)
    named = name_by_property(EventLog.from_frame(pd.concat([frame, recent])), {"level_started": "level"})
    stops = stuck.stops_for_good(named, _steps_of(named, "level_started"), stuck.Spec(goal="buy")).set_index("event")
    assert stops.loc["level_started: 3", "reached"] == 190                # the 20 still playing are not counted
    assert stops.loc["level_started: 3", "stop_rate"] == round(60 / 190, 4)


def test_one_wall_seen_from_two_events_is_told_once():
    # players complete each level they start; 60 start level 3 and go no further: they stopped for good
    # at "level_completed: 2" and at "level_started: 3" — the same 60 players
    log = _levels_log({3: 60, 2: 10})
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": log.ts, "level": log.event_properties["level"].values[log.event_properties[
                              "level"].codes]})
    started = frame[frame["event"] == "level_started"]
    stops_at = started.groupby("user")["level"].transform("max")
    done = started[(started["level"] < stops_at) | (stops_at == 5)].assign(event="level_completed",
                                                                           time=lambda f: f["time"] + 30_000)
    result = stuck.run(EventLog.from_frame(pd.concat([frame, done])), stuck.Spec(goal="buy"))
    walls = result.stuck[result.stuck["stop_excess"] > 0]
    assert walls["event"].tolist() == ["level_started: 3"]


def test_many_values_browsed_at_random_are_no_sequence():
    # 150 users each see 6 of 50 values at random: most pairs of values are seen changing once or
    # twice, each "keeping its way" — not counted; a real sequence repeats its pairs
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(150), 6)
    assert stuck._order_kept(rng.integers(0, 50, len(users)), users) < stuck.SEQUENCE_ORDER
    levels = np.tile(np.arange(6), 150)
    assert stuck._order_kept(levels, users) == 1.0


def test_a_wall_that_stops_most_of_its_players_is_still_a_step():
    from journey_explorer.store.event_detail import name_by_property
    named = name_by_property(_levels_log({3: 150, 2: 10}), {"level_started": "level"})
    stops = stuck.stops_for_good(named, _steps_of(named, "level_started"), stuck.Spec(goal="buy")).set_index("event")
    # 190 reach level 3, 150 stop there: 40 go on, enough to be a step and not the sequence's end
    assert stops.loc["level_started: 3", "stop_rate"] == round(150 / 190, 4)


def test_the_table_keeps_numbers_as_numbers_when_it_looks_inside_steps():
    # cities browsed in any order: no sequence, no stop rows; the table's numbers stay numeric
    rows = [(f"u{i}", "guide_viewed", 1000 * k, city) for i in range(120)
            for k, city in enumerate(["Rome", "Paris", "Lisbon", "Oslo"][i % 2:][::1 if i % 3 else -1])]
    rows += [(f"u{i}", "book", 9000, None) for i in range(0, 120, 4)]
    table = stuck.run(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "city"])),
                      stuck.Spec(goal="book", min_paths=5, min_reference=5)).table
    numeric = ["score", "worse_by", "stop_rate", "stop_reference", "stop_excess", "exit_rate_failing"]
    assert all(pd.api.types.is_numeric_dtype(table[column]) for column in numeric)


def test_next_steps_counted_by_code_rank_as_pandas_value_counts_ties_included():
    """Next steps are counted per event code (pandas' hash of a million names held the GIL a quarter
    of a second at 10M events); ranked, they must be what value_counts gave, -1 standing for (left)."""
    rng = np.random.default_rng(7)
    names = list("abcdefgh")
    for _ in range(50):
        codes = rng.integers(-1, rng.integers(0, 8), size=rng.integers(0, 40))
        values = [stuck.LEFT if c < 0 else names[c] for c in codes]
        expected = pd.Series(values, dtype=object).value_counts()
        counted = stuck._tally(stuck._counts_first_seen(codes, names))
        pd.testing.assert_series_equal(counted, expected, check_index_type=False)
        assert list(counted.index) == list(expected.index)      # the order of ties too


def test_users_the_goal_is_not_open_to_are_no_failing_users():
    # owners upgrade (a third of them), invited members never can; members comment twice in a row (a
    # loop): that is no stuck point of failing users once members are left out
    rows = []
    for i in range(300):
        member = i % 2 == 1
        steps = ["open", "comment", "comment"] if member else ["open", "comment"]
        if not member and i % 3 == 0:
            steps.append("upgrade")
        rows += [(f"u{i}", step, 1000 * k, "member" if member else "owner") for k, step in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "role"]))
    result = stuck.run(log, stuck.Spec(goal="upgrade"))
    assert result.left_out == "role = member never reaches upgrade (150 users): left out"
    comment = result.table.set_index("event").loc["comment"]
    assert result.paths == 150 and comment["loop_rate_failing"] == 0 and comment["loop_excess"] == 0


HOUR = 3_600_000
DAY = 24 * HOUR


def _visits(user: str, visits: list[list[str]], start: int = 0, apart: int = 24 * HOUR) -> list[tuple]:
    """Rows of ``user``'s visits, a minute between steps and ``apart`` between visits."""
    return [(user, step, start + n * apart + 60_000 * k) for n, steps in enumerate(visits) for k, step in enumerate(steps)]


def test_dead_ends_hand_checked():
    # f1: msg then list (leaves at list); f2: list then msg (leaves at msg); f3: one visit, msg;
    # s1 pays on its second visit; s2, much later, keeps the log going (all others have settled)
    rows = (_visits("f1", [["home", "msg"], ["home", "list"]]) + _visits("f2", [["home", "list"], ["home", "msg"]])
            + _visits("f3", [["home", "msg"]]) + _visits("s1", [["home", "msg"], ["home", "pay"]])
            + _visits("s2", [["home", "pay"]], start=1000 * HOUR))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    paying = stuck.users_with_event(log, log.event_code("pay"))
    stops = stuck.dead_ends(log, paying).assign(event=lambda f: [log.event_names[c] for c in f["code"]])
    stops = stops.set_index("event")
    # failing visits ending at msg: f1's 1st (goes on), f3's 1st (last), f2's 2nd (last): 2 stops of the
    # 3 failing paths reaching msg. Other events' chance to be the last visit: 1st visits 0 of 1 (f2's
    # list), 2nd visits 1 of 1 (f1's list) -> msg's reference (2 x 0 + 1 x 1) / 3
    assert stops.loc["msg", "stop_rate"] == round(2 / 3, 4)
    assert stops.loc["msg", "stop_reference"] == round(1 / 3, 4)
    assert stops.loc["msg", "stop_goes_on"] == 1
    # list: f2's 1st visit goes on, f1's 2nd is its last; msg's chance: 1st visits 1 of 2, 2nd 1 of 1
    assert stops.loc["list", "stop_rate"] == 0.5
    assert stops.loc["list", "stop_reference"] == round((0.5 + 1) / 2, 4)


def test_a_path_seen_too_close_to_the_end_has_not_stopped():
    # visits come a day apart; r was last seen an hour before the log ends: it may come back yet
    rows = (_visits("a", [["home"], ["home"]]) + _visits("b", [["home"], ["home"], ["home"]])
            + _visits("r", [["home"]], start=100 * HOUR) + [("z", "home", 101 * HOUR)])
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    settled = stuck._settled_paths(log, stuck.visit_ends(log))
    assert settled[[log.user_keys.tolist().index(key) for key in ("a", "b", "r", "z")]].tolist() == [
        True, True, False, False]


def _seller_log(seed: int = 4, with_give_up: bool = False) -> EventLog:
    """Buyers browse and message a seller, which ends their visit (they wait for the reply). Those who
    buy come back to a reply; 300 failing buyers never come back after their message; 200 browse a
    few visits and leave at a random page, coming back after their messages (no sale). With
    ``with_give_up``: 100 more failing buyers end with "give_up", which payers do on their last visit
    after buying — a closing step, no one comes back from it."""
    rng = np.random.default_rng(seed)
    rows = []

    def browse():
        return ["home", *rng.choice(["list", "item"], size=int(rng.integers(1, 4)))]

    for i in range(200):                                      # pay after the reply
        visits = [browse() for _ in range(int(rng.integers(0, 3)))] + [browse() + ["message"],
                                                                       ["home", "reply", "item", "buy"]]
        rows += _visits(f"s{i}", visits + ([["home", "give_up"]] if with_give_up else []), start=i * HOUR)
    for i in range(300):                                      # the dead end: no reply, never back
        visits = [browse() for _ in range(int(rng.integers(0, 3)))] + [browse() + ["message"]]
        rows += _visits(f"d{i}", visits, start=i * HOUR)
    for i in range(200):                                      # browse, message, come back, leave anywhere
        visits = [browse() + (["message"] if rng.random() < 0.5 else []) for _ in range(int(rng.integers(1, 4)))]
        rows += _visits(f"b{i}", visits + [browse()], start=i * HOUR)
    if with_give_up:
        for i in range(100):
            rows += _visits(f"g{i}", [browse(), browse() + ["give_up"]], start=i * HOUR)
    rows.append(("observer", "home", 2000 * HOUR))        # the log runs on: every buyer has settled
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_a_dead_end_where_everyones_visit_ends_is_found():
    result = stuck.run(_seller_log(), stuck.Spec(goal="buy"))
    table = result.table.set_index("event")
    message = table.loc["message"]
    # everyone's visit ends at the message (failing or not): no exit part, only the dead end
    assert message["exit_excess"] == 0 and message["loop_excess"] == 0
    assert message["stop_excess"] > 0.3 and message["stop_rate"] >= 2 * message["stop_reference"]
    assert message["explanation"].startswith(f"{stuck._pct(message['stop_rate'])} of failing users who reach it "
                                             f"stop there for good (no later visit)")
    assert result.stuck["event"].tolist() == ["message"]       # the browsing pages people leave from are not
    [entry] = result.unstuck
    assert entry["part"] == "stop"


def test_a_closing_step_no_one_comes_back_from_is_no_dead_end():
    table = stuck.run(_seller_log(with_give_up=True), stuck.Spec(goal="buy")).table.set_index("event")
    give_up = table.loc["give_up"]
    # every failing path that reaches it ends there, far beyond its reference: significant and large...
    assert give_up["stop_rate"] == 1.0 and give_up["stop_rate"] >= 2 * give_up["stop_reference"]
    assert give_up["stop_p"] < 1e-6
    # ...but no failing path ever came back from it: the end of the path, as buying is for payers
    assert give_up["stop_goes_on"] == 0 and give_up["stop_excess"] == 0


def test_no_dead_ends_per_session_or_where_a_visit_is_an_event():
    log = _seller_log()
    per_session = stuck.run(apply_filter(log, CommonFilter(by="session")), stuck.Spec(goal="buy", unit="sessions"))
    assert "stop_excess" not in per_session.table or (per_session.table["stop_excess"] == 0).all()
    # every step a day apart: each visit one event, as a process log cut by a 30-minute gap
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": np.arange(len(log)) * 24 * HOUR})
    one_event_visits = stuck.run(EventLog.from_frame(frame), stuck.Spec(goal="buy")).table
    assert (one_event_visits["stop_excess"] == 0).all() if "stop_excess" in one_event_visits else True


def test_a_value_is_named_only_where_it_is_materially_worse():
    from types import SimpleNamespace
    # 2,000 paths reach checkout; 8 of the 1,000 on version 2 loop on it, 0 of the 1,000 others:
    # significant (p ~ 0.004), and 0.8% vs 0% says nothing
    rows = []
    for i in range(2000):
        rows += [(f"u{i:04d}", "checkout", 0), (f"u{i:04d}", "error", 1000)]
        if i < 8:
            rows.append((f"u{i:04d}", "checkout", 2000))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    version = np.array(["2" if int(key[1:]) < 1000 else "1" for key in log.user_keys], dtype=object)
    row = SimpleNamespace(event="checkout", loop_excess=0.3, exit_excess=0.0)
    found = stuck.where_and_when(log, row, np.zeros(log.n_users, dtype=bool), {"version": version},
                                 stuck.Spec(goal="pay", min_paths=10))
    assert found["where"] is None and found["where_text"] == ""


def test_a_rework_loop_with_a_step_between_is_a_loop_when_the_case_is_one_visit():
    # an order-to-cash log, each case one visit (its session column): approve -> change price -> approve
    # is a loop (A B A), hours apart; reworked orders are cancelled far more often
    rng = np.random.default_rng(8)
    rows = []
    for i in range(600):
        steps = ["create", "check", "approve"]
        loops = int(rng.integers(0, 3)) if i % 3 == 0 else 0
        steps += ["change price", "approve"] * loops
        cancelled = rng.random() < (0.6 if loops else 0.15)
        steps += ["cancel"] if cancelled else ["invoice", "paid"]
        rows += [(f"c{i}", step, 5 * HOUR * k, f"c{i}") for k, step in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "session"]))
    found = stuck.run(log, stuck.Spec(goal="paid")).stuck.set_index("event")
    assert found.index[0] == "approve" and found.loc["approve", "loop_excess"] > 0.3
    assert "of failing users loop on it" in found.loc["approve", "explanation"]


def test_a_case_log_compares_no_visit_ends_at_the_step_before_the_goal():
    """60 cases: create, approve, then 30 are paid hours later and 30 stop after approval. Cut at 30
    minutes, each step is a visit and approval ends as many visits either way; as one visit per case, a
    failing case "ends its visit" at approval (100%) and a paid one never (0%): that is how cases end, not
    a stuck point. With the 30-minute gap the same log has no stuck point either."""
    hour = 3_600_000
    rows = []
    for i in range(60):
        rows += [(f"c{i}", "create", i * hour), (f"c{i}", "approve", i * hour + 5 * hour)]
        if i < 30:
            rows.append((f"c{i}", "pay", i * hour + 50 * hour))
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    for gap in (30 * 60_000, 10**15):
        log = EventLog.from_frame(frame, session_gap_ms=gap)
        table = stuck.run(log, stuck.Spec(goal="pay")).table.set_index("event")
        assert table.loc["approve", "exit_excess"] == 0.0 and (table["score"] == 0).all()
    assert table.loc["approve", "exit_rate_failing"] == 1.0      # measured, not compared


def test_a_cancellation_that_ends_paths_is_no_stuck_point(log):
    # f and g (failing) cancel and never come back; e's "error" is not an outcome: b and d go on after theirs.
    rows = ROWS + [("f", "home", 0), ("f", "subscription_cancelled", 10_000),
                   ("g", "home", 0), ("g", "connect", 5_000), ("g", "subscription_cancelled", 10_000)]
    with_cancels = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    events = set(stuck.run(with_cancels, SMALL).table["event"])
    assert "subscription_cancelled" not in events          # before: a row "failing users stop there"
    assert {"connect", "error", "home"} <= events


# --- the wait before a step, and who handled it --------------------------------------------------------

HOUR = 3_600_000


def _claims_rows(paths: int = 40) -> list[tuple]:
    """Cases register (by the clerk), get assessed and are paid or not, each case one visit. Adjuster K
    (every 4th case) takes 100 h to assess, the others 10 h; three quarters of K's cases are never paid
    against a third of the others'. The adjuster is the clerk on every case's first event: as who took
    the path, it says nothing."""
    rows = []
    for i in range(paths):
        case, slow = f"c{i:03d}", i % 4 == 0
        rows += [(case, "register", 0, "clerk"), (case, "check", HOUR, None),
                 (case, "assess", HOUR + (100 if slow else 10) * HOUR, "K" if slow else f"A{i % 3}")]
        paid = i % 16 == 0 if slow else i % 4 != 1     # K: 1 in 4 paid; the others: 2 in 3
        rows.append((case, "pay" if paid else "reject", 200 * HOUR, None))
        rows.append((case, "close", 201 * HOUR, None))
    return rows


def test_the_wait_before_a_step_is_a_part_of_its_own():
    # cases: failing ones wait 30 days for "review" (since "register"), successful ones 1 day; what
    # follows review comes an hour later for all
    day = 24 * HOUR
    rows = []
    for i in range(30):
        ok = i < 15
        rows += [(f"c{i}", "register", 0), (f"c{i}", "review", (1 if ok else 30) * day),
                 (f"c{i}", "pay" if ok else "reject", (1 if ok else 30) * day + HOUR)]
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    log = EventLog.from_frame(frame.assign(session=frame["user"]))
    table = stuck.run(log, stuck.Spec(goal="pay", min_paths=10)).table.set_index("event")
    review = table.loc["review"]
    assert (review["wait_median_seconds_failing"], review["wait_median_seconds_successful"]) == (30 * 86400.0, 86400.0)
    assert review["wait_excess"] == 0.5 and review["dwell_excess"] == 0.0
    assert "failing users waited a median 30 d for it (since their previous step) vs 1 d" in review["explanation"]


def test_a_pause_before_a_web_page_is_no_wait_part():
    # the same shape in minutes, visits of a web log: a longer pause before checkout is hesitation, and
    # the time on the page before it is the dwell's to judge
    rows = []
    for i in range(30):
        ok = i < 15
        rows += [(f"u{i}", "cart", 0), (f"u{i}", "checkout", (1 if ok else 3) * 60_000),
                 (f"u{i}", "pay" if ok else "home", (1 if ok else 3) * 60_000 + 10_000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    checkout = stuck.run(log, stuck.Spec(goal="pay", min_paths=10)).table.set_index("event").loc["checkout"]
    assert checkout["wait_excess"] == 0.0 and np.isnan(checkout["wait_median_seconds_failing"])


def test_who_handled_a_stuck_step_is_tested_on_its_own_events():
    from types import SimpleNamespace
    rows = _claims_rows(80)
    frame = pd.DataFrame(rows, columns=["user", "event", "time", "adjuster"])
    log = EventLog.from_frame(frame.assign(session=frame["user"]))
    from journey_explorer.analysis.pathprops import path_properties
    assert set(path_properties(log).get("adjuster", ["clerk"])) == {"clerk"}     # first touch: the clerk
    ok = np.zeros(log.n_users, dtype=bool)
    ok[log.user[log.event == log.event_code("pay")]] = True
    row = SimpleNamespace(event="assess", loop_excess=0.0, exit_excess=0.0)   # a stuck point by its wait only
    found = stuck.where_and_when(log, row, ok, {}, stuck.Spec(goal="pay", min_paths=10))
    assert (found["at_step"]["property"], found["at_step"]["value"]) == ("adjuster", "K")
    tests = found["at_step"]["tests"]
    assert (tests["wait"]["rate"], tests["wait"]["rate_others"]) == (100 * 3600.0, 10 * 3600.0)
    assert (tests["fail"]["rate"], tests["fail"]["rate_others"]) == (0.75, 0.3333)    # 15 of 20 vs 20 of 60
    assert found["step_text"] == ("worst for adjuster = K at assess (20 users who reach it): they waited a median "
                                  "4 d 4 h for it (since their previous step) vs 10 h for the others; 75% never "
                                  "reach pay vs 33% of the others")
    assert found["where"] is None                              # no main part: no path property looked at


def test_a_loop_says_how_it_goes_round():
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    assert stuck.loop_via(log, log.event_code("connect"), np.ones(log.n_users, dtype=bool)) == \
        "most often back via error"      # b and d bounce through error, c repeats it once: 2 to 1


def test_an_exit_must_stand_out_from_how_much_sooner_failing_visits_end_everywhere():
    # failing visitors' visits end at every browsing page ~1.2x as often as buyers' non-converting
    # visits (less intent): a wishlist page at 1.29x is no stuck point; a broken page at 3x is
    table = pd.DataFrame({"event": ["wishlist", "list", "product", "search", "broken"],
                          "failing_users": 100, "exit_rate_failing_visits": [0.45, 0.24, 0.36, 0.31, 0.9],
                          "exit_rate_successful_visits": [0.35, 0.2, 0.3, 0.25, 0.3]})
    assert stuck.typical_exit_ratio(table) == pytest.approx(1.24)
    assert stuck._holds_per_visit(table, "exit").tolist() == [False, False, False, False, True]
    even = table.assign(exit_rate_failing_visits=[0.45, 0.2, 0.3, 0.25, 0.9])     # no general gap: 1.29x stands out
    assert stuck._holds_per_visit(even, "exit").tolist() == [True, False, False, False, True]


def test_a_successful_paths_wait_for_a_step_after_its_goal_does_not_count():
    # paid cases are closed 30 days after paying, rejected ones a day after rejection: closing is no way to pay
    rows = []
    for i in range(30):
        paid = i < 15
        rows += [(f"c{i}", "register", 0), (f"c{i}", "pay" if paid else "reject", HOUR),
                 (f"c{i}", "close", HOUR + (30 * 24 if paid else 24) * HOUR)]
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    log = EventLog.from_frame(frame.assign(session=frame["user"]))
    table = stuck.run(log, stuck.Spec(goal="pay", min_paths=10)).table.set_index("event")
    assert np.isnan(table.loc["close", "wait_median_seconds_successful"])      # all 15 waits come after pay
    assert table.loc["close", "wait_median_seconds_failing"] == 24 * 3600.0


def test_a_step_property_that_is_the_paths_own_is_not_told_twice():
    reach = np.ones(4, dtype=bool)
    version = np.array(["5.2", "5.2", "5.1", "5.1"], dtype=object)
    assert stuck._same_as_path(version, version.copy(), reach)
    assert not stuck._same_as_path(np.array(["K", "A", "K", "A"], dtype=object),
                                   np.array(["clerk"] * 4, dtype=object), reach)
    assert not stuck._same_as_path(version, None, reach)


def test_a_step_property_already_told_by_the_path_is_not_told_again():
    from types import SimpleNamespace
    # version is every event's: 5.1 or 5.0 at first touch, 5.2 at the step for the paths that upgraded
    rows = []
    for i in range(60):
        upgraded = loops = i < 30                # the paths that loop upgraded before the step
        rows += [(f"u{i:02d}", "open", 0, "5.1"), (f"u{i:02d}", "connect", 1000, "5.2" if upgraded else "5.1")]
        if loops:
            rows += [(f"u{i:02d}", "error", 2000, "5.2" if upgraded else "5.1"),
                     (f"u{i:02d}", "connect", 3000, "5.2" if upgraded else "5.1")]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "version"]))
    first_touch = {"version": np.array(["5.1"] * 30 + ["5.0"] * 30, dtype=object)}
    row = SimpleNamespace(event="connect", loop_excess=0.3, exit_excess=0.0)
    found = stuck.where_and_when(log, row, np.zeros(log.n_users, dtype=bool), first_touch,
                                 stuck.Spec(goal="pay", min_paths=10))
    assert found["where"]["property"] == "version" and found["where_text"]
    assert found["step_text"] == "" and found["step_brief"] == ""


def _payment_retry_log(users: int = 1500, seed: int = 7) -> EventLog:
    """A shop: everyone browses pages over 1-3 visits (days apart), ending each at a random page; 30% leave
    after browsing. Of those who pay, 30% get a payment error and retry (error, the payment form again,
    submit: no A B A loop) 2-5 times, and 3 in 4 of them never get the order through; the rest retry once
    and succeed."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(users):
        user, clock = f"u{i}", int(rng.integers(0, 30 * 24 * 60)) * 60_000

        def add(event, gap=None, user=user):
            nonlocal clock
            rows.append((user, event, clock))
            clock += gap if gap is not None else int(rng.integers(10_000, 90_000))

        for _ in range(int(rng.integers(1, 4))):
            add("home")
            for _ in range(int(rng.integers(2, 9))):
                add(str(rng.choice(["search", "product_view", "product_view", "category"])))
            clock += 2 * DAY
        if rng.random() < 0.3:
            continue
        add("add_to_cart"), add("checkout"), add("submit_payment")
        if rng.random() < 0.3:
            fails = rng.random() < 0.75
            for _ in range(int(rng.integers(2, 6)) if fails else 1):
                add("payment_error"), add("payment_form"), add("submit_payment")
            if fails:
                add("payment_error")
                continue
        add("order_confirmed")
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_a_payment_retried_through_a_form_is_the_top_stuck_point_not_the_browsing_pages():
    result = stuck.run(_payment_retry_log(), stuck.Spec(goal="order_confirmed"))
    found = result.stuck.set_index("event")
    assert result.stuck["event"].iloc[0] in ("payment_error", "submit_payment")
    assert not {"product_view", "search", "category", "home"} & set(found.index)
    top = result.stuck.iloc[0]
    assert "times a visit on average (most often back via " in top["explanation"]


def test_repeats_are_counted_per_visit_and_before_the_goal():
    log = EventLog.from_frame(pd.DataFrame(
        [("a", "pay", 0), ("a", "err", 1), ("a", "pay", 2), ("a", "err", 3), ("a", "pay", 4), ("a", "done", 5),
         ("a", "pay", 6),
         ("b", "pay", 0), ("b", "err", 1), ("b", "pay", 2 * DAY)], columns=["user", "event", "time"]))
    goal = log.event_code("done")
    counts = stuck.path_repeats(log, stuck.before_goal(log, goal)).to_frame()
    pay = counts[counts["event"] == log.event_code("pay")]
    assert pay["count"].tolist() == [3.0, 1.0]     # a's pay after done left out; b pays once in each of two visits
    assert stuck.repeat_via(log, log.event_code("pay"), np.array([True, False])) == "most often back via err"
    assert stuck.repeat_via(log, log.event_code("pay"), np.array([False, True])) == ""     # coming back: no retry


def test_coming_back_to_log_in_is_no_repeat():
    # failing users come back on later days (log in, view the dashboard); successful ones pay on their first
    # visit: both log in once a visit
    rows = []
    for i in range(60):
        rows += [(f"u{i}", "login", 0), (f"u{i}", "dashboard", 60_000)]
        if i < 30:
            rows.append((f"u{i}", "pay", 120_000))
        else:
            rows += [(f"u{i}", "login", DAY * (1 + i % 3)), (f"u{i}", "report", DAY * (1 + i % 3) + 60_000)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    table = stuck.run(log, stuck.Spec(goal="pay")).table.set_index("event")
    assert table.loc["login", "repeat_mean_failing"] == table.loc["login", "repeat_mean_successful"] == 1.0
    assert (table["repeat_excess"] == 0).all()


def _slow_assessment_log(cases: int = 200, seed: int = 5) -> EventLog:
    """Claims, each case one visit: register, accept, then wait for the assessment (failing cases a median
    ~8 days, successful ones ~20 hours), then paid or rejected, and closed."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(cases):
        paid, clock = i % 5 < 3, i * DAY
        for event, hours in (("Register Claim", 0), ("Accept Claim", rng.exponential(5)),
                             ("Assess Damage", rng.gamma(4, (20 if i % 5 < 3 else 193) / 4)),
                             ("Pay Claim" if paid else "Reject Claim", rng.exponential(8)),
                             ("Close Claim", rng.exponential(24))):
            clock += int(hours * HOUR)
            rows.append((f"claim{i}", event, clock))
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    return EventLog.from_frame(frame.assign(session=frame["user"]))


def test_a_case_waiting_for_a_step_is_told_at_the_step_it_waited_for():
    # the time after "Accept Claim" is the wait for "Assess Damage": one wait, told once, where it was waited for
    table = stuck.run(_slow_assessment_log(), stuck.Spec(goal="Pay Claim")).stuck
    assert table["event"].tolist() == ["Assess Damage"]
    assert "waited a median" in table["explanation"].iloc[0]


def test_waits_and_repeats_per_event_and_path_are_pandas_groupby_numbers():
    """Both are computed by numpy sorts (pandas' grouping held the GIL for seconds at 10M events); the
    numbers are pandas' groupby median and mean, to the bit for the medians."""
    import numpy as np
    import pandas as pd

    from journey_explorer.analysis.stuck import _medians_by_event_and_path, path_repeats
    rng = np.random.default_rng(7)
    event, path = rng.integers(0, 6, 5_000).astype(np.int32), rng.integers(0, 300, 5_000).astype(np.int32)
    wait = rng.exponential(50, 5_000).round(3)
    expected = pd.DataFrame({"event": event, "path": path, "wait": wait}).groupby(
        ["event", "path"], sort=True)["wait"].median().reset_index()
    pd.testing.assert_frame_equal(_medians_by_event_and_path(event, path, wait).to_frame(), expected)
    waits_ms = rng.integers(0, 10 ** 9, 5_000)             # integer waits take the packed sort
    expected = pd.DataFrame({"event": event, "path": path, "wait": waits_ms}).groupby(
        ["event", "path"], sort=True)["wait"].median().reset_index()
    pd.testing.assert_frame_equal(_medians_by_event_and_path(event, path, waits_ms).to_frame(), expected)
    times = np.sort(rng.integers(0, 30 * 86_400_000, 3_000))
    log = EventLog.from_frame(pd.DataFrame({"user": rng.integers(0, 40, 3_000).astype(str),
                                            "event": rng.choice(list("abcde"), 3_000), "time": times}))
    repeats = path_repeats(log).to_frame()
    visit = np.cumsum(np.append(True, log.session[1:] != log.session[:-1]))
    per_visit = pd.DataFrame({"visit": visit, "event": log.event, "path": log.user}).groupby(
        ["visit", "event", "path"]).size().rename("count").reset_index()
    length = per_visit.groupby("visit")["count"].transform("sum")
    share = per_visit.groupby("event")["count"].transform("sum") / per_visit["count"].sum()
    per_visit["relative"] = per_visit["count"] / (1 + (length - 1) * share)
    means = per_visit.groupby(["event", "path"], sort=True)[["count", "relative"]].mean().reset_index()
    assert repeats[["event", "path"]].to_numpy().tolist() == means[["event", "path"]].to_numpy().tolist()
    np.testing.assert_allclose(repeats[["count", "relative"]].to_numpy(), means[["count", "relative"]].to_numpy())


def test_expected_exits_are_the_chance_of_a_random_visit_end_counted_by_hand():
    """Per failing path and event: 1 - prod over its visits of (1 - c / L) (c of the visit's L steps on the
    event), summed per event; computed here with pandas' grouping, row by row, on a random log."""
    rng = np.random.default_rng(11)
    times = np.sort(rng.integers(0, 20 * 86_400_000, 4_000))
    log = EventLog.from_frame(pd.DataFrame({"user": rng.integers(0, 60, 4_000).astype(str),
                                            "event": rng.choice(list("abcdef"), 4_000), "time": times}))
    failing_user = rng.random(log.n_users) < 0.6
    expected, per_event = stuck.expected_exits(log, failing_user, len(log.event_names))
    rows = pd.DataFrame({"visit": log.session, "user": log.user, "event": log.event})
    rows = rows[failing_user[log.user]]
    rows["length"] = rows.groupby("visit")["event"].transform("size")
    pairs = rows.groupby(["visit", "user", "event"]).agg(c=("length", "size"), length=("length", "first")).reset_index()
    pairs["stay"] = 1 - pairs["c"] / pairs["length"]
    per_path = 1 - pairs.groupby(["user", "event"])["stay"].prod()
    by_hand = per_path.groupby(level="event").sum().reindex(range(len(log.event_names)), fill_value=0.0)
    np.testing.assert_allclose(expected, by_hand.to_numpy(), rtol=1e-12)
    for code in range(len(log.event_names)):
        np.testing.assert_allclose(np.sort(per_event[code]), np.sort(per_path.xs(code, level="event").to_numpy()),
                                   rtol=1e-12)


def test_a_task_the_worker_has_not_started_is_taken_back_and_run_here():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from journey_explorer.analysis.stuck import _results_taking_back
    started, release = threading.Event(), threading.Event()

    def busy():
        started.set()
        release.wait(5)
        return "worker"

    def queued():
        release.set()           # the worker can only finish once this ran somewhere else
        return threading.current_thread().name

    with ThreadPoolExecutor(1, thread_name_prefix="stuck") as pool:
        tasks = [(pool.submit(busy), busy), (pool.submit(queued), queued)]
        started.wait(5)
        assert _results_taking_back(tasks) == ["worker", threading.current_thread().name]
        assert tasks[1][0].cancelled()


class _IdleWorkerPool:
    """A pool whose worker never starts anything: every task is taken back and run by the caller."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, call, *args):
        from concurrent.futures import Future
        return Future()


@pytest.mark.parametrize("per", ["user", "session"])
def test_the_table_is_the_same_when_this_thread_takes_back_every_task(monkeypatch, per):
    from tests.analysis.shop import shop_frame
    frame = shop_frame(1500, 3)
    # A failure outcome ending the failing paths: ``only`` leaves it out of the table, not out of the dwell times.
    last = frame.sort_values("time").groupby("user").tail(1)
    failing = last[~last["user"].isin(frame.loc[frame["event"] == "purchase", "user"])]
    frame = pd.concat([frame, failing.assign(event="order_cancelled", time=failing["time"] + 1)], ignore_index=True)
    log = apply_filter(EventLog.from_frame(frame), CommonFilter(by=per))
    spec = stuck.Spec(goal="purchase")
    expected = stuck.run(log, spec).table
    monkeypatch.setattr(stuck, "ThreadPoolExecutor", _IdleWorkerPool)
    taken_back = stuck.run(log, spec).table
    pd.testing.assert_frame_equal(taken_back, expected)
    assert taken_back["repeat_p"].notna().any() == (per == "user")
