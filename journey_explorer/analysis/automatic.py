"""Events the user does not do themselves: a monthly charge, a renewal, a daily reminder.

Such an event is sent by a server on a clock: for each user it recurs at a near-constant interval
(``REGULAR_SHARE`` of a user's gaps between two of them within ``REGULAR_TOLERANCE`` of the event's
typical gap, that gap at least ``MIN_INTERVAL_MS``), and it mostly comes alone, with no other event
of the user within ``VISIT_GAP_MS`` before or after (``ALONE_SHARE`` of its occurrences, and at least
``ALONE_CONTRAST`` times as often as the log's other events: in a log of one event per visit being
alone tells nothing). Retention
and the lifecycle do not count these as the user coming back: a monthly renewal would make everybody
"come back" every fourth week. What a user does on a routine (a morning app open) varies by hours
from day to day and comes with other events: it is not taken for one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journey_explorer.eventlog import EventLog

DAY_MS = 86_400_000
MIN_INTERVAL_MS = DAY_MS          # a typical gap shorter than a day is a session's repeat, not a schedule
REGULAR_TOLERANCE = 0.1           # a gap within 10 % of the typical one is "on schedule"
REGULAR_SHARE = 0.8               # ...and this share of the gaps must be
ALONE_SHARE = 0.5                 # this share of the occurrences with no other event of the user nearby
VISIT_GAP_MS = 30 * 60_000        # "nearby": within a visit's usual 30-minute gap
ALONE_CONTRAST = 2.0              # ...and this many times as often as the other events are alone
MIN_REPEATING_USERS = 20          # users with two of the event or more, before it is judged


@dataclass(frozen=True)
class AutomaticEvent:
    name: str
    interval_days: float          # its typical gap for a user
    on_schedule: float            # share of the gaps within REGULAR_TOLERANCE of it
    alone: float                  # share of its occurrences with no other event of the user nearby

    def sentence(self, paths: str = "user") -> str:
        """"subscription_renewed (every 30 days for each user, 97% of them alone in their visit)"."""
        every = "every day" if round(self.interval_days) == 1 else f"every {self.interval_days:.0f} days"
        return f"{self.name} ({every} for each {paths}, {self.alone:.0%} of them alone in their visit)"


def automatic_events(log: EventLog) -> list[AutomaticEvent]:
    """The log's events sent on a clock rather than done by the user (see the module), most frequent first.

    >>> import pandas as pd
    >>> rows = [(u, "renewed", d * 30 * DAY_MS + u * 3_600_000) for u in range(25) for d in range(4)]
    >>> rows += [(u, e, d * 7 * DAY_MS + u * 60_000 + (1 + d % 5) * 3_600_000 + k * 60_000)    # weekly visits
    ...          for u in range(25) for d in range(12) for k, e in enumerate(["open", "play"])]
    >>> [event.name for event in automatic_events(EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"])))]
    ['renewed']
    """
    if len(log) < 2:
        return []
    size = len(log.event_names)
    counts = np.bincount(log.event, minlength=size)
    alone_counts = np.bincount(log.event, weights=_alone(log), minlength=size)
    order = np.argsort(log.event, kind="stable")          # by event, then (as the log) user and time
    event, user, ts = log.event[order], log.user[order], log.ts[order]
    same = (event[1:] == event[:-1]) & (user[1:] == user[:-1])
    gap_event, gap, gap_user = event[1:][same], (ts[1:] - ts[:-1])[same], user[1:][same]
    # Users with a repeat, per event: a new (event, user) run among the gaps (sorted by event, then user).
    new_run = np.ones(len(gap_event), dtype=bool)
    new_run[1:] = (gap_event[1:] != gap_event[:-1]) | (gap_user[1:] != gap_user[:-1])
    repeating = np.bincount(gap_event[new_run], minlength=size)
    bounds = np.searchsorted(gap_event, np.arange(size + 1))       # each event's slice of the gaps
    found = []
    for code in np.flatnonzero(repeating >= MIN_REPEATING_USERS):
        gaps = gap[bounds[code]:bounds[code + 1]]
        typical = float(np.median(gaps))
        if typical < MIN_INTERVAL_MS:
            continue
        on_schedule = float(np.mean(np.abs(gaps - typical) <= REGULAR_TOLERANCE * typical))
        alone_share = alone_counts[code] / counts[code]
        others = len(log) - counts[code]
        others_alone = (alone_counts.sum() - alone_counts[code]) / others if others else 1.0
        if on_schedule >= REGULAR_SHARE and alone_share >= max(ALONE_SHARE, ALONE_CONTRAST * others_alone):
            found.append((int(counts[code]), AutomaticEvent(log.event_names[code], typical / DAY_MS,
                                                            on_schedule, float(alone_share))))
    return [event for _, event in sorted(found, key=lambda pair: -pair[0])]


def _alone(log: EventLog) -> np.ndarray:
    """Per event: no other event of the same user within ``VISIT_GAP_MS`` before or after it."""
    same = log.user[1:] == log.user[:-1]
    close = same & (log.ts[1:] - log.ts[:-1] <= VISIT_GAP_MS)
    near_before = np.append(False, close)
    near_after = np.append(close, False)
    return ~(near_before | near_after)


def without_automatic(log: EventLog, automatic: list[AutomaticEvent]) -> np.ndarray:
    """Per event: True unless it is one of ``automatic``."""
    codes = [log.event_code(event.name) for event in automatic]
    return ~np.isin(log.event, codes) if codes else np.ones(len(log), dtype=bool)


def left_out_sentence(automatic: list[AutomaticEvent], paths: str = "user", counts_as: str = "coming back") -> str:
    """The retention (and lifecycle: ``counts_as`` "activity") note: which events are not counted, and why."""
    listed = "; ".join(event.sentence(paths) for event in automatic)
    one = len(automatic) == 1
    return (f"Not counted as {counts_as}: {listed}, sent on a schedule rather than done by the {paths}; "
            f"the option 'Count scheduled events' counts {'it' if one else 'them'}.")
