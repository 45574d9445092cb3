"""Categorical properties per path, for "who" and "where" breakdowns of the insight analyses.

One stated rule: a path takes the *first* value its events carry ("first touch"; for a per-session
path that is the session's value), and a user property its user's value. Only properties with a few
distinct values (``MAX_VALUES``) and text values are used: ids, dates and numbers (CSAT, revenue)
would each make every value its own group; and only event properties most paths carry
(``MIN_COVERAGE``). A property only one step's events carry (who handled it, what it was about) is
that step's instead (``step_properties``): its value on the step's own events, for the paths reaching it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import path_bounds
from journey_explorer.analysis.common import session_owners
from journey_explorer.analysis.units import counted
from journey_explorer.eventlog import MISSING, EventLog

if TYPE_CHECKING:
    pass

MAX_VALUES = 20
MIN_COVERAGE = 0.8   # share of paths that must carry a property: one only some events carry (an error
                     # code) describes what happened on the path, not who took it


def path_properties(log: EventLog, max_values: int = MAX_VALUES) -> dict[str, np.ndarray]:
    """Property name -> value per user code (object array; None where the path has none)."""
    out: dict[str, np.ndarray] = {}
    if log.user_property_names():       # else no frame: pandas' import (~0.3 s) waits until a table needs it
        out.update(_user_properties(log, max_values))
    starts, _ = path_bounds(log)
    for name, column in log.event_properties.items():
        if str(name) in out or not 1 < len(column.values) <= max_values:
            continue
        if not all(isinstance(v, str) for v in column.values):
            continue
        values = _first_touch(log, column.codes, column.values)
        paths = log.user[starts]
        if np.mean([v is not None for v in values[paths]]) >= MIN_COVERAGE:
            out[str(name)] = values
    return out


def _user_properties(log: EventLog, max_values: int) -> dict[str, np.ndarray]:
    """The user properties ``path_properties`` keeps: text with 2 to ``max_values`` values."""
    import pandas as pd
    out: dict[str, np.ndarray] = {}
    props = log.properties()
    for name in props.columns:
        column = props[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.astype(object).where(column.notna(), None).to_numpy()
        if 1 < pd.Series(values).nunique() <= max_values:
            out[str(name)] = values
    return out


def step_properties(log: EventLog, code: int, max_values: int = MAX_VALUES) -> dict[str, np.ndarray]:
    """Event property name -> per user code, the value on the path's first event of type ``code``
    (None where the path has none or its event does not carry it): the properties *this step's own*
    events carry (``MIN_COVERAGE`` of them) with a few text values there.

    Who handled a step (an adjuster, an agent, a channel) or what it was about (a meter type) is
    carried by that step's events only, often by too few paths to count as who took the path
    (``path_properties``), and a path's first value is then someone else's (the intake clerk).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"user": ["a", "a", "b", "b", "c"], "event": ["open", "meter", "open", "meter", "open"],
    ...                       "time": [0, 1, 0, 1, 0], "kind": [None, "smart", None, "analog", None]})
    >>> log = EventLog.from_frame(frame)
    >>> step_properties(log, log.event_code("meter"))["kind"].tolist()       # c never reaches the step
    ['smart', 'analog', None]
    >>> step_properties(log, log.event_code("open"))                       # "open" carries no kind
    {}
    """
    at = np.flatnonzero(log.event == code)
    first = at[np.append(True, log.user[at][1:] != log.user[at][:-1])]     # rows go by user, then time
    out: dict[str, np.ndarray] = {}
    for name, column in log.event_properties.items():
        codes = column.codes[at]
        carried = codes[codes != MISSING]
        if not len(at) or len(carried) < MIN_COVERAGE * len(at):
            continue
        values = column.values[np.unique(carried)]
        if not 1 < len(values) <= max_values or not all(isinstance(v, str) for v in values):
            continue
        per_path = np.full(log.n_users, None, dtype=object)
        carries = column.codes[first] != MISSING
        per_path[log.user[first[carries]]] = column.values[column.codes[first[carries]]]
        out[str(name)] = per_path
    return out


def _changes_along_paths(log: EventLog, name: str) -> bool:
    """Whether an event property's value changes between two of a user's events for more than
    ``MAX_CHANGING`` of the users carrying it (a user property never does)."""
    column = log.event_properties.get(name)
    if column is None:
        return False
    from journey_explorer.store.event_detail import value_changes
    carried = np.flatnonzero(column.codes != MISSING)
    users = log.user[carried]
    carrying = np.count_nonzero(np.bincount(users, minlength=log.n_users))
    return value_changes(users, column.codes[carried], log.n_users).sum() > MAX_CHANGING * max(carrying, 1)


def _first_touch(log: EventLog, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per user code, the first non-missing value along the path."""
    present = np.flatnonzero(codes != MISSING)
    users = log.user[present]
    first = np.ones(len(present), dtype=bool)
    first[1:] = users[1:] != users[:-1]
    out = np.full(log.n_users, None, dtype=object)
    out[users[first]] = values[codes[present[first]]]
    return out


def without_outcomes(properties: dict[str, np.ndarray], successful_user: np.ndarray,
                     paths: np.ndarray) -> dict[str, np.ndarray]:
    """Leave out properties that merely restate the outcome: every value held by at least 10 paths is
    held only by successful or only by failing paths (a ``plan`` of "Trial" vs a paid plan, recorded
    after the fact, is the goal under another name, not who the users are).

    >>> ok = np.array([True, False] * 10)
    >>> props = {"plan": np.array(["paid", "trial"] * 10, dtype=object), "os": np.array(["a"] * 20, dtype=object)}
    >>> list(without_outcomes(props, ok, np.arange(20)))
    ['os']
    """
    out = {}
    for name, values in properties.items():
        import pandas as pd
        frame = pd.DataFrame({"value": values[paths], "ok": successful_user[paths]}).dropna()
        rates = frame.groupby("value")["ok"].agg(["mean", "size"])
        common = rates[rates["size"] >= 10]
        if len(common) and common["mean"].isin([0.0, 1.0]).all() and common["mean"].nunique() > 1:
            continue
        out[name] = values
    return out


NEVER_BOUND = 1e-6          # chance of no success among a value's users, at the others' rate, below which
                            # the value marks users who cannot reach the goal (not bad luck)
OBSERVED_SHARE = 0.9        # users count once observed for this share of the successful users' time to the goal
MAX_NAMED = 3               # values named in the "left out" sentence
MAX_CHANGING = 0.05         # a property changing along this share of users' events is a state, not who they are


def first_seen_and_goal(log: EventLog, goal: int) -> tuple[np.ndarray, np.ndarray]:
    """Per user code: time of the first event, and of the first ``goal`` (int64 max where none)."""
    never = np.iinfo(np.int64).max
    first_seen = np.full(log.n_users, never, dtype=np.int64)
    starts, _ = path_bounds(log)
    first_seen[log.user[starts]] = log.ts[starts]
    first_goal = np.full(log.n_users, never, dtype=np.int64)
    hits = np.flatnonzero(log.event == goal)
    first_goal[log.user[hits][::-1]] = log.ts[hits][::-1]       # reversed: the earliest hit is written last
    return first_seen, first_goal


def observed_reach(log: EventLog, first_seen: np.ndarray, first_goal: np.ndarray,
                   share: float = OBSERVED_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """(observed, reached): the users first seen at least the time most successful users took to the
    goal (its ``share`` quantile, the horizon) before the end of the data, and which of them reached the
    goal within that horizon of their first event. Every counted user had the same time to convert, so
    a late arrival (a new app version, a new campaign) is not blamed for a shorter look.

    >>> seen = np.array([0, 0, 0, 90]); goal = np.array([10, 20, np.iinfo(np.int64).max, 95])
    >>> log = EventLog.from_frame(__import__("pandas").DataFrame(
    ...     {"user": ["a", "b", "c", "d"], "event": ["x"] * 4, "time": [0, 0, 0, 100]}))
    >>> [m.tolist() for m in observed_reach(log, seen, goal, share=1.0)]   # horizon 20: d came too late
    [[True, True, True, False], [True, True, False, False]]
    """
    never = np.iinfo(np.int64).max
    took = (first_goal - first_seen)[(first_goal != never) & (first_seen != never)]
    horizon = int(np.quantile(took, share)) if len(took) else 0
    end = int(log.ts.max()) if len(log) else 0
    observed = (first_seen != never) & (first_seen <= end - horizon)
    reached = observed & (first_goal != never) & (first_goal - first_seen <= horizon)
    return observed, reached


def never_reaching(log: EventLog, goal: str, bound: float = NEVER_BOUND) -> tuple[np.ndarray, str]:
    """Users who cannot reach the goal: (mask over user codes to leave out of the failing group, the
    sentence saying so, "" when none).

    A property value whose many users never reach the goal while the property's other values do
    (invited members, when only an account's owner can upgrade) marks users for whom the goal is not
    open: compared with those who reach it, everything members do would read as "what failing users
    do". A value is such a mark when none of its users reached the goal and that would happen by
    chance, at the rate of the property's other values, with probability below ``bound`` ((1 - p)^n);
    counted over the users observed long enough (``observed_reach``), so a value that only came up in
    the last days is not taken for one. A property that restates the outcome (some value always
    reaches it, or ``without_outcomes``) is no such mark: its "never" is the outcome itself; nor is a
    state that changes along users' events (a plan flipping at the upgrade), nor anything per session.

    >>> import pandas as pd
    >>> rows = [(f"o{i}", "open", 0, "owner") for i in range(60)] + [(f"o{i}", "pay", 1, "owner") for i in range(30)]
    >>> rows += [(f"m{i}", "open", 0, "member") for i in range(60)]
    >>> log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time", "role"]))
    >>> mask, text = never_reaching(log, "pay")
    >>> int(mask.sum()), text
    (60, 'role = member never reaches pay (60 users): left out')
    """
    code = log.event_code(goal)
    out = np.zeros(log.n_users, dtype=bool)
    if session_owners(log) is not None:
        return out, ""          # per session: a session's first plan or page is no mark of who can convert
    first_seen, first_goal = first_seen_and_goal(log, code)
    observed, _ = observed_reach(log, first_seen, first_goal)
    reached = first_goal != np.iinfo(np.int64).max       # ever: a paid plan always reaches it, however late
    paths = np.flatnonzero(observed)
    named: list[tuple[str, str]] = []
    properties = without_outcomes(path_properties(log), reached, paths)
    for name, values in properties.items():
        if _changes_along_paths(log, name):
            continue                                  # a plan that flips at the upgrade: a state, not a mark
        import pandas as pd
        frame = pd.DataFrame({"value": values[paths], "ok": reached[paths]}).dropna()
        counts = frame.groupby("value")["ok"].agg(["sum", "size"])
        if ((counts["sum"] == counts["size"]) & (counts["size"] >= 10)).any():
            continue                                  # some value always reaches it: the outcome again
        for value, row in counts[counts["sum"] == 0].iterrows():
            others = counts.drop(index=value)
            rate = others["sum"].sum() / max(others["size"].sum(), 1)
            if 0 < rate < 1 and row["size"] * np.log1p(-rate) < np.log(bound):
                out |= values == value
                named.append((name, value))
    if not named:
        return out, ""
    named.sort(key=lambda pair: -int((properties[pair[0]] == pair[1]).sum()))     # the largest group first
    said = " and ".join(f"{name} = {value}" for name, value in named[:MAX_NAMED])
    verb = "never reaches" if len(named) == 1 else "never reach"
    return out, f"{said} {verb} {goal} ({counted(int(out.sum()), log.path_noun)}): left out"
