"""Usage interval: how long users take to repeat the critical event.

For every user who did the critical event at least twice, the gaps between consecutive occurrences.
The headline is the interval by which 80 % of repeating users have repeated it (the 80th percentile
of each user's first gap) — the natural period for retention and north-star metrics.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.columns import Columns
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def parse_duration(text: str) -> int:
    """"7d", "12h", "30m", "45s", "2w" (or a plain number of days) as milliseconds.

    >>> parse_duration("12h"), parse_duration("1.5d")
    (43200000, 129600000)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
    if not match:
        raise JourneyError(f"'{text}' is not a duration (use e.g. 30m, 12h, 7d, 2w)")
    return int(float(match.group(1)) * UNITS_MS[match.group(2) or "d"])


@dataclass(frozen=True)
class Spec:
    event: str
    bins: int = 20


@dataclass
class Result:
    spec: Spec
    users_with_event: int
    repeating_users: int
    gaps_days: np.ndarray
    first_gaps_days: np.ndarray
    interval_80_days: float | None
    histogram: Columns               # from_days, to_days, gaps, cumulative_share

    def to_json_dict(self) -> dict:
        return {"event": self.spec.event, "users_with_event": self.users_with_event,
                "repeating_users": self.repeating_users,
                "interval_80_percent_days": self.interval_80_days,
                "median_gap_days": round(float(np.median(self.gaps_days)), 3) if len(self.gaps_days) else None,
                "histogram": self.histogram.records()}

    def to_frame(self) -> pd.DataFrame:
        return self.histogram.to_frame()


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    code = log.event_code(spec.event)
    hits = np.flatnonzero(log.event == code)
    users, ts = log.user[hits], log.ts[hits]
    same = users[1:] == users[:-1]
    gaps = (np.diff(ts)[same] / 86_400_000.0) if len(ts) > 1 else np.zeros(0)
    gap_users = users[1:][same]
    first = np.ones(len(gap_users), dtype=bool)
    first[1:] = gap_users[1:] != gap_users[:-1]
    first_gaps = gaps[first]
    interval = round(float(np.quantile(first_gaps, 0.8)), 3) if len(first_gaps) else None
    # Users are sorted: the distinct ones are where the user changes (no np.unique).
    distinct_users = 1 + int(np.count_nonzero(~same)) if len(users) else 0
    return Result(spec=spec, users_with_event=distinct_users, repeating_users=int(first.sum()),
                  gaps_days=gaps, first_gaps_days=first_gaps, interval_80_days=interval,
                  histogram=_histogram(gaps, spec.bins))


def _histogram(gaps: np.ndarray, bins: int) -> Columns:
    """numpy columns (``to_frame`` makes the DataFrame): the command's JSON needs no pandas."""
    if not len(gaps):
        return Columns({"from_days": np.zeros(0), "to_days": np.zeros(0), "gaps": np.zeros(0, dtype=np.int64),
                        "cumulative_share": np.zeros(0)})
    top = max(float(np.quantile(gaps, 0.99)), 1e-9)
    edges = np.linspace(0, top, bins + 1)
    counts, _ = np.histogram(np.minimum(gaps, top), bins=edges)
    return Columns({"from_days": np.round(edges[:-1], 3), "to_days": np.round(edges[1:], 3), "gaps": counts,
                    "cumulative_share": np.round(np.cumsum(counts) / len(gaps), 4)})


def value_event(log: EventLog) -> str:
    """The value event users repeat: the default critical event of the north star and of this analysis.

    Among event types, the one the most users do in at least two different visits (sessions), leaving
    out events that mostly open a visit (``login``, ``app_open``: a way in, not the value) and the
    goal-like one-offs (done once by most who do it). Ties go to the event repeated by more users.
    Falls back to the most common event when nothing is repeated across visits.
    """
    size = len(log.event_names)
    if not len(log):
        raise JourneyError("no events to choose a critical event from")
    known = _VALUE_EVENTS.get(log)
    if known is not None:
        return known
    opens = np.ones(len(log), dtype=bool)
    opens[1:] = (log.user[1:] != log.user[:-1]) | (log.session[1:] != log.session[:-1])
    opener_share = np.bincount(log.event[opens], minlength=size) / np.maximum(np.bincount(log.event, minlength=size), 1)
    # Distinct (visit, event) pairs, then (user, event) pairs seen in two visits or more: sorts and
    # neighbour comparisons (sessions, and so users, never go down along the log; np.unique's hash
    # took ~0.5 s per call at 1M events, on the GUI thread when a view picks its default event).
    visit = np.sort(log.session.astype(np.int64) * size + log.event)
    visit = visit[np.r_[True, visit[1:] != visit[:-1]]]
    owner = np.empty(int(log.session.max()) + 1, dtype=np.int64)
    owner[log.session] = log.user
    pair = np.sort(owner[visit // size] * size + visit % size)
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    visit_counts = np.diff(np.append(starts, len(pair)))
    repeaters = np.bincount((pair[starts] % size)[visit_counts >= 2], minlength=size)
    score = np.where(opener_share < 0.5, repeaters, 0)
    if score.max() <= 0:
        chosen = log.event_names[int(np.bincount(log.event, minlength=size).argmax())]
    else:
        chosen = log.event_names[int(score.argmax())]
    _VALUE_EVENTS[log] = chosen
    return chosen


_VALUE_EVENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # log -> its value event (logs are immutable)


def default_event(log: EventLog, goal: str | None) -> str:
    """The event whose repeats the interval measures: the goal when at least a tenth of the users doing
    it repeat it, else the value event users come back to repeat (a one-off purchase has no interval).
    The window, exports and this command share it."""
    if goal in log.event_names:
        users, counts = np.unique(log.user[log.event == log.event_code(goal)], return_counts=True)
        if len(users) and (counts > 1).sum() >= 0.1 * len(users):
            return goal
    return value_event(log)
