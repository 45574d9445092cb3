"""What changed: the goal's own outcome leads a story, told before the step that explains it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from journey_explorer.analysis import changes
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z, a Monday
METER_WEEK = 10                 # from this week on the paywall shows more often


def newspaper(weeks=20, per_week=1000, seed=3):
    """Readers (each active in one week) read an article; the paywall shows to 50% of them, 80% from
    ``METER_WEEK`` on (a lower article limit); 10% of those shown it subscribe, before and after."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        shown = 0.8 if week >= METER_WEEK else 0.5
        for i in range(per_week):
            user, t = f"r{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 6 * DAY))
            rows += [(user, "home", t), (user, "article", t + 60_000)]
            if rng.random() < shown:
                rows.append((user, "paywall", t + 120_000))
                if rng.random() < 0.1:
                    rows.append((user, "subscribe", t + 180_000))
            else:
                rows.append((user, "article", t + 150_000))
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]), default_goal="subscribe")


def test_the_goals_own_share_leads_ahead_of_the_step_that_moved_it():
    log = newspaper()
    frame = pd.DataFrame({"user": np.array(log.user_keys)[log.user], "event": np.array(log.event_names)[log.event],
                          "week": (log.ts - MONDAY) // (7 * DAY)})
    after = frame["week"] >= METER_WEEK
    # Hand count: of the readers active before (after) the change, the share who subscribed.
    def share(rows):
        return rows.loc[rows["event"] == "subscribe", "user"].nunique() / rows["user"].nunique()
    before_share, during_share = share(frame[~after]), share(frame[after])
    result = changes.run(log, changes.Spec(goal="subscribe", steps=("home", "article", "paywall", "subscribe")))
    top = result.stories[0]
    outcome, cause = top["changes"][:2]
    assert (outcome["kind"], outcome["source"]) == ("share", "subscribe")
    assert outcome["before"] == before_share and outcome["during"] == during_share
    assert cause["source"] == "article" and cause["target"] == "paywall"
    # The outcome with one decimal (5.0% -> 8.1% is not "5% -> 8%"), then the cause; the share is
    # counted per week but dated by the day its cause moved (the meter changed on a Monday).
    assert top["headline"].startswith(f"Users doing subscribe rose from {before_share:.1%} to {during_share:.1%}, "
                                      f"as article → paywall rose from ")
    assert top["headline"].endswith("(since 2024-03-11)")
    assert top["text"].startswith("Since 2024-03-11, the share of active users doing subscribe rose")


def test_a_conversion_into_the_goal_still_leads_its_outcome():
    # The shop's cart → pay fell: that step says what the share of payers says, and where.
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    from test_changes import shop
    top = changes.run(shop(), changes.Spec()).stories[0]
    assert top["changes"][0]["label"] == "cart → pay" and top["cause"] is None
    assert any(change["kind"] == "share" and change["source"] == "pay" for change in top["changes"])


def test_a_change_lasting_to_where_its_series_stops_says_so_not_that_the_data_end():
    lead = {"kind": "funnel", "source": "article", "target": "paywall", "label": "article → paywall",
            "before": 0.85, "during": 0.93, "after": float("nan"), "recovered": False, "recovery": "lasting",
            "data_ends": "2025-10-30", "start": "2025-10-06", "last_day": "2025-11-30", "impact": 363.0,
            "trials_during": 4382, "outcome": False, "on_days": True}
    text = changes.story_text(pd.DataFrame([lead]), changes.Spec(goal="subscribe", period="week"))
    assert "no data for it after" not in text
    assert text.endswith("It lasted to 2025-10-30, the last day measured (users reaching article after it are "
                         "too close to the end of the data to tell whether they went on).")


def order_extract(weeks=16, per_week=300, seed=5):
    """A case log: the orders created in ``weeks`` weeks, followed until they finish. Each order is
    approved in 3 days, 80% are paid in about three weeks and 40% cleared a week after: the same
    process every week, but the first weeks hold no payments yet (new orders) and the weeks after the
    last order hold nothing but payments (the extract draining)."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        for i in range(per_week):
            case, t = f"o{week}-{i}", MONDAY + week * 7 * DAY + int(rng.integers(0, 7 * DAY))
            rows += [(case, "create", t), (case, "approve", t + 3 * DAY)]
            if rng.random() < 0.8:
                paid = t + int(rng.integers(17, 25)) * DAY
                rows.append((case, "pay", paid))
                if rng.random() < 0.5:
                    rows.append((case, "clear", paid + 7 * DAY))
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]), default_goal="pay")


def test_a_case_extract_warming_up_and_draining_tells_no_change():
    result = changes.run(order_extract(), changes.Spec(goal="pay"))
    assert result.stories == []
    # Left out, and said: the weeks after the last order, and the first weeks for rates and shares.
    assert result.periods.dates()[-1] == "2024-04-15"         # the last week orders were created in
    assert "leave out the first 4 weeks" in result.note and "are left out" in result.note


def test_an_event_that_did_not_exist_before_is_told_as_a_launch():
    # From Wednesday 2024-03-13 buyers can make an offer: half of those with a cart do, and the
    # cart -> pay step rises from 40% to 70%.
    rng = np.random.default_rng(11)
    launch = MONDAY + (7 * METER_WEEK + 2) * DAY
    rows = []
    for day in range(20 * 7):
        for i in range(60):
            user, t = f"b{day}-{i}", MONDAY + day * DAY + int(rng.integers(0, DAY - 600_000))
            rows += [(user, "visit", t), (user, "cart", t + 60_000)]
            offers = t >= launch and rng.random() < 0.5
            if offers:
                rows.append((user, "offer", t + 90_000))
            if rng.random() < (0.7 if t >= launch else 0.4):
                rows.append((user, "pay", t + 120_000))
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]), default_goal="pay")
    top = changes.run(log, changes.Spec(goal="pay", steps=("visit", "cart", "pay"))).stories[0]
    assert top["launched"] == {"event": "offer", "day": "2024-03-13"}
    assert top["headline"].startswith("offer launched on 2024-03-13: ")
    assert top["text"].startswith("offer is new: it was not recorded before 2024-03-13, so this looks like a launch.")


def test_a_new_error_that_lasts_is_not_a_launch():
    # The shop's error appears from week 8 and stays, while cart -> pay falls: a break, not a feature.
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent))
    from test_changes import shop
    top = changes.run(shop(step=True), changes.Spec()).stories[0]
    assert "launched" not in top and "error" in {change["target"] for change in top["changes"]}
    assert top["headline"].startswith("cart → pay fell from")


def test_a_lasting_outcome_lasts_rather_than_not_recovering():
    top = changes.run(newspaper(), changes.Spec(goal="subscribe", steps=("home", "article", "paywall", "subscribe"))
                      ).stories[0]
    assert "It lasted to the end of the data." in top["text"] and "recovered" not in top["text"]


def test_a_web_log_losing_most_new_users_at_its_end_is_not_draining():
    """New users fall to 40% in the last three weeks (a broken tag, an outage): a change to tell, not
    the end of a case extract (there nobody new starts)."""
    import pandas as pd

    from journey_explorer.analysis import change_series
    from journey_explorer.eventlog import EventLog
    day = 86_400_000
    rows = [(f"u{u}", "view", int((u % 84) * day + u)) for u in range(8400) if u % 84 < 63 or u % 5 < 2]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    weeks = change_series.choose_periods(int(log.ts.min()), int(log.ts.max()), "week")
    assert change_series.trim_draining_tail(weeks, log)[1] == 0
