"""The lifecycle headline after a season of arrivals compares the base with its level before the season."""
from __future__ import annotations

import pandas as pd

from journey_explorer.analysis import narrative
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01T00:00:00Z, a Monday


def season_log(season_new: int = 300) -> EventLog:
    """100 new users a week for 14 weeks, ``season_new`` a week in weeks 8-10; each user is active in
    the week they arrive and the next one."""
    rows = []
    for week in range(14):
        for i in range(season_new if 8 <= week <= 10 else 100):
            user = f"w{week}-{i}"
            rows += [(user, "visit", MONDAY + week * 7 * DAY + (i % 5) * DAY),
                     (user, "visit", MONDAY + (week + 1) * 7 * DAY + (i % 5) * DAY)]
    rows.append(("last", "visit", MONDAY + 14 * 7 * DAY - 1))      # the data end with week 13
    frame = pd.DataFrame(rows, columns=["user", "event", "time"])
    return EventLog.from_frame(frame[frame["time"] < MONDAY + 14 * 7 * DAY])


def test_after_a_season_of_arrivals_the_base_is_settling_not_shrinking():
    finding = narrative.lifecycle_finding(season_log(), "visit")
    # Week 8 (2024-02-26) is the first of the peak; weeks 11-13 lose its 300 a week.
    assert finding.title.startswith("The active base is settling after the peak of the week of 2024-02-26")
    assert "New users peaked in the week of 2024-02-26 (300, 3.0x the usual 100)" in finding.observation
    assert "still above its level before the peak (200 a week)" in finding.observation


def test_without_a_season_the_headline_is_unchanged():
    finding = narrative.lifecycle_finding(season_log(season_new=100), "visit")
    assert "peak" not in finding.title and "peak" not in finding.observation
