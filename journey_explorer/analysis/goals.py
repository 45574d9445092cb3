"""The default goal: the project's stored goal, else a guess from the shape of the paths.

One Qt-free function (``default_goal``) used by the CLI, the report and the GUI, so they all agree.

The guess scores every event type by structure, the way a person reads a conversion off a log:

- **a minority reaches it**: goals separate users (an event most paths have is a step, not a goal);
  ``reach`` is the share of paths with it, scored 1 between 10 % and 50 %, less below (log scale, 0 at
  0.5 %) and above (0 at 95 %);
- **late**: its first occurrence comes after most of the path's other kinds of events (the share of
  the path's distinct events first seen before it, median over paths);
- **seldom repeated**: the share of its paths that do it exactly once;
- **paths or visits often end after it**: the share of its occurrences that are the last of their
  session (or path), softened (0.1 + 0.9 x the share: a purchase always followed by its thank-you
  page still scores);
- conversion-like names (purchase, paid, order, subscribe, ...) only break near-ties (x1.1);
  failure-like names (error, failed, cancel, ...) are never the goal while another candidate scores.

The score is the product (lateness softened to 0.25 + 0.75 x lateness); the highest score wins. Never the first item of a list,
and never simply the most common last event (a browsing page that everyone ends on scores low on
reach and on repetition).
"""
from __future__ import annotations

import re
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import Groups, distinct_count, group_medians, run_numbers
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import MISSING, EventLog

if TYPE_CHECKING:
    import pandas as pd

CONVERSION_WORDS = re.compile(r"purchas|paid|pay(?:ment)?_?(?:succe|complete)|order|subscri|checkout_?complete|"
                              r"convert|upgrade|renew|won|success|complete|bought|buy|booked|deal", re.I)
FAILURE_WORDS = re.compile(r"error|fail|cancel|abandon|declin|reject|churn|refund|timeout|crash|denied", re.I)
MIN_REACH_PATHS = 2       # an event one path has is an accident, not a goal
AMOUNT_NAME = re.compile(r"amount|value|price|revenue|total|sum\b|cost|paid|spend|gmv|betrag|montant|importe|prix|preis",
                         re.I)    # a duration, a rating or a count of results is no amount
AMOUNT_WEIGHT = 10.0


def default_goal(log: EventLog) -> str:
    """The project's goal when it names an event of this log, else ``guess_goal``."""
    if log.default_goal and log.default_goal in log.event_names:
        return log.default_goal
    return guess_goal(log)


def guess_goal(log: EventLog) -> str:
    """The event type whose structure looks most like a goal (see the module notes). Kept per log (logs
    are immutable): the window's loader guesses it off the GUI thread, the goal box then reads it."""
    known = _GUESSES.get(log)
    if known is not None:
        return known
    names, parts = _score_parts(log)
    candidates = np.flatnonzero(parts["reach"] > 0) if names else np.zeros(0, dtype=np.int64)
    if not len(candidates):
        raise JourneyError("the log has no events to guess a goal from")
    # A failure is never the goal while anything else scores (a payment error is late and rare too).
    failure = parts["name"][candidates] < 1.0
    if (parts["score"][candidates][~failure] > 0).any():
        candidates = candidates[~failure]
    # goal_scores' order without pandas: score, then reach, both descending; ties stay in name order
    # (a stable sort, as pandas' sort_values by two columns is).
    best = np.lexsort((-parts["reach"][candidates], -parts["score"][candidates]))[0]
    _GUESSES[log] = guess = str(names[candidates[best]])
    return guess


_GUESSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The guess's rules, for a guess kept with the project (``store.project.remember_goal_guess``): a
# change to how the guess scores must change this, so no project answers with the old rules' goal.
GUESS_RULES = 1


def remember_guess(log: EventLog, goal: str) -> None:
    """Take ``goal`` as ``guess_goal(log)``'s answer: a guess kept with the project for this very log."""
    if goal in log.event_names:
        _GUESSES[log] = goal


def known_guess(log: EventLog) -> str | None:
    """``guess_goal(log)``'s answer when it is known already (guessed or remembered), else None."""
    return _GUESSES.get(log)


def goal_reach(log: EventLog, by_event: Groups | None = None) -> np.ndarray:
    """Per event code, the paths that have it (the goal box lists events by it); kept per log, so the
    window's loader works it out off the GUI thread (~0.3 s at 10M events). ``by_event``: the log's
    events grouped by code (``Groups(log.event, ...)``) when the caller has them (saves grouping again)."""
    known = _REACH.get(log)
    if known is None:
        if by_event is not None and np.all(log.user[1:] >= log.user[:-1]):
            known = by_event.distinct(log.user)
        else:
            known = distinct_count(log.event, log.user, len(log.event_names))
        _REACH[log] = known
    return known


_REACH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def goal_scores(log: EventLog) -> pd.DataFrame:
    """Per event type: the parts of the goal score and the score, best first."""
    import pandas as pd
    names, parts = _score_parts(log)
    if not names:
        return pd.DataFrame()
    frame = pd.DataFrame(parts, index=names)
    frame = frame[frame["reach"] > 0]
    return frame.sort_values(["score", "reach"], ascending=[False, False])


def _score_parts(log: EventLog) -> tuple[list[str], dict[str, np.ndarray]]:
    """The event names and, per name, the parts of its score and the score (numpy: ``guess_goal``
    does without pandas, whose import costs more than the guess). No names for an empty log."""
    size = len(log.event_names)
    if not len(log):
        return [], {}
    # Where visits end needs none of the (path, event) pairs: it is counted beside them, on the other
    # core (numpy releases the GIL; ~15 ms of the guess's ~0.1 s at 1M events).
    with ThreadPoolExecutor(max_workers=1) as pool:
        ends_after = pool.submit(_ends_after, log, size)
        paths = log.paths_count
        firsts, pair_event, pair_count = path_event_pairs(log, size)
        users = _REACH.get(log)
        if users is None:                          # goal_reach's counts, from the pairs at hand
            _REACH[log] = users = np.bincount(pair_event, minlength=size)
        reach = users / max(paths, 1)
        parts = {"reach": reach, "reach_score": _reach_score(reach, users), "lateness": _lateness(log, size, firsts),
                 "once": _once(size, pair_event, pair_count), "ends_after": ends_after.result(),
                 "amount": np.where(carries_amount(log, size), AMOUNT_WEIGHT, 1.0)}
    parts["name"] = np.array([0.5 if FAILURE_WORDS.search(name) else 1.1 if CONVERSION_WORDS.search(name) else 1.0
                              for name in log.event_names])
    # Lateness leans rather than decides (a goal reached early by a few paths is still a goal).
    parts["score"] = (parts["reach_score"] * (0.25 + 0.75 * parts["lateness"]) * parts["once"]
                      * (0.1 + 0.9 * parts["ends_after"]) * parts["name"] * parts["amount"])
    return list(log.event_names), parts


def carries_amount(log: EventLog, size: int) -> np.ndarray:
    """Per event type: whether it carries an amount of its own — an event property named like money
    (``AMOUNT_NAME``: order_value, amount, revenue...) holding numbers, set on at least 80 % of the
    type's events and on at most 2 % of all other events. Only such columns' per-event codes are read
    (the name and the distinct values decide first).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": list("aabbcc") * 10, "event": ["view", "buy"] * 30, "time": range(60),
    ...                       "value": [None, 10.5] * 30, "page": ["home", None] * 30})
    >>> frame.loc[frame.event == "buy", "value"] = [float(i) for i in range(30)]
    >>> carries_amount(EventLog.from_frame(frame), 2).tolist()       # event names sort: buy, view
    [True, False]
    """
    found = np.zeros(size, dtype=bool)
    events = np.bincount(log.event, minlength=size)
    for name in log.event_properties:
        if not AMOUNT_NAME.search(name):
            continue
        column = log.event_properties[name]
        values = column.values
        # More distinct values than the commonest event type has events: set on several types (an id).
        if not 2 <= len(values) <= events.max(initial=0):
            continue
        sample = values[:10_000]
        numbers = sum(1 for value in sample if isinstance(value, (int, float)) and not isinstance(value, bool))
        if numbers < 0.9 * len(sample):
            continue
        set_on = np.bincount(log.event[column.codes != MISSING], minlength=size)
        elsewhere = set_on.sum() - set_on
        found |= (set_on >= 0.8 * np.maximum(events, 1)) & (elsewhere <= 0.02 * (len(log) - events))
    return found


def _reach_score(reach: np.ndarray, paths_with: np.ndarray) -> np.ndarray:
    """1 for a share of paths between 10 % and 50 %; below, falling on a log scale to 0 at 0.5 % (a goal
    a handful of paths reach separates little); above, falling to 0 at 95 % (a goal everyone reaches
    separates no one).

    >>> _reach_score(np.array([0.01, 0.3, 0.725, 0.99]), np.array([10, 300, 725, 990])).round(2).tolist()
    [0.23, 1.0, 0.5, 0.0]
    """
    low = np.clip(np.log(np.maximum(reach, 1e-12) / 0.005) / np.log(0.10 / 0.005), 0.0, 1.0)
    high = np.clip((0.95 - reach) / 0.45, 0.0, 1.0)
    return np.where(paths_with >= MIN_REACH_PATHS, low * high, 0.0)


def path_event_pairs(log: EventLog, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (path, event) pair: the row of its first occurrence (rows in path order), its event and
    how often the path has it. One stable grouping by event (a radix sort below 65,536 event types):
    a path's rows are contiguous, so inside an event's group its rows stay together and in order.

    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["a", "a", "a", "b"], "event": ["x", "y", "x", "x"], "time": [0, 1, 2, 0]}))
    >>> [part.tolist() for part in path_event_pairs(log, 2)]
    [[0, 1, 3], [0, 0, 1], [2, 1, 1]]
    """
    by_event = Groups(log.event, size)
    paths = log.user[by_event.order]
    starts = np.ones(len(paths), dtype=bool)
    starts[1:] = (by_event.keys[1:] != by_event.keys[:-1]) | (paths[1:] != paths[:-1])
    is_first = np.zeros(len(paths), dtype=bool)
    is_first[by_event.order[starts]] = True
    pair_starts = np.flatnonzero(starts)
    return np.flatnonzero(is_first), by_event.keys[pair_starts], np.diff(np.append(pair_starts, len(paths)))


def _lateness(log: EventLog, size: int, firsts: np.ndarray) -> np.ndarray:
    """Median over paths of the share of the path's other distinct events first seen before it.

    In numpy (a pandas drop_duplicates + groupby took ~0.4 s at 1M events): from the first occurrence
    of each (path, event) (``path_event_pairs``), a rank and a count per path; then a median per event.
    """
    if not len(log):
        return np.zeros(size)
    path, event = log.user[firsts], log.event[firsts]
    new_path = np.ones(len(path), dtype=bool)
    new_path[1:] = path[1:] != path[:-1]
    run_start = np.flatnonzero(new_path)
    run_length = np.diff(np.append(run_start, len(path)))
    run = run_numbers(run_start, len(path))
    rank = np.arange(len(path)) - run_start[run]
    distinct = run_length[run]
    share = np.where(distinct > 1, rank / np.maximum(distinct - 1, 1), 1.0)
    medians = group_medians(event, share, size)     # pandas' median: the two middle values averaged
    return np.where(np.isnan(medians), 0.0, medians)


def _once(size: int, pair_event: np.ndarray, pair_count: np.ndarray) -> np.ndarray:
    """Share of the paths with the event that do it exactly once (from ``path_event_pairs``)."""
    once = np.bincount(pair_event[pair_count == 1], minlength=size)
    return once / np.maximum(np.bincount(pair_event, minlength=size), 1)


def _ends_after(log: EventLog, size: int) -> np.ndarray:
    """Share of the event's occurrences that are the last of their session or path."""
    last = np.ones(len(log), dtype=bool)
    last[:-1] = (log.user[1:] != log.user[:-1]) | (log.session[1:] != log.session[:-1])
    return np.bincount(log.event[last], minlength=size) / np.maximum(np.bincount(log.event, minlength=size), 1)
