"""Compare with two periods as its groups (--period-a / --period-b)."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import compare
from journey_explorer.cli.arguments import cli_message
from journey_explorer.domain import JourneyError, OptionError
from journey_explorer.eventlog import EventLog

DAY = 86_400_000
MONDAY = 1704067200000          # 2024-01-01


def test_parse_period_is_start_inclusive_end_exclusive_and_open_ended():
    assert compare.parse_period("2024-01-01..2024-01-08") == (MONDAY, MONDAY + 7 * DAY)
    assert compare.parse_period("2024-01-08..") == (MONDAY + 7 * DAY, None)
    with pytest.raises(JourneyError, match="START..END"):
        compare.parse_period("2024-01-01")
    with pytest.raises(JourneyError, match="ends before it starts"):
        compare.parse_period("2024-01-08..2024-01-01")


def test_each_period_holds_its_active_paths_with_their_events_in_it():
    # Week 1: a and b visit, a errors. Week 2: a and c visit, c errors twice... a is in both groups.
    rows = [("a", "visit", 0), ("a", "error", 1000), ("b", "visit", DAY),
            ("a", "visit", 7 * DAY), ("c", "visit", 8 * DAY), ("c", "error", 8 * DAY + 1),
            ("c", "error", 8 * DAY + 2)]
    log = EventLog.from_frame(pd.DataFrame([(u, e, MONDAY + t) for u, e, t in rows],
                                           columns=["user", "event", "time"]))
    spec = compare.Spec(period_a="2024-01-01..2024-01-08", period_b="2024-01-08..2024-01-15")
    result = compare.run(log, spec)
    assert result.labels == ("period 2024-01-01..2024-01-08", "period 2024-01-08..2024-01-15")
    assert result.group_sizes == (2, 2)                     # a, b in week 1; a, c in week 2
    error = result.events.set_index("event").loc["error"]
    assert (error["users_a"], error["users_b"]) == (1, 1)   # a's error was in week 1 only
    visit_error = result.transitions.set_index("transition").loc["visit → error"]
    assert (visit_error["users_a"], visit_error["users_b"]) == (1, 1)
    error_error = result.transitions.set_index("transition").loc["error → error"]
    assert (error_error["users_a"], error_error["users_b"]) == (0, 1)


def test_both_periods_are_needed():
    log = EventLog.from_frame(pd.DataFrame([("a", "x", MONDAY)], columns=["user", "event", "time"]))
    with pytest.raises(OptionError, match="needs both periods: period B is missing") as refused:
        compare.run(log, compare.Spec(period_a="2024-01-01..2024-01-08"))
    assert cli_message(refused.value) == "Compare by periods needs both periods: --period-b is missing"
