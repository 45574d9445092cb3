"""Events sent on a schedule (a monthly renewal) are not the user coming back: built logs whose
retention and lifecycle are known by construction."""
from __future__ import annotations

import numpy as np
import pandas as pd

from journey_explorer.analysis import automatic, lifecycle, retention
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
HOUR = 3_600_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z, a Monday


def subscription_log(users: int = 200, weeks: int = 20) -> EventLog:
    """Every user installs on day 0-6 and is renewed by the server every 30 days, alone; one user in
    four also opens the app and plays a track every week (at a time of day that varies)."""
    rng = np.random.default_rng(7)
    rows = []
    for u in range(users):
        start = MONDAY + (u % 7) * DAY + int(rng.integers(0, 12)) * HOUR
        rows += [(f"u{u}", "install", start), (f"u{u}", "play", start + 60_000)]
        rows += [(f"u{u}", "renewed", start + k * 30 * DAY + 3 * HOUR) for k in range(1, weeks * 7 // 30 + 1)]
        if u % 4 == 0:
            for week in range(1, weeks):
                t = start + week * 7 * DAY + int(rng.integers(0, 10)) * HOUR
                rows += [(f"u{u}", "open", t), (f"u{u}", "play", t + 60_000)]
    rows.append(("last", "install", MONDAY + weeks * 7 * DAY))     # the data run to the end of the last week
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_a_monthly_server_event_is_found_as_scheduled_and_a_weekly_habit_is_not():
    found = automatic.automatic_events(subscription_log())
    assert [event.name for event in found] == ["renewed"]
    assert round(found[0].interval_days) == 30 and found[0].on_schedule == 1.0 and found[0].alone == 1.0


def test_retention_does_not_count_a_renewal_as_coming_back():
    log = subscription_log()
    result = retention.run(log, retention.Spec(period="week"))
    share = dict(zip(result.curve["period"], result.curve["share"]))
    # Only the weekly quarter comes back, every week: no peak in week 4 (days 28-34, the renewal at day 30).
    assert abs(share[1] - 0.25) < 0.01 and abs(share[4] - 0.25) < 0.01
    assert [event.name for event in result.scheduled] == ["renewed"]
    assert "Not counted as coming back: renewed (every 30 days for each user" in result.readout
    counted = retention.run(log, retention.Spec(period="week", count_scheduled=True))
    assert dict(zip(counted.curve["period"], counted.curve["share"]))[4] == 1.0   # everybody "back" in week 4


def test_the_lifecycle_does_not_count_a_renewal_as_activity():
    log = subscription_log()
    table = lifecycle.run(log, lifecycle.Spec(period="week")).table
    counted = lifecycle.run(log, lifecycle.Spec(period="week", count_scheduled=True)).table
    # Week 6 holds no renewal (days 35-41 after the Monday start: renewals fall on days 30-36 and 60-66).
    assert table["active"].iloc[1:].max() <= 51 + 1           # the weekly quarter (50 users; 'last' at the end)
    assert counted["active"].max() > 150                      # the renewal weeks, counted


def test_in_a_log_of_one_event_per_visit_being_alone_tells_nothing():
    # Every event is alone here (one per visit), the weekly "use" on the dot included: not taken
    # for a scheduled event, it stays a return.
    rows = [(f"u{i}", "start", MONDAY) for i in range(40)]
    rows += [(f"u{i}", "use", MONDAY + week * 7 * DAY + DAY) for i in range(40) for week in range(1, 10)]
    assert automatic.automatic_events(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))) == []


def test_the_note_names_the_window_s_control_not_a_flag():
    note = retention.run(subscription_log(), retention.Spec(period="week")).readout
    assert "'Count scheduled events'" in note and "--" not in note
