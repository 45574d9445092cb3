"""Stuck points on a hand-checked log."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import stuck
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.domain import JourneyError

ROWS = [  # a and b pay; c and d loop on connect and leave; e leaves after home
    ("a", "home", 0), ("a", "connect", 60_000), ("a", "pay", 120_000),
    ("b", "home", 0), ("b", "connect", 10_000), ("b", "error", 20_000), ("b", "connect", 30_000), ("b", "pay", 40_000),
    ("c", "home", 0), ("c", "connect", 600_000), ("c", "connect", 700_000),
    ("d", "home", 0), ("d", "connect", 10_000), ("d", "error", 20_000), ("d", "connect", 30_000),
    ("e", "home", 0),
]


def test_hand_checked_stuck_table():
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    result = stuck.run(log, stuck.Spec(goal="pay"))
    table = result.table.set_index("event")
    assert (result.paths, result.successful) == (5, 2)
    assert table.loc["connect", "users"] == 4 and table.loc["connect", "ended_without_goal"] == 2
    assert table.loc["connect", "exit_rate"] == 0.5 and table.loc["home", "exit_rate"] == 0.2
    # loops: b (bounce), c (repeat), d (bounce) of 4 connect users; failing c, d: 2 of 2; successful b: 1 of 2
    assert table.loc["connect", "loop_rate"] == 0.75
    assert (table.loc["connect", "loop_rate_failing"], table.loc["connect", "loop_rate_successful"]) == (1.0, 0.5)
    # dwell after connect: a 60 s, b 10 s and 10 s, c 100 s, d 10 s -> median 10; successful: 60, 10, 10 -> 10
    assert table.loc["connect", "dwell_median_seconds"] == 10.0
    assert "pay" not in table.index
    # baseline = (1 + 2 + 0) ended / (5 + 4 + 2) reached over home, connect, error
    assert result.baseline_exit_rate == pytest.approx(3 / 11)
    assert result.table.iloc[0]["event"] == "connect"
    unstuck = result.unstuck[0]
    shares = {n["event"]: (n["successful_share"], n["failing_share"]) for n in unstuck["next"]}
    assert shares["pay"] == (1.0, 0.0) and shares["error"] == (0.5, 0.5)


def test_needs_a_goal():
    log = EventLog.from_frame(pd.DataFrame(ROWS, columns=["user", "event", "time"]))
    with pytest.raises(JourneyError, match="goal"):
        stuck.run(log, stuck.Spec())
