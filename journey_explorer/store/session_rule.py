"""How a project's events are cut into sessions (visits): the inactivity gap, or one visit per path.

A web or app log has visits: bursts of events minutes apart, hours or days between them, so a visit
ends after ``DEFAULT_SESSION_GAP_MINUTES`` without an event. A process log (order-to-cash, tickets,
hospital cases) has cases: one path is one case whose steps are hours or days apart, and a 30-minute
cut makes nearly every step its own "visit" (the order-to-cash log: 142,507 visits for 15,500 cases).
There each path is one visit.

The rule, first match wins:

1. an explicit session column: its values cut the sessions (events without a value fall back to 2-4);
2. the project's ``session_gap_minutes`` setting (the user's choice; 0 or less: one visit per path);
3. the paths are cases: the user column is a case id (``case:concept:name``, ``Case ID``, an XES
   file), or most of a path's consecutive events are further apart than the default gap
   (``CASE_LOG_SHARE``): one visit per path;
4. the default gap.

Rule 3 also names the paths: the report, views and CLI call them "cases", not "users" (``path_noun``).

Measured on the logs at hand (share of consecutive events within a path more than 30 min apart):
web and app logs 0-30% (news 30%, learn 15%, the others under 14%), order-to-cash 92%, helpdesk 76%; an
app opened once a day for one or two events reaches ~66% and keeps its visits, hence 70%.
The sessions are cut at import and cached; ``stamp`` records the rule that made them, so a project
cut by an older rule or before the setting changed is cut again when loaded (``Project.load_arrays``).
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

DEFAULT_SESSION_GAP_MINUTES = 30.0
DEFAULT_GAP_MS = int(DEFAULT_SESSION_GAP_MINUTES * 60_000)
GAP_SETTING = "session_gap_minutes"     # the user's gap; absent: chosen from the data
STAMP_SETTING = "sessions_made_with"    # the rule the cached sessions were cut by (``stamp``)
RULE_VERSION = 3                        # 1 (no stamp): always the gap; 2: paths of cases are one visit each; 3: at 70%
CASE_LOG_SHARE = 0.7    # above this share of steps further apart than the gap, a path is a case, not visits
MIN_STEPS = 50          # fewer steps within paths say nothing about the log: the default gap stays
SAMPLE_STEPS = 200_000  # the share is measured on this many steps, evenly spread (10M events: 10 ms, not 1 s)
NO_SPLIT_MS = np.iinfo(np.int64).max    # a gap no two events exceed: one visit per path

# A user column named as a case: "case:concept:name" (XES / pm4py exports), "Case ID", "case_id", "case".
CASE_COLUMN = re.compile(r"^case(?:$|[\s:_.-]|id)", re.IGNORECASE)


def is_case_column(name: str | None) -> bool:
    """Does a user column's name say its values are cases of a process?

    >>> [is_case_column(n) for n in ("case:concept:name", "Case ID", "case_id", "CaseID", "user_id", "showcase")]
    [True, True, True, True, False, False]
    """
    return bool(name) and CASE_COLUMN.match(str(name).strip()) is not None


def structure_says_cases(sources: Iterable[tuple[str | None, dict | None]]) -> bool:
    """Was any source a process-mining export: an XES file, or a user column named as a case?
    ``sources``: (format, column mapping) per imported file."""
    return any(fmt == "xes" or is_case_column((mapping or {}).get("user")) for fmt, mapping in sources)


def share_far_apart(user: np.ndarray, ts: np.ndarray, gap_ms: float, min_steps: int = MIN_STEPS) -> float:
    """Share of consecutive events within a path that are more than ``gap_ms`` apart (0 with fewer
    than ``min_steps`` such steps), measured on every k-th pair of neighbours (``SAMPLE_STEPS``).

    >>> share_far_apart(np.array([0, 0, 0, 1, 1]), np.array([0, 10, 500, 0, 600]), gap_ms=100, min_steps=1)
    0.6666666666666666
    """
    if len(user) < 2:
        return 0.0
    every = max(1, (len(user) - 1) // SAMPLE_STEPS)
    left, right = slice(0, len(user) - 1, every), slice(1, len(user), every)     # views: each pair's two events
    same_path = user[right] == user[left]
    steps = int(np.count_nonzero(same_path))
    if steps < max(min_steps, 1):
        return 0.0
    return float(np.count_nonzero((ts[right] - ts[left] > gap_ms) & same_path)) / steps


def choose_gap_ms(setting_minutes: float | None, case_structure: bool, user: np.ndarray,
                  ts: np.ndarray) -> int:
    """The inactivity gap in ms (``NO_SPLIT_MS``: one visit per path) by rules 2-4 of the module.

    >>> user, hours = np.zeros(100, dtype=int), np.arange(100) * 3_600_000       # steps an hour apart
    >>> choose_gap_ms(None, False, user, hours) == NO_SPLIT_MS, choose_gap_ms(45, False, user, hours)
    (True, 2700000)
    >>> choose_gap_ms(None, False, user, np.arange(100) * 60_000)                   # a minute apart: visits
    1800000
    >>> choose_gap_ms(None, True, user[:2], hours[:2]) == NO_SPLIT_MS              # named as cases
    True
    """
    if setting_minutes is not None:
        return int(setting_minutes * 60_000) if setting_minutes > 0 else NO_SPLIT_MS
    if case_structure or share_far_apart(user, ts, DEFAULT_GAP_MS) > CASE_LOG_SHARE:
        return NO_SPLIT_MS
    return DEFAULT_GAP_MS


def path_noun(setting_minutes: float | None, gap_ms: int) -> str:
    """What one path is called: "case" when rule 3 made one visit per path (the paths are cases),
    else "user". A user's own setting of 0 chooses one visit per path but does not make the paths cases.

    >>> path_noun(None, NO_SPLIT_MS), path_noun(None, DEFAULT_GAP_MS), path_noun(0, NO_SPLIT_MS)
    ('case', 'user', 'user')
    """
    return "case" if setting_minutes is None and gap_ms >= NO_SPLIT_MS else "user"


def stamp(setting_minutes: float | None, gap_ms: int) -> dict:
    """What the cached sessions were cut by; they stand while the rule and the setting are the same."""
    return {"rule": RULE_VERSION, "setting": setting_minutes, "gap_ms": int(gap_ms)}


def stamp_holds(stored: object, setting_minutes: float | None) -> bool:
    """Were the cached sessions cut by this version's rule, with this setting?

    >>> stamp_holds(stamp(None, 1_800_000), None), stamp_holds(stamp(None, 1_800_000), 60), stamp_holds(None, None)
    (True, False, False)
    """
    return (isinstance(stored, dict) and stored.get("rule") == RULE_VERSION
            and stored.get("setting") == setting_minutes and isinstance(stored.get("gap_ms"), int))


def sessions_with_keys(user: np.ndarray, ts: np.ndarray, session_key: np.ndarray, gap_ms: int) -> np.ndarray:
    """Global session index: a new session at each user, at each change of an explicit session key,
    and, where an event has no key, after an inactivity gap longer than ``gap_ms``."""
    if len(user) == 0:
        return np.zeros(0, dtype=np.int64)
    has_key = (session_key[1:] >= 0) & (session_key[:-1] >= 0)
    new = np.ones(len(user), dtype=bool)
    new[1:] = ((user[1:] != user[:-1])
               | (has_key & (session_key[1:] != session_key[:-1]))
               | (~has_key & (np.diff(ts) > gap_ms)))
    index = np.cumsum(new, dtype=np.int64)
    index -= 1          # in place: one 10M-row temporary fewer at an import's peak
    return index


def gap_minutes(gap_ms: int) -> float:
    """The gap in minutes for people; ``inf`` for one visit per path."""
    return float("inf") if gap_ms >= NO_SPLIT_MS else gap_ms / 60_000
