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

from journey_explorer.analysis.arrays import median, quantile, running_count
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
                "median_gap_days": round(median(self.gaps_days), 3) if len(self.gaps_days) else None,
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
    interval = round(quantile(first_gaps, 0.8), 3) if len(first_gaps) else None
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
    top = max(quantile(gaps, 0.99), 1e-9)
    edges = np.linspace(0, top, bins + 1)
    counts, _ = np.histogram(np.minimum(gaps, top), bins=edges)
    return Columns({"from_days": np.round(edges[:-1], 3), "to_days": np.round(edges[1:], 3), "gaps": counts,
                    "cumulative_share": np.round(np.cumsum(counts) / len(gaps), 4)})


def value_event(log: EventLog) -> str:
    """The value event users repeat: the default critical event of the north star and of this analysis
    when no goal is set (``default_event`` with a goal).

    Among event types, the one the most users do in at least two different visits (sessions), leaving
    out events that mostly open a visit (``login``, ``app_open``: a way in, not the value) and the
    goal-like one-offs (done once by most who do it). Ties go to the event repeated by more users.
    Falls back to the most common event when nothing is repeated across visits.
    """
    if not len(log):
        raise JourneyError("no events to choose a critical event from")
    known = _VALUE_EVENTS.get(log)
    if known is not None:
        return known
    score = repeated_across_visits(log)
    if score.max() <= 0:
        chosen = log.event_names[int(np.bincount(log.event, minlength=len(log.event_names)).argmax())]
    else:
        chosen = log.event_names[int(score.argmax())]
    _VALUE_EVENTS[log] = chosen
    return chosen


def repeated_across_visits(log: EventLog, rows: np.ndarray | None = None) -> np.ndarray:
    """Per event code: how many users do it in two visits or more (among ``rows``, a mask over the log;
    default all), 0 for events that mostly open a visit (a way in, not the value)."""
    visits = _Visits(log.user, log.session, log.event, len(log.event_names))
    return visits.repeaters(rows)


class _Visits:
    """Columns sorted by (user, time) with their visits numbered 0, 1, ... and each event's share of
    visit openings, for counting repeats across visits."""

    def __init__(self, user: np.ndarray, session: np.ndarray, event: np.ndarray, size: int):
        self.user, self.event, self.size = user, event, size
        opens = np.ones(len(event), dtype=bool)
        opens[1:] = (user[1:] != user[:-1]) | (session[1:] != session[:-1])
        self.visit = running_count(opens) - 1              # sessions never go down along the log
        self.owner = user[opens]                        # visit number -> its user
        self.opener_share = (np.bincount(event[opens], minlength=size)
                             / np.maximum(np.bincount(event, minlength=size), 1))

    def repeaters(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Per event: users doing it (among ``rows``) in two visits or more; 0 for ways in."""
        visit, event = (self.visit, self.event) if rows is None else (self.visit[rows], self.event[rows])
        if not len(event):
            return np.zeros(self.size, dtype=np.int64)
        # Distinct (visit, event) pairs, then (user, event) pairs seen in two visits or more: sorts and
        # neighbour comparisons (np.unique's hash took ~0.5 s per call at 1M events, on the GUI thread
        # when a view picks its default event).
        pairs = np.sort(visit.astype(np.int64) * self.size + event)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
        by_user = np.sort(self.owner[pairs // self.size].astype(np.int64) * self.size + pairs % self.size)
        starts = np.flatnonzero(np.r_[True, by_user[1:] != by_user[:-1]])
        visit_counts = np.diff(np.append(starts, len(by_user)))
        repeated = np.bincount((by_user[starts] % self.size)[visit_counts >= 2], minlength=self.size)
        return np.where(self.opener_share < 0.5, repeated, 0)


_VALUE_EVENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # log -> its value event (logs are immutable)


def default_event(log: EventLog, goal: str | None) -> str:
    """The event whose repeats the interval and the north star measure, for ``goal``:

    - the goal itself when at least a tenth of the users doing it do it again in another visit (weekly
      buyers; a payment sent twice in one visit is not a repeat);
    - else the value the goal opens: the event most converted users do in two visits or more *after*
      their first goal (reports built after subscribing), when a tenth of them do;
    - else the goal (a one-off that nothing follows: the north star counts it per period). A page that
      everybody browses, whether or not they ever reach the goal, is never the value.

    Without a goal: ``value_event``. The window, exports and this command share it."""
    return default_choice(log, goal)[0]


# Why ``default_event`` chose its event, in words that follow "users doing EVENT (...)".
# {paths}: what the log's paths are ("users", "cases"; ``units.path_words``)
WHY = {"goal repeated": "the goal, which {paths} come back to repeat",
       "after goal": "what {paths} come back to do after {goal}",
       "goal once": "the goal: nothing {paths} do after it comes back",
       "value": "the event {paths} come back to repeat"}


def default_choice(log: EventLog, goal: str | None) -> tuple[str, str]:
    """(``default_event``'s event, why: a key of ``WHY``)."""
    if goal not in log.event_names:
        return value_event(log), "value"
    known = _DEFAULT_EVENTS.setdefault(log, {})
    if goal not in known:
        known[goal] = _default_for_goal(log, log.event_code(goal))
    return known[goal]


def interval_event(log: EventLog, goal: str | None) -> str:
    """The usage interval's default: ``default_event``, unless that is a one-off nobody does in two
    visits (a first deposit): an interval needs repeats, so then the value event users repeat."""
    chosen = default_event(log, goal)
    if chosen == goal and not _done_in_two_visits(log, log.event_code(chosen)):
        return value_event(log)
    return chosen


def _done_in_two_visits(log: EventLog, code: int) -> bool:
    """Whether any user does event ``code`` in two visits or more, the event not mostly opening its
    visits (a way in, as ``repeated_across_visits`` rules) -- from its own rows and their neighbours
    only: the log is sorted by user and time, so a user's visits with it come in order.

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["a", "a", "b"], "event": ["x", "x", "x"], "time": [0, 1, 10 * 86_400_000]}))
    >>> _done_in_two_visits(log, 0)
    False
    """
    hits = np.flatnonzero(log.event == code)
    if not len(hits):
        return False
    before = np.maximum(hits - 1, 0)
    opens = (hits == 0) | (log.user[before] != log.user[hits]) | (log.session[before] != log.session[hits])
    if opens.mean() >= 0.5:
        return False
    user, session = log.user[hits], log.session[hits]
    same_user = user[1:] == user[:-1]
    return bool((same_user & (session[1:] != session[:-1])).any())


def _default_for_goal(log: EventLog, goal: int) -> tuple[str, str]:
    name = log.event_names[goal]
    if not (log.event == goal).any():
        return value_event(log), "value"
    # A default is a choice, not a count: it is made on every k-th path of a large log, so that it
    # costs the GUI thread the same few tens of ms at 1M and 10M events (the analysis then counts the chosen event exactly).
    user, session, event, ts = _path_sample(log)
    if np.count_nonzero(event == goal) < MIN_SAMPLED_GOALS:       # a rare goal: sample its users' paths
        user, session, event, ts = _reachers_paths(log, goal)
    visits = _Visits(user, session, event, len(log.event_names))
    hits = np.flatnonzero(event == goal)
    first_hit = hits[np.r_[True, user[hits][1:] != user[hits][:-1]]] if len(hits) else hits
    reachers = len(first_hit)
    if not reachers:
        return name, "goal once"
    if visits.repeaters(event == goal)[goal] >= 0.1 * reachers:
        return name, "goal repeated"
    # After each converted user's first goal: that user's rows from just past it to the path's end.
    after_goal = np.zeros(len(event) + 1, dtype=np.int64)
    path_end = np.searchsorted(user, user[first_hit], side="right")
    np.add.at(after_goal, first_hit + 1, 1)
    np.add.at(after_goal, path_end, -1)
    score = visits.repeaters(np.cumsum(after_goal[:-1]) > 0)
    score[goal] = 0
    best = int(score.argmax())
    return (log.event_names[best], "after goal") if score[best] >= 0.1 * reachers else (name, "goal once")


SAMPLE_ROWS = 200_000
SAMPLE_PIECES = 64
MIN_SAMPLED_GOALS = 200      # fewer goal events in the sample: it is drawn from the converted users' paths


def _reachers_paths(log: EventLog, goal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user, session, event, ts) of the paths that reach ``goal`` (what the choice reads), every k-th
    of them when they hold more than ``SAMPLE_ROWS`` events."""
    reached = np.zeros(log.n_users, dtype=bool)
    reached[log.user[log.event == goal]] = True
    keep = reached[log.user]
    if np.count_nonzero(keep) > SAMPLE_ROWS:
        users = np.flatnonzero(reached)
        step = -(-np.count_nonzero(keep) // SAMPLE_ROWS)
        reached[:] = False
        reached[users[::step]] = True
        keep = reached[log.user]
    return log.user[keep], log.session[keep], log.event[keep], log.ts[keep]


def _path_sample(log: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user, session, event, ts) of whole paths taken from ``SAMPLE_PIECES`` places spread over a log
    above ``SAMPLE_ROWS`` events (paths are in user-code order, which follows the file: a spread, not
    the first users); the whole log below. Slices, so it costs the same at 1M and 10M events."""
    n = len(log)
    if n <= SAMPLE_ROWS:
        return log.user, log.session, log.event, log.ts
    length = SAMPLE_ROWS // SAMPLE_PIECES
    starts = np.linspace(0, n - length, SAMPLE_PIECES).astype(np.int64)
    begins = np.searchsorted(log.user, log.user[starts], side="left")          # back to a path's start
    ends = np.searchsorted(log.user, log.user[starts + length - 1], side="right")  # on to its end
    ends = np.maximum.accumulate(ends)
    begins[1:] = np.maximum(begins[1:], ends[:-1])         # a long path is taken once
    index = np.concatenate([np.arange(b, e) for b, e in zip(begins.tolist(), ends.tolist()) if e > b])
    return log.user[index], log.session[index], log.event[index], log.ts[index]


_DEFAULT_EVENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # log -> {goal: (event, why)}
