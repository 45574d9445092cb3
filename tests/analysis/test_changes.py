"""What changed: series numbers checked by hand, change windows found (or not) on built logs."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from journey_explorer.analysis import change_scan, change_series, changes
from journey_explorer.analysis.common import CommonFilter, apply_filter
from journey_explorer.domain import ChoiceError, JourneyError, UnknownEvent
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
HOUR = 3_600_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z, a Monday


def make_log(rows, goal=None, session=False):
    columns = ["user", "event", "time"] + (["session"] if session else [])
    return EventLog.from_frame(pd.DataFrame(rows, columns=columns), default_goal=goal)


def shop(weeks=20, per_week=100, window=(8, 11), during=0.25, before=0.6, step=False, noise=0.0, seed=1):
    """Visitors; 70% put something in the cart; ``before`` of those pay. In weeks [window) (or from
    window[0] on with ``step``), only ``during`` pay and 60% see an error. ``noise`` moves the weekly
    pay rate (sd), as real weeks do."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        rate = float(np.clip(before + rng.normal(0, noise), 0.05, 0.95)) if noise else before
        hit = window is not None and (window[0] <= week < window[1] or (step and week >= window[0]))
        for i in range(per_week):
            user, t = f"u{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 7 * DAY - HOUR))
            rows.append((user, "visit", t))
            if rng.random() < 0.7:
                rows.append((user, "cart", t + 60_000))
                if hit and rng.random() < 0.6:
                    rows.append((user, "error", t + 90_000))
                if rng.random() < (during if hit else rate):
                    rows.append((user, "pay", t + 120_000))
            if rng.random() < 0.5:
                rows.append((user, "help", t + 200_000))
    return make_log(rows, goal="pay")


# --- periods and series, by hand ------------------------------------------------------------------


def test_weeks_start_on_monday_and_mostly_empty_edge_weeks_are_left_out():
    # Data from Saturday 2024-01-06 (2 of 7 days: left out) to Tuesday 2024-03-05 (2 days: left out).
    periods = change_series.choose_periods(MONDAY + 5 * DAY, MONDAY + 64 * DAY)
    assert periods.unit == "week"
    assert periods.dates()[0] == "2024-01-08" and periods.dates()[-1] == "2024-02-26" and periods.count == 8
    assert periods.index(np.array([MONDAY + 5 * DAY, MONDAY + 7 * DAY, MONDAY + 14 * DAY - 1])).tolist() == [-1, 0, 0]


def test_short_ranges_use_days():
    periods = change_series.choose_periods(MONDAY, MONDAY + 20 * DAY + 13 * HOUR)
    assert periods.unit == "day" and periods.count == 21          # the last day is covered for 13 h of 24
    assert change_series.choose_periods(MONDAY, MONDAY + 20 * DAY + 11 * HOUR).count == 20
    with pytest.raises(ChoiceError, match="Period must be week, day or auto, not 'month'") as refused:
        change_series.choose_periods(MONDAY, MONDAY + DAY, "month")
    assert refused.value.option == "period" and refused.value.value == "month"


def test_weekly_counts_are_sums_of_daily_ones():
    log = shop(weeks=8)
    periods = change_series.choose_periods(int(log.ts.min()), int(log.ts.max()), "week")
    daily, weekly = change_series.SeriesSet(), change_series.SeriesSet()
    change_series.rate_series(log, periods.days().index(log.ts), periods.days().count, daily)
    change_series.rate_series(log, periods.index(log.ts), periods.count, weekly)
    summed = daily.coarsen(7)
    assert summed.kind == weekly.kind and summed.source == weekly.source
    for a, b in zip(summed.x + summed.n, weekly.x + weekly.n):
        assert a.tolist() == b.tolist()


def test_thin_first_and_last_periods_are_left_out():
    # Day 0: 1 path; days 1-3: 8 paths each; day 4: 1 path. Median 8: a quarter is 2.
    rows = [("first", "x", 0), ("last", "x", 4 * DAY)]
    rows += [(f"p{d}-{i}", "x", d * DAY + i) for d in (1, 2, 3) for i in range(8)]
    log = make_log([(u, e, MONDAY + t) for u, e, t in rows])
    periods = change_series.Periods("day", MONDAY + np.arange(6) * DAY)
    kept, head, tail = change_series.trim_thin_edges(periods, log)
    assert (kept.count, head, tail) == (3, 1, 1) and kept.dates()[0] == "2024-01-02"
    note = changes._left_out(head, tail, "day")
    assert note == (" The first day and the last day hold fewer than a quarter of the usual active paths "
                    "(the data starting or ending) and are left out.")


def test_series_numbers_by_hand():
    # Two days (daily periods): day 0 has a: x→y, b: x→x→y; day 1 has c: x→z, d: x (ends).
    rows = [("a", "x", 0), ("a", "y", 1000), ("b", "x", 0), ("b", "x", 2000), ("b", "y", 3000),
            ("c", "x", DAY), ("c", "z", DAY + 1000), ("d", "x", DAY + 5000)]
    log = make_log([(u, e, MONDAY + t) for u, e, t in rows])
    periods = change_series.Periods("day", np.array([MONDAY, MONDAY + DAY, MONDAY + 2 * DAY]))
    period = periods.index(log.ts)
    out = change_series.SeriesSet()
    change_series.rate_series(log, period, periods.count, out)
    change_series.share_series(log, period, periods.count, out)
    change_series.set_rate_scales(out)
    by = {(k, s): (x.tolist(), n.tolist()) for k, s, x, n in zip(out.kind, out.source, out.x, out.n)}
    assert by[("rate", "x")] == ([3, 2], [5, 3])          # 3 of 5 events on day 0, 2 of 3 on day 1
    assert by[("share", "x")] == ([2, 2], [2, 2])         # every active path did x
    assert by[("share", "y")] == ([2, 0], [2, 2])
    assert by[("new", "(new paths)")] == ([2, 2], [2, 2])  # a, b start on day 0; c, d on day 1
    assert out.impact_scale[out.kind.index("rate")] == pytest.approx(5 / 4)    # x: 5 events by 4 path-days
    # Transitions: the gaps after x are 1 s, 2 s, 1 s, 1 s (b's x→x included); the 99th percentile
    # (1.97 s) censors only d's x, 0 s before the end of the data.
    trans = change_series.SeriesSet()
    change_series.transition_series(log, period, periods.count, trans, with_end=True, min_count=1, limit=50)
    got = {label: (x.tolist(), n.tolist()) for label, x, n in
           zip((trans.label(i) for i in range(len(trans))), trans.x, trans.n)}
    assert got["x → y"] == ([2, 0], [3, 1])               # day 0: 2 of 3 x events go to y; day 1: 0 of 1
    assert got["x → x"] == ([1, 0], [3, 1])
    assert got["x → z"] == ([0, 1], [3, 1])
    assert got["y → (path ended)"] == ([2, 0], [2, 0])


def test_funnel_series_counts_paths_by_the_time_they_reached_the_step():
    rows = [("a", "visit", 0), ("a", "pay", 1000),            # day 0, converts in 1 s
            ("b", "visit", 10), ("c", "visit", DAY),          # b: day 0, no; c: day 1, no
            ("d", "visit", DAY + 5), ("d", "pay", DAY + 3000),  # day 1, converts in ~3 s
            ("e", "visit", 2 * DAY - 100)]                    # 0.1 s before the end: censored
    log = make_log([(u, e, MONDAY + t) for u, e, t in rows])
    periods = change_series.Periods("day", np.array([MONDAY, MONDAY + DAY, MONDAY + 2 * DAY]))
    out = change_series.SeriesSet()
    change_series.funnel_series(log, periods.index, periods.count, ["visit", "pay"], out)
    assert out.kind == ["funnel"] and out.label(0) == "visit → pay"
    assert out.x[0].tolist() == [1, 1] and out.n[0].tolist() == [2, 2]


# --- the scan, by hand ----------------------------------------------------------------------------


def test_scan_finds_a_window_and_its_statistic_matches_a_hand_computed_likelihood_ratio():
    n = np.full((1, 10), 100)
    x = np.array([[50, 50, 50, 50, 10, 10, 10, 50, 50, 50]])
    result = change_scan.scan(x, n, change_scan.Support())
    assert (result.start[0], result.end[0]) == (4, 7)
    # Inside 30 of 300, outside 350 of 700, overall 380 of 1000; binomial noise only (dispersion 1).
    def ll(k, m):
        return k * np.log(k / m) + (m - k) * np.log(1 - k / m)
    expected = 2 * (ll(30, 300) + ll(350, 700) - ll(380, 1000))
    assert result.dispersion[0] == 1.0
    assert result.statistic[0] == pytest.approx(expected)
    # F(1, 10 - 2) on the statistic, times the 21 windows with at least four periods before them.
    from scipy import stats
    assert result.windows == 21
    assert result.p_value[0] == pytest.approx(stats.f.sf(expected, 1, 8) * 21) and result.p_value[0] < 1e-4


def test_scan_divides_by_overdispersion():
    n = np.full((1, 12), 200)
    x = np.array([[100, 60, 140, 70, 130, 100, 30, 30, 30, 100, 60, 140]])      # noisy weeks, then a dip
    result = change_scan.scan(x, n, change_scan.Support())
    assert result.dispersion[0] > 1.0


def test_scan_needs_periods_trials_impact_and_size():
    support = change_scan.Support()
    flat = change_scan.scan(np.full((1, 10), 50), np.full((1, 10), 100), support)
    assert flat.start[0] == -1 and flat.p_value[0] == 1.0 and flat.tested[0]
    short = change_scan.scan(np.array([[50, 50, 10, 10, 10]]), np.full((1, 5), 100), support)
    assert not short.tested[0] and short.start[0] == -1               # five periods: no trend from that
    tiny = change_scan.scan(np.array([[2, 2, 2, 2, 0, 0, 2, 2]]), np.full((1, 8), 4), support)
    assert tiny.start[0] == -1                                        # a handful of paths
    drift = change_scan.scan(np.array([[40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62]]),
                             np.full((1, 12), 1000), support)
    assert drift.start[0] == -1                                       # a slow drift is not a step


# --- the whole analysis on built logs -------------------------------------------------------------


def test_a_recovering_outage_is_found_with_its_window_and_told_in_words():
    result = changes.run(shop(), changes.Spec())
    assert result.periods.unit == "week" and result.steps == ("visit", "cart", "pay")
    top = result.stories[0]
    lead = top["changes"][0]
    assert lead["kind"] == "funnel" and lead["label"] == "cart → pay"
    assert (lead["start"], lead["last_day"], lead["recovered"]) == ("2024-02-26", "2024-03-17", True)
    assert top["evidence"] == {"before": {"since": "2024-01-01", "until": "2024-02-26"},
                               "during": {"since": "2024-02-26", "until": "2024-03-18"},
                               "after": {"since": "2024-03-18", "until": "2024-05-20"}}
    assert top["compare_args"] == ["--period-a", "2024-01-01..2024-02-26", "--period-b", "2024-02-26..2024-03-18"]
    assert lead["evidence"] == top["evidence"]
    # The numbers in the words are the counts of the series, recomputed here from the rows.
    series = pd.DataFrame({"x": lead["series"]["count"], "n": lead["series"]["trials"]})
    before = series["x"][:8].sum() / series["n"][:8].sum()
    during = series["x"][8:11].sum() / series["n"][8:11].sum()
    assert lead["before"] == pytest.approx(before) and lead["during"] == pytest.approx(during)
    assert lead["impact"] == pytest.approx(series["x"][8:11].sum() - series["n"][8:11].sum() * before, abs=0.1)
    from journey_explorer.analysis.narrative import pct
    assert top["text"].startswith(f"From 2024-02-26 to 2024-03-17, cart → pay per user fell from {pct(before)} "
                                  f"to {pct(during)} ({series['n'][8:11].sum()} users reached cart; "
                                  f"{round(abs(lead['impact']))} fewer went on than at the earlier rate)")
    # The error spike is part of the same story, said with its rate per 1,000 events.
    kinds = {(c["kind"], c["label"]) for c in top["changes"]}
    assert ("rate", "error") in kinds and ("transition", "cart → error") in kinds
    assert "error rose from 0 to" in top["text"] and "per 1k events" in top["text"]
    assert "Afterwards it was" in top["text"]
    assert len(result.stories) == 1                 # nothing else changed


def test_a_step_change_has_no_end():
    result = changes.run(shop(step=True), changes.Spec())
    lead = result.stories[0]["changes"][0]
    assert lead["label"] == "cart → pay" and lead["start"] == "2024-02-26" and not lead["recovered"]
    assert result.stories[0]["evidence"]["after"] is None
    assert result.stories[0]["text"].startswith("Since 2024-02-26, cart → pay per user fell")
    assert "had not recovered" in result.stories[0]["text"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flat_noisy_series_give_no_finding(seed):
    result = changes.run(shop(window=None, noise=0.06, seed=seed), changes.Spec())
    assert result.stories == [] and result.changes.empty
    assert result.series_tested > 10 and "None of" in result.note


def test_a_tiny_sample_gives_no_finding_even_with_a_real_drop():
    result = changes.run(shop(per_week=6), changes.Spec())
    assert result.stories == []


def test_two_weeks_are_too_little_history():
    log = shop(weeks=2)
    result = changes.run(log, changes.Spec(period="week"))
    assert result.stories == [] and result.note == "2 weeks of data: at least 6 are needed to tell a change from noise."


def test_per_session_paths_say_sessions():
    rows = []
    rng = np.random.default_rng(4)
    for week in range(16):
        for i in range(60):
            for visit in range(2):                    # each user has two sessions a week
                t = MONDAY + week * 7 * DAY + visit * 2 * DAY + int(rng.integers(0, DAY))
                sid = f"{i}-{week}-{visit}"
                rows += [(f"u{i}", "cart", t, sid)]
                if rng.random() < (0.2 if 6 <= week < 9 else 0.7):
                    rows.append((f"u{i}", "pay", t + 60_000, sid))
    log = apply_filter(make_log(rows, goal="pay", session=True), CommonFilter(by="session"))
    result = changes.run(log, changes.Spec(paths="session", steps=("cart", "pay")))
    top = result.stories[0]
    assert top["changes"][0]["label"] == "cart → pay" and top["changes"][0]["unit"] == "sessions"
    assert "cart → pay per session fell" in top["text"] and "sessions reached cart" in top["text"]


def test_json_and_frame():
    result = changes.run(shop(), changes.Spec())
    document = json.loads(json.dumps(result.to_json_dict()))
    assert document["period"] == "week" and len(document["periods"]) == 20
    assert document["stories"][0]["changes"][0]["series"]["periods"][0] == "2024-01-01"
    frame = result.to_frame()
    assert {"story", "kind", "label", "before", "during", "impact", "q_value", "start", "end"} <= set(frame.columns)
    assert (frame["q_value"] <= 0.05).all() and frame["story"].iloc[0] == 1
    chart = result.series_frame(int(result.changes["series"].iloc[0]))
    assert list(chart.columns) == ["period", "count", "trials", "value"] and len(chart) == 20


def test_unknown_goal_and_empty_log_are_named():
    with pytest.raises(UnknownEvent, match="No event named 'paid'"):
        changes.run(shop(weeks=6), changes.Spec(goal="paid"))
    empty = make_log([("a", "x", MONDAY)])
    from journey_explorer.analysis.common import subset
    with pytest.raises(JourneyError, match="no events"):
        changes.run(subset(empty, np.zeros(1, dtype=bool)), changes.Spec())


def test_report_finding_tells_the_top_story_or_why_there_is_none():
    finding = changes.what_changed(shop(), "pay")
    assert finding.title.startswith("What changed: cart → pay fell from")
    assert "2024-02-26" in finding.title and "error rose from 0 to" in finding.observation
    assert finding.view == "changes" and finding.spec.goal == "pay" and finding.spec.period == "week"
    quiet = changes.what_changed(shop(window=None, noise=0.06), "pay")
    assert quiet.title == "No significant change over time"
    assert "none moved beyond its usual ups and downs" in quiet.observation
    short = changes.what_changed(apply_filter(shop(weeks=1), CommonFilter(until="2024-01-05")), "pay")
    assert short.title == "Too little history to tell what changed"


def test_an_event_renamed_in_the_tracking_plan_is_called_so():
    rng = np.random.default_rng(5)
    rows = []
    for week in range(16):
        for i in range(80):
            user, t = f"u{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 6 * DAY))
            rows.append((user, "visit", t))
            if rng.random() < 0.5:
                rows.append((user, "invite_teammate" if week < 8 else "Invite Teammates", t + 1000))
    # Hygiene is sure of this rename: What changed counts the two names as one and says so.
    merged = changes.run(make_log(rows), changes.Spec())
    assert merged.stories == [] and "Counted as one event here: invite_teammate, renamed Invite Teammates" in merged.note
    # Not merged (hygiene unsure, or asked not to), the story itself calls it a rename.
    result = changes.run(make_log(rows), changes.Spec(merge_renames=False))
    texts = " ".join(story["text"] for story in result.stories)
    assert ("invite_teammate all but stopped and Invite Teammates appeared in the same weeks: this looks like "
            "an event renamed in the tracking plan") in texts
    renamed = [story for story in result.stories if story["renamed"]]
    assert renamed and renamed[0]["renamed"] == ["invite_teammate", "Invite Teammates"]
    # Told among the further stories of the report, the rename says so after its headline
    assert changes._also(renamed[0]).endswith(": likely invite_teammate renamed Invite Teammates in the tracking plan.")


def test_a_change_that_moves_with_the_share_of_new_paths_says_so():
    # 200 regulars log in every week; 100 newcomers a week sign up, only 10 a week from week 8 on.
    rng = np.random.default_rng(6)
    rows = []
    for week in range(16):
        for i in range(200):
            rows.append((f"r{i}", "login", MONDAY + week * 7 * DAY + int(rng.integers(0, 6 * DAY))))
        for i in range(100 if week < 8 else 10):
            t = MONDAY + week * 7 * DAY + int(rng.integers(0, 6 * DAY))
            rows += [(f"n{week}-{i}", "signup", t), (f"n{week}-{i}", "login", t + 1000)]
    result = changes.run(make_log(rows), changes.Spec())
    top = result.stories[0]
    assert top["changes"][0]["kind"] != "new" and top["window"]["since"] == "2024-02-26"
    assert any(c["kind"] == "new" for c in top["changes"])
    assert "so this may follow who was active rather than a change in what they did" in top["text"]


def test_weekly_windows_are_placed_on_the_days_they_began_and_ended():
    # An outage from Wednesday 2024-02-28 to Friday 2024-03-15 (inclusive), 40 carts a day.
    rng = np.random.default_rng(8)
    first, last = (pd.Timestamp(d, tz="UTC").value // 1_000_000 for d in ("2024-02-28", "2024-03-16"))
    rows = []
    for day in range(16 * 7):
        for i in range(40):
            user, t = f"u{day}-{i}", MONDAY + day * DAY + int(rng.integers(0, DAY - HOUR))
            down = first <= t < last
            rows.append((user, "cart", t))
            if down and rng.random() < 0.6:
                rows.append((user, "error", t + 1000))
            if rng.random() < (0.2 if down else 0.6):
                rows.append((user, "pay", t + 2000))
    result = changes.run(make_log(rows, goal="pay"), changes.Spec())
    assert result.periods.unit == "week"
    top = result.stories[0]
    assert top["changes"][0]["label"] == "cart → pay"
    assert (top["window"]["since"], top["window"]["last_day"]) == ("2024-02-28", "2024-03-15")
    assert top["evidence"]["during"] == {"since": "2024-02-28", "until": "2024-03-16"}
    # The numbers are measured on those days: users whose cart fell in the window, and how many paid.
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    carts = frame[frame["event"] == "cart"].set_index("user")["time"]
    paid = carts.index.isin(frame.loc[frame["event"] == "pay", "user"])
    inside = (carts >= first) & (carts < last)
    during = paid[inside.to_numpy()].mean()
    assert top["changes"][0]["during"] == pytest.approx(during)
    from journey_explorer.analysis.narrative import pct
    assert top["text"].startswith(f"From 2024-02-28 to 2024-03-15, cart → pay per user fell from "
                                  f"{pct(top['changes'][0]['before'])} to {pct(during)} ({int(inside.sum())} users")


def test_docstring_examples():
    import doctest
    for module in (change_scan, change_series, changes):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_measure_by_hand_and_a_series_whose_data_stop_early():
    periods = change_series.Periods("day", MONDAY + np.arange(9) * DAY)
    x, n = np.array([5, 5, 5, 5, 1, 1, 0, 0]), np.array([10, 10, 10, 10, 10, 10, 0, 0])
    got = changes.measure("funnel", x, n, 4, 8, periods, scale=1.0)
    assert (got["start"], got["last_day"], got["recovered"]) == ("2024-01-05", "2024-01-08", False)
    assert got["before"] == 0.5 and got["during"] == 0.1 and np.isnan(got["after"])
    assert got["expected_during"] == 10.0 and got["impact"] == -8.0          # 2 of 20 against 50%
    assert got["data_ends"] == "2024-01-06"                                  # nothing after Saturday
    rate = changes.measure("rate", x, n, 4, 6, periods, scale=2.0)
    assert rate["before"] == 500.0 and rate["during"] == 100.0 and rate["impact_paths"] == -4.0


def test_a_transition_is_censored_for_at_most_a_week_near_the_end():
    # Every week 10 users do x → y a minute apart; in the first week 2 of them come back 30 days later
    # (x → z across visits), so the 99th percentile gap after x is about 30 days. Censoring is capped at
    # a week: week 6 (three weeks before the data end) still counts its x events.
    rows = []
    for week in range(10):
        for u in range(10):
            user, start = f"w{week}u{u}", MONDAY + week * 7 * DAY + u * HOUR
            rows += [(user, "x", start), (user, "y", start + 60_000)]
            if week == 0 and u < 2:
                rows += [(user, "x", start + 2 * DAY), (user, "z", start + 32 * DAY)]
    log = make_log(rows)
    periods = change_series.Periods("week", MONDAY + np.arange(10) * 7 * DAY)
    trans = change_series.SeriesSet()
    change_series.transition_series(log, periods.index(log.ts), periods.count, trans, with_end=False,
                                    min_count=1, limit=50)
    n = trans.n[[trans.label(i) for i in range(len(trans))].index("x → y")]
    assert n[6] == 10            # uncapped, the ~30-day percentile would censor weeks 5 to 9


def test_a_monthly_transition_is_censored_for_its_own_month_near_the_end():
    # Every user renews every 28 days (a server event); odd users open the app an hour after each
    # renewal. The data end on day 130: a renewal after day 102 cannot show its next one, so from
    # week 14 (days 98-104) on renew → renew is not measured (no trials), though renew → open is.
    end = MONDAY + 130 * DAY
    rows = []
    for u in range(40):
        for k in range(10):
            renewal = MONDAY + (u % 7) * DAY + k * 28 * DAY
            rows += [(f"u{u}", "renew", renewal)] + ([(f"u{u}", "open", renewal + HOUR)] if u % 2 else [])
    rows += [(f"v{day}", "visit", MONDAY + day * DAY) for day in range(131)]   # other users, every day
    log = make_log([row for row in rows if row[2] <= end])
    periods = change_series.Periods("week", MONDAY + np.arange(18) * 7 * DAY)
    trans = change_series.SeriesSet()
    change_series.transition_series(log, periods.index(log.ts), periods.count, trans, with_end=False,
                                    min_count=1, limit=50)
    labels = [trans.label(i) for i in range(len(trans))]
    renew_again, renew_open = trans.n[labels.index("renew → renew")], trans.n[labels.index("renew → open")]
    assert renew_again[14:].sum() == 0 and renew_again[:14].sum() > 0     # the last month cannot repeat
    assert renew_open[16] > 0                                             # an hour's step is measured
    # Outside the censored month the rate is the true one: half the renewals go straight on to the next.
    x = trans.x[labels.index("renew → renew")]
    assert x[:14].sum() / renew_again[:14].sum() == pytest.approx(0.5, abs=0.05)


def test_a_change_followed_only_by_the_last_week_is_not_called_recovered():
    # Paying falls from week 8 and stays low to week 18; only the last week (19) is back at the earlier
    # rate, as an end-censored last week can be: the last week alone tells no recovery.
    result = changes.run(shop(window=(8, 19)), changes.Spec())
    lead = result.stories[0]["changes"][0]
    assert lead["label"] == "cart → pay" and lead["start"] == "2024-02-26"
    assert not lead["recovered"] and lead["recovery"] == "unknown"
    assert result.stories[0]["evidence"]["after"] is None
    text = result.stories[0]["text"]
    assert "Afterwards" not in text and "Too little data follows 2024-05-12 to tell whether it recovered." in text
    assert result.stories[0]["headline"].endswith("(since 2024-02-26)")


def test_a_change_is_recovered_when_two_weeks_after_it_are_back():
    result = changes.run(shop(window=(8, 18)), changes.Spec())
    lead = result.stories[0]["changes"][0]
    assert lead["recovered"] and lead["recovery"] == "recovered"
    # The rate after: weeks 18 and 19, recomputed from the counts.
    x, n = np.array(lead["series"]["count"]), np.array(lead["series"]["trials"])
    assert lead["after"] == pytest.approx(x[18:].sum() / n[18:].sum())
    assert f"Afterwards it was {changes._value(lead['after'], 'funnel')} again." in result.stories[0]["text"]


def _login_log(seed=4):
    """20 weeks x 40 visitors a day: login (95% succeed) then pay (30%; 45% from week 12 on). From day 40
    to day 42 the login is down: 5% succeed."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(140):
        for i in range(40):
            user, t = f"u{day}-{i}", MONDAY + day * DAY + i * 1_800_000
            rows.append((user, "login", t))
            if rng.random() >= (0.05 if 40 <= day < 43 else 0.95):
                rows.append((user, "login_failed", t + 1000))
                continue
            rows.append((user, "login_ok", t + 1000))
            if rng.random() < (0.45 if day >= 84 else 0.3):
                rows.append((user, "pay", t + 60_000))
    return make_log(rows, goal="pay")


def test_a_step_almost_everyone_passed_failing_for_days_leads_though_a_lasting_gain_gained_more():
    result = changes.run(_login_log(), changes.Spec())
    gain = next(story for story in result.stories if story["changes"][0]["label"] == "login_ok → pay")
    outage = result.stories[0]
    lead = outage["changes"][0]
    assert lead["label"].startswith("login → login_") and lead["recovered"]
    assert (lead["start"], lead["last_day"]) == ("2024-02-10", "2024-02-12")
    assert lead["before"] >= changes.OUTAGE_BEFORE and lead["during"] <= changes.OUTAGE_KEPT * lead["before"]
    # Ranked by paths alone the gain (about 8 weeks x 266 x 15%) would lead the three days' outage.
    assert abs(gain["impact_paths"]) > abs(outage["impact_paths"])
    assert [change["rank"] for story in result.stories for change in story["changes"]] == \
        list(range(1, len(result.changes) + 1))


def test_a_window_after_which_the_rate_stays_away_from_before_is_dated_but_not_recovered():
    # Paying falls from 60% to 25% in weeks 8-10, then settles at 40%, short of the 60% before.
    periods = change_series.Periods("week", MONDAY + np.arange(21) * 7 * DAY)
    got = changes.measure("funnel", np.array([60] * 8 + [25] * 3 + [40] * 9), np.full(20, 100), 8, 11, periods, 1.0)
    assert (got["recovery"], got["recovered"], got["after"]) == ("not back", False, 0.4)
    members = pd.DataFrame([{**got, "kind": "funnel", "source": "cart", "target": "pay", "label": "cart → pay"}])
    text = changes.story_text(members, changes.Spec())
    assert text.startswith("From 2024-02-26 to 2024-03-17, cart → pay per user fell from 60% to 25%")
    assert text.endswith("Afterwards it was 40%, not back to 60%.")


def experiment_shop(extra_screen_costs: bool = False, weeks: int = 20, per_week: int = 200, seed: int = 3,
                    new_event: str = "tips"):
    """Visitors -> cart -> pay (60%). From week 8 half of the visitors (the treatment arm) see a new
    screen, tips, between visit and cart. ``extra_screen_costs``: the arm then pays at 30%."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        for i in range(per_week):
            user, t = f"u{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 7 * DAY - HOUR))
            treated = week >= 8 and i % 2 == 1
            rows.append((user, "visit", t))
            if treated:
                rows.append((user, new_event, t + 30_000))
            rows.append((user, "cart", t + 60_000))
            if rng.random() < (0.3 if treated and extra_screen_costs else 0.6):
                rows.append((user, "pay", t + 120_000))
    return make_log(rows, goal="pay")


def test_a_new_screen_the_goal_does_not_move_with_is_a_new_step_not_a_change():
    log = experiment_shop()
    result = changes.run(log, changes.Spec())
    top = result.stories[0]
    assert top["new_step"] == {"event": "tips"}
    assert {"visit → tips", "visit → cart"} <= {change["label"] for change in top["changes"]}
    assert "had not recovered" not in top["text"] and "It lasted to the end of the data." in top["text"]
    finding = changes.what_changed(log, "pay")
    assert (finding.view, finding.title) == ("", "No significant change towards pay")
    assert "tips is a new step; no step to pay moved with it" in finding.observation


def test_a_new_screen_that_costs_conversions_is_still_the_change():
    result = changes.run(experiment_shop(extra_screen_costs=True), changes.Spec())
    assert not any(story.get("new_step") for story in result.stories)
    assert changes.what_changed(experiment_shop(extra_screen_costs=True), "pay").view == "changes"


def renamed_shop(weeks: int = 20, per_week: int = 200, seed: int = 4):
    """visit -> cart -> checkout -> pay. The checkout step is tracked as checkout_start until week 6 and
    as begin_checkout from then on (a tracking-plan rename); from week 12 only 45% of carts go on to
    it instead of 70% (a shipping fee)."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        for i in range(per_week):
            user, t = f"u{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 7 * DAY - HOUR))
            rows += [(user, "visit", t), (user, "cart", t + 60_000)]
            if rng.random() < (0.45 if week >= 12 else 0.7):
                rows.append((user, "checkout_start" if week < 6 else "begin_checkout", t + 120_000))
                if rng.random() < 0.8:
                    rows.append((user, "pay", t + 180_000))
    return make_log(rows, goal="pay")


def test_a_tracking_rename_is_counted_as_one_event_so_a_later_drop_of_the_step_is_found():
    log = renamed_shop()
    result = changes.run(log, changes.Spec())
    assert [(r.old, r.new, r.day) for r in result.renames] == [("checkout_start", "begin_checkout", "2024-02-12")]
    top = result.stories[0]
    step = next(change for change in top["changes"] if change["label"] == "cart → begin_checkout")
    assert top["window"]["since"] == "2024-03-25" and step["before"] == pytest.approx(0.7, abs=0.03)
    assert "as cart → begin_checkout fell" in top["headline"]
    assert "Counted as one event here: checkout_start, renamed begin_checkout on 2024-02-12" in result.note
    # Without the merge the rename is the step's only window: the drop twelve weeks in names no step.
    unmerged = changes.run(log, changes.Spec(merge_renames=False))
    assert not any(change["label"] == "cart → begin_checkout" and change["before"] > 0.5
                   for story in unmerged.stories for change in story["changes"])


@pytest.mark.parametrize("failure", ["app_crash", "Kündigung", "Vertrag gekündigt", "Deleted Account"])
def test_a_new_crash_is_never_a_new_step(failure):
    # The same log as the new screen, but the new event is named as a failure (in any language, with
    # accents, spaces or capitals, as ``goals.is_failure_name`` reads names): an incident.
    result = changes.run(experiment_shop(new_event=failure), changes.Spec())
    assert result.stories and not any(story.get("new_step") for story in result.stories)


def cancel_shop(old_name_until: int = 0, weeks: int = 20, per_week: int = 200, seed: int = 5):
    """visit -> settings -> subscription_cancelled (40% of users, 15% from week 12 on: a retention
    offer). ``old_name_until``: cancellations are tracked as sub_cancel before this week."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        for i in range(per_week):
            user, t = f"u{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 7 * DAY - HOUR))
            rows += [(user, "visit", t), (user, "settings", t + 60_000)]
            if rng.random() < (0.15 if week >= 12 else 0.4):
                rows.append((user, "sub_cancel" if week < old_name_until else "subscription_cancelled",
                             t + 120_000))
    return make_log(rows, goal="subscription_cancelled")


def test_fewer_cancellations_last_rather_than_not_recover():
    # Settings -> cancel fell for good: for a goal to avoid that is a lasting change for the better,
    # not damage that "had not recovered".
    finding = changes.what_changed(cancel_shop(), "subscription_cancelled", unwanted=True)
    assert finding.title.startswith("What changed: settings → subscription_cancelled fell from 40% to 15%")
    assert "had not recovered" not in finding.observation
    assert "It lasted to the end of the data." in finding.observation
    assert finding.observation.endswith("Fewer users cancel: a change for the better.")
    # The same change into a goal to reach is still told as not recovered.
    result = changes.run(cancel_shop(), changes.Spec(goal="subscription_cancelled"))
    assert "It had not recovered by the end of the data." in result.stories[0]["text"]


def test_a_goal_renamed_in_the_tracking_plan_is_still_told_for_better_or_worse():
    # Asked by its old name, the goal is counted under its new one: the verdict names the change into it.
    log = cancel_shop(old_name_until=6)
    finding = changes.what_changed(log, "sub_cancel", unwanted=True)
    assert "Counted as one event here: sub_cancel, renamed subscription_cancelled" in finding.observation
    assert "Fewer users cancel: a change for the better." in finding.observation


def test_first_period_after_each_moment_is_the_first_with_a_later_event():
    """One sort for all the slow transitions' moments, as a pass over the log for each would find."""
    from journey_explorer.analysis.change_series import first_period_after
    rng = np.random.default_rng(4)
    for _ in range(30):
        ts = rng.integers(0, 100, rng.integers(0, 60))
        period = np.where(rng.random(len(ts)) < 0.2, -1, ts // 10)        # periods follow time; some outside
        moments = rng.uniform(-5, 105, 8)
        expected = [int(period[(ts > m) & (period >= 0)].min()) if ((ts > m) & (period >= 0)).any() else -1
                    for m in moments]
        assert first_period_after(ts, period, moments).tolist() == expected
