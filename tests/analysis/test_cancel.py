"""Long analyses report progress inside their loops and stop there when the reporter cancels."""
from __future__ import annotations

import pandas as pd
import pytest

from journey_explorer.analysis import changes, compare, hygiene, stuck
from journey_explorer.eventlog import EventLog
from journey_explorer.progress import Cancelled

DAY = 86_400_000


def shop_log() -> EventLog:
    """60 days of 400 users: half buy, the others leave at help or cart; "search" is also sent as
    "Search" (two names for one action, so hygiene has pairs to judge)."""
    rows = []
    for user in range(400):
        start = (user % 60) * DAY
        steps = (["home", "search", "cart", "buy"] if user % 2 else            # buyers
                 ["home", "search", "help", "cart"] if user % 4 else ["home", "help", "search"])
        rows += [(f"u{user}", "Search" if name == "search" and user % 3 == 0 else name, start + k * 60_000)
                 for k, name in enumerate(steps)]
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


RUNS = {
    "stuck": lambda log, progress: stuck.run(log, stuck.Spec(goal="buy"), progress),
    "compare": lambda log, progress: compare.run(log, compare.Spec(goal="buy"), progress),
    "changes": lambda log, progress: changes.run(log, changes.Spec(goal="buy", period="day"), progress),
    "hygiene": lambda log, progress: hygiene.run(log, hygiene.Spec(now_ms=100 * DAY), progress),
}


@pytest.mark.parametrize("name", RUNS)
def test_progress_rises_within_the_run_and_a_cancel_stops_it(name):
    log = shop_log()
    heard: list[float] = []
    RUNS[name](log, heard.append)
    assert len(heard) >= 2 and heard == sorted(heard) and 0 <= heard[0] and heard[-1] <= 1, heard

    def cancel_at_the_second_report(fraction: float) -> None:
        cancel_at_the_second_report.calls += 1
        if cancel_at_the_second_report.calls == 2:
            raise Cancelled()
    cancel_at_the_second_report.calls = 0
    with pytest.raises(Cancelled):
        RUNS[name](log, cancel_at_the_second_report)
    assert cancel_at_the_second_report.calls == 2        # nothing ran on to report again

