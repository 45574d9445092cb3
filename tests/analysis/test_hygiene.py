"""Tracking-plan hygiene: each signal on a small hand-built log whose answer is known by construction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journey_explorer.analysis import funnel, hygiene
from journey_explorer.analysis.hygiene_names import SAME, UNRELATED, candidate_name_pairs, name_key, name_match
from journey_explorer.analysis.hygiene_pairs import PairFacts, neighbour_similarity
from journey_explorer.analysis.hygiene_volume import daily_volume
from journey_explorer.eventlog import EventLog, PropertyColumn

DAY = 86_400_000
MINUTE = 60_000
START = 1_767_225_600_000            # 2026-01-01T00:00:00Z
NOW = START + 400 * DAY


def journeys(users: int = 300, days: int = 60, action=lambda u, day: "invite", seed: int = 1,
             extra=None) -> pd.DataFrame:
    """One session per user on a day spread over ``days``: visit -> signup -> (action) -> setup ->
    (pay). ``action(user, day)`` names the middle step (None: skipped). Sorted by (user, time)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        day = int(u * days / users)
        t = START + day * DAY + int(rng.integers(0, 12 * 60)) * MINUTE
        steps = ["visit", "signup", action(u, day), "setup"] + (["pay"] if u % 3 else [])
        if extra:
            steps = extra(u, day, steps)
        for step in steps:
            if step is not None:
                rows.append((f"u{u:04d}", step, t))
                t += int(rng.integers(61, 300)) * 1000          # 1-5 minutes, to the second
    return pd.DataFrame(rows, columns=["user", "event", "time"])


def log_of(frame: pd.DataFrame, **kwargs) -> EventLog:
    return EventLog.from_frame(frame, **kwargs)


def run(log: EventLog, **spec) -> hygiene.Result:
    return hygiene.run(log, hygiene.Spec(now_ms=NOW, **spec))


def date(day: int) -> str:
    return pd.Timestamp(START + day * DAY, unit="ms").date().isoformat()


# --- names --------------------------------------------------------------------------------------


def test_names_equal_after_case_separators_plurals_and_word_order():
    assert name_key("invite_teammate") == name_key("Invite Teammates") == name_key("teammate_invited")
    assert name_key("inviteTeammate") == name_key("invite-teammates")
    assert name_match("page_view", "page_views") == SAME
    assert name_match("page_view", "PageViews") == SAME
    assert name_match("add_to_cart", "remove_from_cart") == UNRELATED
    assert name_match("sign_up", "sign_in") == UNRELATED


def test_the_name_indexes_find_exactly_the_pairs_a_full_comparison_finds():
    import itertools
    import random
    rng = random.Random(3)
    parts = ["view", "click", "invite", "share", "export", "page", "teammate", "cart", "order", "a", "b", "1", "2"]
    names = sorted({"_".join(rng.sample(parts, rng.randint(1, 3))) for _ in range(150)})
    names += ["recieve_order", "receive_order", "pageView", "page_views", "Release A", "Release B"]
    full = {(i, j): m for i, j in itertools.combinations(range(len(names)), 2)
            if (m := name_match(names[i], names[j])) != UNRELATED}
    assert candidate_name_pairs(names) == full
    found = {(names[i], names[j]) for i, j in full}
    assert ("recieve_order", "receive_order") in found and ("Release A", "Release B") not in found


# --- suggested merges -----------------------------------------------------------------------------


def test_a_rename_at_a_date_is_suggested_with_the_date_and_the_new_name():
    frame = journeys(action=lambda u, day: "invite_teammate" if day < 30 else "Invite Teammates")
    result = run(log_of(frame))
    top = result.suggestions[0]
    assert set(top.names) == {"invite_teammate", "Invite Teammates"}
    assert top.target == "Invite Teammates"          # the name in use now
    assert top.confidence >= hygiene.HIGH and top.level == "high"
    pair = top.pairs[0]
    assert pair.switch_day == date(30)
    assert any(date(30) in line and "rename" in line for line in top.evidence)
    assert pair.signals["same_session_share"] == 0
    assert pair.signals["neighbour_similarity"] == pytest.approx(1.0)
    assert top.seen == {"invite_teammate": (date(0), date(29)), "Invite Teammates": (date(30), date(59))}
    assert top.events == {"invite_teammate": 150, "Invite Teammates": 150}
    # The stop and the start on that day are listed, and said to be the rename.
    stops = [b for b in result.breakages if b.kind == "stops"]
    assert [b.events for b in stops] == [("invite_teammate",)] and stops[0].first == date(30)
    assert stops[0].numbers["explained_by"] == top.key
    assert {b.events for b in result.breakages if b.kind == "starts"} == {("Invite Teammates",)}


def test_a_rename_to_an_unrelated_name_is_found_by_behaviour_alone():
    frame = journeys(action=lambda u, day: "teammate_invite" if day < 30 else "colleague_added")
    top = run(log_of(frame)).suggestions[0]
    assert set(top.names) == {"teammate_invite", "colleague_added"}
    assert top.pairs[0].match == UNRELATED and top.pairs[0].switch_day == date(30)
    assert 0.5 <= top.confidence < 0.99


def test_names_alone_give_medium_confidence_only_when_behaviour_is_too_thin_to_judge():
    rows = [("a", "visit", START), ("a", "Export", START + MINUTE), ("b", "visit", START + 2 * MINUTE),
            ("b", "exports", START + 3 * MINUTE)]
    result = run(log_of(pd.DataFrame(rows, columns=["user", "event", "time"])))
    top = result.suggestions[0]
    assert set(top.names) == {"Export", "exports"} and top.level == "medium"
    assert 0.5 <= top.confidence < hygiene.HIGH


def test_similar_names_with_different_behaviour_are_not_one_action():
    # Everyone adds to cart; a third then removes it: same sessions, different neighbours.
    def steps(u, day, base):
        return ["visit", "add_to_cart", "remove_from_cart", "view", "Export", "exports"] if u % 3 == 0 \
            else ["visit", "add_to_cart", "Export", "pay", "exports"]
    result = run(log_of(journeys(extra=steps)))
    assert result.suggestions == []
    export = next(p for p in result.considered if {p.a, p.b} == {"Export", "exports"})
    assert export.match == SAME and export.confidence < 0.5     # same name key, but always together
    assert export.signals["same_session_share"] == 1.0


def test_concurrent_twins_on_the_same_path_are_suggested_without_a_date():
    # Half the users' app says page_view, the other half's page_views, all the time.
    frame = journeys(action=lambda u, day: "page_view" if u % 2 else "page_views")
    top = run(log_of(frame)).suggestions[0]
    assert set(top.names) == {"page_view", "page_views"} and top.level == "high"
    assert top.pairs[0].switch_day is None


def test_alternatives_that_exclude_each_other_are_not_merged():
    # Release A or Release B: same neighbours, never together, all the time: a branch, not a rename.
    frame = journeys(action=lambda u, day: "Release A" if u % 2 else "Release B")
    log = log_of(frame)
    assert run(log).suggestions == []
    facts = PairFacts(log, daily_volume(log))
    assert (log.event_code("Release A"), log.event_code("Release B")) in facts.candidates()   # behaviour alike
    a, b = log.event_code("Release A"), log.event_code("Release B")
    assert neighbour_similarity(facts.pred, facts.succ, a, b, 20) == pytest.approx(1.0)
    assert facts.together[a, b] == 0
    pair = facts.judge(a, b, UNRELATED)
    assert pair.confidence <= 0.4 and not pair.structural


def platform_log(with_property: bool = True, names=("share_ios", "share_android")) -> EventLog:
    """share_ios only on iOS, share_android only on Android; every other event on both."""
    frame = journeys(action=lambda u, day: names[0] if u % 2 else names[1])
    platform = np.where(frame["user"].str[-1].astype(int) % 2 == 1, "ios", "android")
    log = log_of(frame)        # without the column: EventLog.from_frame makes every extra column a property
    assert (log.user_keys[log.user] == frame["user"].to_numpy()).all()    # frame already in log order
    if not with_property:
        return log
    frame["platform"] = platform
    values, codes = np.unique(frame["platform"], return_inverse=True)
    return EventLog(**{**log.__dict__, "event_properties": {
        "platform": PropertyColumn(codes.astype(np.int32), values.astype(object))}})


def test_two_platform_specific_names_are_suggested_by_the_platform_split():
    top = run(platform_log()).suggestions[0]
    assert set(top.names) == {"share_ios", "share_android"}
    assert top.pairs[0].signals["platform"]["property"] == "platform"
    assert any("platform=ios" in line and "platform=android" in line for line in top.evidence)
    # Without the property the same behaviour is an alternative, not evidence enough.
    assert run(platform_log(with_property=False)).suggestions == []


def test_two_unrelated_platform_only_prompts_are_not_one_action():
    # The iOS tracking-consent prompt and the Android notification prompt: same place in the flow,
    # one system each, but the names say two different actions (their words apart from the system's).
    log = platform_log(names=("att_prompt_shown", "notification_permission_shown"))
    assert run(log).suggestions == []


def test_groups_join_three_spellings_and_dismissed_ones_are_left_out():
    names = ["invite_teammate", "Invite Teammates", "teammate_invited"]
    frame = journeys(action=lambda u, day: names[min(day // 20, 2)])
    result = run(log_of(frame))
    top = result.suggestions[0]
    assert set(top.names) == set(names) and top.target == "teammate_invited"
    assert run(log_of(frame), dismissed=(top.key,)).suggestions == []


# --- broken tracking ------------------------------------------------------------------------------


def test_an_event_that_stops_is_found_with_its_day_but_the_end_of_the_log_is_not():
    # ... and one straggler on day 70 does not turn the stop into a gap.
    frame = journeys(users=400, days=80, extra=lambda u, day, s: s + (["search"] if day < 50 or u == 350 else []))
    result = run(log_of(frame))
    assert not [b for b in result.breakages if b.kind == "gap"]
    stops = [b for b in result.breakages if b.kind == "stops"]
    assert [b.events for b in stops] == [("search",)]
    assert stops[0].first == date(50) and stops[0].count == 1
    # Expected: search's share of the events of paths of the same age, times their volume after day 50.
    # Every first event (visit, age 0) is in the first age bucket, every later one (1-30 min) in the next.
    later = frame[frame["event"] != "visit"]
    share = (later["event"] == "search").mean()
    assert stops[0].numbers["expected"] == pytest.approx(share * (later["time"] >= START + 50 * DAY).sum(),
                                                         abs=0.1)
    assert not [b for b in result.breakages if b.kind == "starts"]


def test_an_event_missing_for_ten_days_is_a_gap_with_its_dates():
    frame = journeys(users=400, days=80, extra=lambda u, day, s: s + (["search"] if not 20 <= day < 30 else []))
    result = run(log_of(frame))
    (gap,) = [b for b in result.breakages if b.kind == "gap"]
    assert gap.events == ("search",) and (gap.first, gap.last) == (date(20), date(29))
    assert gap.numbers["days"] == 10 and gap.numbers["expected"] >= 30
    assert not [b for b in result.breakages if b.kind in ("stops", "starts")]


def test_an_event_seen_only_in_a_stretch_is_a_burst_not_tracking_to_fix():
    # "error" only from day 40 to day 54 (an outage): a burst, explained (What changed tells it). "chat"
    # starts on day 40 and stays: a real start, still to look at. "search" stops for good on day 55, the
    # day the burst ends: a coincidence does not excuse lost tracking.
    frame = journeys(users=600, days=90, extra=lambda u, day, s: s + (["error"] if 40 <= day < 55 else [])
                     + (["chat"] if day >= 40 and u % 3 == 0 else []) + (["search"] if day < 55 else []))
    result = run(log_of(frame))
    (burst,) = [b for b in result.breakages if b.kind == "burst"]
    assert burst.events == ("error",) and (burst.first, burst.last) == (date(40), date(54))
    assert burst.numbers["outside"] == 0 and burst.numbers["inside"] == (frame["event"] == "error").sum()
    assert "explained_by" in burst.numbers
    (chat,) = [b for b in result.breakages if b.kind == "starts"]
    assert chat.events == ("chat",) and "explained_by" not in chat.numbers
    (search,) = [b for b in result.breakages if b.kind == "stops"]
    assert search.events == ("search",) and search.first == date(55) and "explained_by" not in search.numbers
    # Told apart: the faults to fix, then what is explained (not counted as broken)
    assert sorted(b.events for b in result.broken) == [("chat",), ("search",)]
    assert [b.events for b in result.explained] == [("error",)]
    text = hygiene.describe(result)
    assert "Broken tracking (2):" in text and "Explained, not broken (1):" in text
    assert text.index("Explained, not broken") > text.index(search.message)


def test_errors_that_begin_on_a_day_and_stay_are_a_failure_not_tracking_to_fix():
    # "sdk_error" from day 40 on, for a third of the users (a release that broke payments): explained,
    # said as errors that began then; "chat" starts the same way on day 60 and is still a start to look at.
    frame = journeys(users=600, days=90, extra=lambda u, day, s: s + (["sdk_error"] if day >= 40 and u % 3 == 0 else [])
                     + (["chat"] if day >= 60 and u % 3 == 1 else []))
    result = run(log_of(frame))
    starts = {b.events: b for b in result.breakages if b.kind == "starts"}
    assert set(starts) == {("sdk_error",), ("chat",)}
    assert starts[("sdk_error",)].explained and "errors that began then" in starts[("sdk_error",)].message
    assert not starts[("chat",)].explained and "tracking added late" in starts[("chat",)].message


def test_a_step_that_stops_weeks_before_another_begins_is_no_rename():
    # "invite" until day 30; nothing in its place for three weeks; "referral" from day 50 in the same spot.
    # Each is all on its side of any day between: only a switch over a day is a rename.
    frame = journeys(users=900, days=90, action=lambda u, day: "invite" if day < 30 else None if day < 50 else "referral")
    result = run(log_of(frame))
    assert not [s for s in result.suggestions if {"invite", "referral"} <= set(s.names)]
    renamed = journeys(users=900, days=90, action=lambda u, day: "invite" if day < 30 else "referral")
    assert [s.names for s in run(log_of(renamed)).suggestions] == [("referral", "invite")]
    over_a_day = journeys(users=2700, days=90, action=lambda u, day: "invite" if day < 30 else None if day < 31
                          else "referral")         # a release day without either: still a rename
    assert [s.names for s in run(log_of(over_a_day)).suggestions] == [("referral", "invite")]


def test_a_long_stretch_is_not_a_burst():
    # Renamed twice: v2 lives from day 20 to day 69 of 90, more than a third of the log: a start and a stop.
    frame = journeys(users=600, days=90, action=lambda u, day: "v1" if day < 20 else "v2" if day < 70 else "v3")
    kinds = {b.kind for b in run(log_of(frame)).breakages if "v2" in b.events}
    assert "burst" not in kinds and {"starts", "stops"} <= kinds


def test_a_step_late_in_paths_is_not_an_event_that_starts():
    # Renewals come 30 days after signing up, so the log's first month has none: not a breakage.
    def renew(u, day, steps):
        return steps
    frame = journeys(users=400, days=90)
    renewals = frame[frame["event"] == "pay"].assign(event="renew", time=lambda f: f["time"] + 30 * DAY)
    frame = pd.concat([frame, renewals]).sort_values(["user", "time"], kind="stable")
    assert not [b for b in run(log_of(frame)).breakages if b.kind in ("starts", "stops")]


def test_double_firing_counts_the_extra_copies():
    frame = journeys(users=200)
    setup = frame[(frame["event"] == "setup") & (frame["user"] < "u0040")]
    copies = pd.concat([setup, setup.assign(time=setup["time"] + 300)])   # 2 extra copies, same second
    frame = pd.concat([frame, copies]).sort_values(["user", "time"], kind="stable")
    doubles = [b for b in run(log_of(frame)).breakages if b.kind == "double_firing"]
    assert len(doubles) == 1 and doubles[0].events == ("setup",)
    assert doubles[0].count == 80 and doubles[0].numbers["users"] == 40
    assert doubles[0].numbers["max_in_one_second"] == 3
    assert doubles[0].numbers["share"] == pytest.approx(80 / 280, abs=1e-4)
    assert ", 40 users, up to 3 in one second" in doubles[0].message


def test_double_firing_for_one_user_says_one_user():
    frame = journeys(users=200)
    setup = frame[(frame["event"] == "setup") & (frame["user"] == "u0001")]
    copies = pd.concat([setup.assign(time=setup["time"] + k * 30) for k in range(1, 26)])   # 25 in one second
    frame = pd.concat([frame, copies]).sort_values(["user", "time"], kind="stable")
    doubles = [b for b in run(log_of(frame)).breakages if b.kind == "double_firing"]
    assert doubles and doubles[0].numbers["users"] == 1 and ", 1 user, up to" in doubles[0].message


def test_users_with_impossible_counts_and_bad_timestamps():
    frame = journeys(users=200)
    bot = pd.DataFrame({"user": "bot", "event": "visit", "time": START + np.arange(3000) * 1500})
    early = pd.DataFrame({"user": ["u0001"], "event": ["visit"], "time": [0]})
    future = pd.DataFrame({"user": ["u0002"], "event": ["pay"], "time": [NOW + DAY]})
    result = run(log_of(pd.concat([frame, bot, early, future])))
    kinds = {b.kind: b for b in result.breakages}
    assert kinds["outlier_users"].count == 1 and kinds["outlier_users"].numbers["top"] == ["bot"]
    assert kinds["outlier_sessions"].count == 1 and kinds["outlier_sessions"].numbers["max"] == 3000
    assert kinds["too_early"].count == 1 and kinds["too_early"].first == "1970-01-01"
    assert kinds["too_early"].numbers["at_epoch_zero"] == 1
    assert kinds["future"].count == 1 and kinds["future"].first == pd.Timestamp(NOW + DAY, unit="ms").date().isoformat()


def test_same_looking_names_firing_together_are_one_action_tracked_twice():
    # Every signup is sent twice, by the app (signup) and by the server (Sign Ups), 200 ms apart.
    frame = journeys(users=200)
    signup = frame[frame["event"] == "signup"]
    frame = pd.concat([frame, signup.assign(event="Sign Ups", time=signup["time"] + 200)])
    result = run(log_of(frame.sort_values(["user", "time"], kind="stable")))
    assert result.suggestions == []                                     # not a merge: it would count double
    (twin,) = [b for b in result.breakages if b.kind == "twin_firing"]
    assert set(twin.events) == {"signup", "Sign Ups"} and twin.count == 200 and twin.numbers["share"] == 1.0


def test_double_firing_is_not_judged_on_times_recorded_to_the_minute():
    frame = journeys(users=100)
    frame["time"] = frame["time"] // MINUTE * MINUTE
    result = run(log_of(pd.concat([frame, frame[frame["event"] == "setup"]])))
    assert not [b for b in result.breakages if b.kind == "double_firing"]
    assert any("to the minute" in note for note in result.notes)


def test_a_log_lying_mostly_after_the_clock_is_not_called_broken():
    log = log_of(journeys(users=100))
    result = hygiene.run(log, hygiene.Spec(now_ms=START + 10 * DAY))      # 5/6 of the log is "future"
    assert not [b for b in result.breakages if b.kind == "future"]
    assert any("after this computer's clock" in note for note in result.notes)
    few = hygiene.run(log, hygiene.Spec(now_ms=START + 58 * DAY))         # the last days: a few
    assert [b.kind for b in few.breakages] == ["future"]


def test_a_clean_log_has_nothing_to_report():
    result = run(log_of(journeys(users=300)))
    assert result.suggestions == [] and result.breakages == []


# --- the report's finding -------------------------------------------------------------------------


def test_tracking_finding_states_the_funnel_before_and_after_merging():
    frame = journeys(action=lambda u, day: "invite_teammate" if day < 30 else "Invite Teammates")
    log = log_of(frame)
    finding = hygiene.tracking_finding(log, "pay", hygiene.Spec(now_ms=NOW))
    assert finding.title == "invite_teammate and Invite Teammates look like one action"
    # Independently: the funnel through the kept name, counted before and after the merge.
    merged = hygiene.merge_names(log, ["invite_teammate", "Invite Teammates"], "Invite Teammates")
    steps = ("visit", "signup", "Invite Teammates", "setup", "pay")
    shares = [funnel.run(one, funnel.Spec(steps=steps, window_ms=None)).table["users"] for one in (log, merged)]
    before, after = (s.iloc[-1] / s.iloc[0] for s in shares)
    assert f"from {before:.0%} to {after:.0%}" in finding.observation
    assert before < after
    assert finding.view == "funnel" and finding.spec.steps == steps      # charted as tracked today


def test_no_tracking_slide_for_a_clean_log():
    assert hygiene.tracking_finding(log_of(journeys()), "pay", hygiene.Spec(now_ms=NOW)) is None


def test_the_workshop_report_ends_with_the_tracking_finding_only_when_there_is_one():
    from journey_explorer.analysis import narrative
    from journey_explorer.export.report import report_questions
    renamed = log_of(journeys(action=lambda u, day: "invite_teammate" if day < 30 else "Invite Teammates"))
    findings = narrative.workshop_findings(renamed, "pay", report_questions())
    assert findings[-1].title == "invite_teammate and Invite Teammates look like one action"
    assert findings[-1].view == "funnel"
    clean = narrative.workshop_findings(log_of(journeys()), "pay", report_questions())
    assert len(clean) == len(findings) - 1 and "one action" not in clean[-1].title


def test_the_demos_planted_pair_is_the_top_suggestion():
    from journey_explorer.demo import TRACKING_PLAN_CHANGE, generate_demo
    events = generate_demo(n_users=1500).events
    top = run(log_of(events[["user", "event", "time"]])).suggestions[0]
    assert set(top.names) == {"invite_teammate", "Invite Teammates"} and top.target == "Invite Teammates"
    assert top.level == "high"
    assert top.pairs[0].switch_day == TRACKING_PLAN_CHANGE.date().isoformat()


def _purchases(revenue_on) -> EventLog:
    """60 days, 20 users a day: view then buy; buy carries revenue unless ``revenue_on(day, user)`` is
    False. Half the users are on android."""
    rows = []
    for day in range(60):
        for n in range(20):
            t = day * DAY + n * 60_000
            platform = "android" if n % 2 else "ios"
            revenue = 10.0 if revenue_on(day, n) else None
            rows += [(f"u{day}-{n}", "view", t, platform, None), (f"u{day}-{n}", "buy", t + 1000, platform, revenue)]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "platform", "revenue"]))


def test_an_event_that_stops_carrying_a_property_on_one_platform_is_broken_tracking():
    log = _purchases(lambda day, n: day < 30 or n % 2 == 0)      # from day 30, android's buys have no revenue
    found = [b for b in hygiene.run(log).broken if b.kind == "property_stops"]
    assert [(b.events, b.first, b.count) for b in found] == [(("buy", "revenue"), "1970-01-31", 300)]
    assert found[0].message == ("buy stopped carrying revenue on 1970-01-31: 100% of its events had it before, "
                                "50% since (300 events without it; 100% of those on platform = android)")


def test_a_property_missing_more_and_more_towards_the_end_is_not_called_broken():
    # Records still open at the extraction lack their end: fewer and fewer carry it over the last 20 days.
    log = _purchases(lambda day, n: day < 40 or n < 20 * (60 - day) / 20)
    assert not [b for b in hygiene.run(log).broken if b.kind == "property_stops"]


def test_a_stray_far_timestamp_does_not_stretch_the_property_check():
    """One row dated 40 years after the rest (a default date) is left out of the calendar, as the
    volume checks leave it out: the dropped revenue is still found, over the log's own 60 days."""
    log = _purchases(lambda day, n: day < 30 or n % 2 == 0)
    frame = pd.DataFrame({"user": log.user_keys[log.user], "event": np.asarray(log.event_names)[log.event],
                          "time": log.ts, "platform": log.event_properties["platform"].values[
                              log.event_properties["platform"].codes],
                          "revenue": [log.event_properties["revenue"].value_at(i) for i in range(len(log))]})
    stray = pd.DataFrame([("late", "view", 40 * 365 * DAY, "ios", None)], columns=frame.columns)
    result = hygiene.run(EventLog.from_frame(pd.concat([frame, stray], ignore_index=True)), hygiene.Spec(now_ms=10**14))
    found = [b for b in result.broken if b.kind == "property_stops"]
    assert [(b.events, b.first, b.count) for b in found] == [(("buy", "revenue"), "1970-01-31", 300)]


def case_extract(cases: int = 1200, created_days: int = 60, ship_tracked_until: int | None = None) -> pd.DataFrame:
    """An order-to-cash extract: orders created over ``created_days`` days (none after: the extract's
    cut), each created -> approved -> shipped -> invoiced, days apart, a third reminded 20-30 days
    after the invoice. ``ship_tracked_until``: from that day on "ship" is no longer logged."""
    rng = np.random.default_rng(7)
    rows = []
    for case in range(cases):
        t = START + int(case * created_days * DAY / cases)
        for step, (low, high) in (("create", (0, 0)), ("approve", (1, 3)), ("ship", (2, 5)), ("invoice", (1, 2)),
                                  ("remind", (20, 30))):
            if step == "remind" and case % 3:
                continue
            t += int(rng.uniform(low, high) * DAY)
            if step != "ship" or ship_tracked_until is None or t < START + ship_tracked_until * DAY:
                rows.append((f"c{case:05d}", step, t))
    return pd.DataFrame(rows, columns=["user", "event", "time"])


def test_steps_that_drain_out_of_a_case_extract_or_wait_for_their_lag_are_no_tracking_problem():
    # No order is created after day 60: approve, ship and invoice run out days later, as the open cases
    # finish; reminders come weeks after the first invoices. The flow explains each: nothing to fix.
    result = run(log_of(case_extract()))
    edges = [b for b in result.breakages if b.kind in ("stops", "starts")]
    assert len({name for b in edges for name in b.events} - {"remind"}) >= 2     # steps that run out
    assert all(b.numbers["explained_by"] == "flow" for b in edges) and not result.broken
    (remind,) = [b for b in edges if b.events == ("remind",)]
    assert remind.kind == "starts" and remind.numbers["lead_ins"] == {"invoice": 1.0}


def test_a_step_that_stops_while_the_steps_leading_into_it_go_on_is_still_broken():
    # "ship" is no longer logged from day 30 while orders are still approved: tracking lost.
    result = run(log_of(case_extract(ship_tracked_until=30)))
    (ship,) = [b for b in result.broken if "ship" in b.events]
    assert ship.kind == "stops" and ship.first == date(30)


def arm_log(with_arm: bool = True) -> EventLog:
    """From day 30 an experiment: odd users (arm = treatment) see an extra screen, goals, after
    signup; every event from day 30 carries its user's arm, none before."""
    frame = journeys(days=60, users=600, extra=lambda u, day, steps: (
        steps[:2] + ["goals"] + steps[2:] if day >= 30 and u % 2 else steps))
    if with_arm:
        day = (frame["time"] - START) // DAY
        odd = frame["user"].str[-1].astype(int) % 2 == 1
        frame["arm"] = np.where(day >= 30, np.where(odd, "treatment", "control"), None)
    return log_of(frame)


def test_a_screen_that_starts_with_an_experiment_arm_is_a_launch_not_tracking_to_fix():
    result = run(arm_log())
    assert not any("goals" in b.events for b in result.broken)
    launch = next(b for b in result.explained if b.events == ("goals",))
    assert launch.numbers["explained_by"] == "launch" and launch.numbers["value"] == "treatment"
    assert "arm = treatment" in launch.message and date(30) in launch.message
    # Without the arm the same start is tracking added late, or a new feature: to check.
    assert any(b.events == ("goals",) for b in run(arm_log(with_arm=False)).broken)


def test_a_property_renamed_on_several_events_is_one_finding():
    # pay and setup carry pay_method until day 30 and payment_method from then on.
    frame = journeys(days=60, users=600)
    day = (frame["time"] - START) // DAY
    carrying = frame["event"].isin(["pay", "setup"])
    frame["pay_method"] = np.where(carrying & (day < 30), "card", None)
    frame["payment_method"] = np.where(carrying & (day >= 30), "card", None)
    broken = run(log_of(frame)).broken
    assert [b.kind for b in broken] == ["property_renamed"]
    assert broken[0].numbers["events"] == ["setup", "pay"] and broken[0].first == date(30)
    assert broken[0].message.startswith(f"property pay_method renamed payment_method on {date(30)}: setup, pay")
