"""Funnel: how many paths pass a sequence of steps, how long it takes, and where the rest went.

A path enters at its first occurrence of step 1; the window (if any) is measured from there.
- ``sequential`` (default): each step is the first occurrence of that event after the previous
  step, with anything in between;
- ``strict``: each step must be the very next event after the previous step;
- ``any``: the steps may happen in any order; step k counts paths that did steps 1..k each at least
  once within the window from their first step-1 event.
``--exclude E``: a path with E between two steps drops out at that point (sequential/strict).
For every drop-off, "went next" lists the events right after the last step those paths reached.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import properties
from journey_explorer.analysis.arrays import path_bounds, run_numbers
from journey_explorer.analysis.interval import parse_duration  # noqa: F401 - the window spelling, read by the views
from journey_explorer.analysis.records import json_records
from journey_explorer.domain import ChoiceError, StepCountError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

NEEDS_USER_PROPERTIES = True     # breakdowns / segments / CSAT and revenue are user properties

NO_MORE = "(path ended)"
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Spec:
    steps: tuple[str, ...]
    window_ms: int | None = None
    order: str = "sequential"
    exclude: tuple[str, ...] = ()
    breakdown: str | None = None
    next_events: int = 5


@dataclass
class Result:
    spec: Spec
    table: pd.DataFrame          # group, step, event, users, conversion_from_start, ...
    went_next: list[dict]
    groups: list[dict] | None = None     # with a breakdown: [{"group", "paths"}], largest first

    def to_json_dict(self) -> dict:
        return {"steps": list(self.spec.steps), "order": self.spec.order, "window_ms": self.spec.window_ms,
                "exclude": list(self.spec.exclude), "breakdown": self.spec.breakdown, "groups": self.groups,
                "funnel": json_records(self.table),
                "went_next": self.went_next}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _positions_sequential(log: EventLog, codes: list[int], exclude: list[int], strict: bool,
                          window: int | None) -> np.ndarray:
    """(paths, steps) index of the event reaching each step, -1 where not reached."""
    starts, ends = path_bounds(log)
    position = np.full((len(starts), len(codes)), -1, dtype=np.int64)
    excluded = np.flatnonzero(np.isin(log.event, exclude)) if exclude else np.zeros(0, dtype=np.int64)
    previous = starts - 1                    # "before the path": any first occurrence counts for step 1
    alive = np.ones(len(starts), dtype=bool)
    for k, code in enumerate(codes):
        if strict and k > 0:
            candidate = previous + 1
            ok = alive & (candidate < ends)
            ok[ok] = log.event[candidate[ok]] == code
        else:
            hits = np.flatnonzero(log.event == code)
            j = np.searchsorted(hits, previous, side="right")
            candidate = np.where(j < len(hits), hits[np.minimum(j, len(hits) - 1)], NEVER)
            ok = alive & (candidate < ends)
        if k > 0 and window is not None:
            first = position[:, 0]
            ok[ok] = log.ts[candidate[ok]] - log.ts[first[ok]] <= window
        if k > 0 and len(excluded):
            j = np.searchsorted(excluded, previous, side="right")
            next_excluded = np.where(j < len(excluded), excluded[np.minimum(j, len(excluded) - 1)], NEVER)
            ok &= ~(next_excluded < candidate)
        position[ok, k] = candidate[ok]
        alive = ok
        previous = np.where(ok, candidate, previous)
    return position


def _positions_any(log: EventLog, codes: list[int], window: int | None) -> np.ndarray:
    """Any order: step k reached when steps 1..k all occur within the window from the first step 1."""
    starts, ends = path_bounds(log)
    path_of = run_numbers(starts, len(log))
    first = np.full((len(starts), len(codes)), -1, dtype=np.int64)
    anchor_ts = None
    for k, code in enumerate(codes):
        hits = np.flatnonzero(log.event == code)
        paths = path_of[hits]
        if anchor_ts is not None:
            inside = log.ts[hits] >= anchor_ts[paths]
            if window is not None:
                inside &= log.ts[hits] - anchor_ts[paths] <= window
            hits, paths = hits[inside], paths[inside]
        is_first = np.ones(len(hits), dtype=bool)
        is_first[1:] = paths[1:] != paths[:-1]
        first[paths[is_first], k] = hits[is_first]
        if k == 0:
            anchor_ts = np.where(first[:, 0] >= 0, log.ts[np.maximum(first[:, 0], 0)], NEVER)
    reached = np.cumprod(first >= 0, axis=1).astype(bool)
    return np.where(reached, first, -1)


def _step_rows(log: EventLog, spec: Spec, position: np.ndarray, group_of_row: np.ndarray,
               labels: list[str]) -> list[tuple]:
    """Table rows: the whole funnel (group None), then one funnel per breakdown group.
    ``group_of_row``: each path's index in ``labels``; counts come from one ``bincount`` per step."""
    n_steps, n_groups = len(spec.steps), len(labels)
    users = np.zeros((n_groups + 1, n_steps), dtype=np.int64)         # row 0: everyone
    seconds, owners = [np.zeros(0)], [np.zeros(0, dtype=np.int64)]     # per step: time from the previous step
    for k in range(n_steps):
        reached = np.flatnonzero(position[:, k] >= 0)
        users[0, k] = len(reached)
        users[1:, k] = np.bincount(group_of_row[reached], minlength=n_groups)
        if k > 0:
            seconds.append(np.abs(log.ts[position[reached, k]] - log.ts[position[reached, k - 1]]) / 1000.0)
            owners.append(group_of_row[reached])
    rows = []
    for g, group in enumerate([None] + list(labels)):
        entered = int(users[g, 0])
        for k, name in enumerate(spec.steps):
            mine = seconds[k] if g == 0 else seconds[k][owners[k] == g - 1]
            median, p90 = np.quantile(mine, [0.5, 0.9]) if len(mine) else (np.nan, np.nan)
            now, before = int(users[g, k]), int(users[g, k - 1]) if k else entered
            rows.append((group, k + 1, name, now, round(now / entered, 4) if entered else 0.0,
                         round(now / before, 4) if before else 0.0, before - now if k else 0,
                         None if np.isnan(median) else round(float(median), 1),
                         None if np.isnan(p90) else round(float(p90), 1)))
    return rows


def _went_next(log: EventLog, spec: Spec, position: np.ndarray, group_of_row: np.ndarray,
               labels: list[str]) -> list[dict]:
    """For the paths lost at each step: the event right after the last step they reached; for
    everyone (group None), then per breakdown group."""
    names = list(log.event_names) + [NO_MORE]          # the last code: the path ended
    n_groups = len(labels)
    counts = []                                        # per step: (groups + 1, codes)
    for k in range(1, len(spec.steps)):
        lost = np.flatnonzero((position[:, k - 1] >= 0) & (position[:, k] < 0))
        last = position[lost, k - 1]
        following = last + 1
        same = following < len(log)
        same[same] = log.user[following[same]] == log.user[last[same]]
        code = np.where(same, log.event[np.minimum(following, len(log) - 1)], len(log.event_names))
        per_group = np.bincount(group_of_row[lost] * len(names) + code,
                                minlength=max(n_groups, 1) * len(names)).reshape(-1, len(names))[:n_groups]
        counts.append(np.vstack([np.bincount(code, minlength=len(names)), per_group]))
    out = []
    for g, group in enumerate([None] + list(labels)):
        for k, table in enumerate(counts, start=1):
            row, lost_users = table[g], int(table[g].sum())
            top = [int(c) for c in np.argsort(-row, kind="stable")[:spec.next_events] if row[c] > 0]
            out.append({"group": group, "lost_after_step": k, "users": lost_users,
                        "next": [{"event": names[c], "users": int(row[c]), "share": round(row[c] / max(lost_users, 1), 4)}
                                 for c in top]})
    return out


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    import pandas as pd
    if len(spec.steps) < 2:
        raise StepCountError(len(spec.steps), 2, what="a funnel")
    if spec.order not in ("sequential", "strict", "any"):
        raise ChoiceError("order", spec.order, ("strict", "sequential", "any"))
    codes = [log.event_code(s) for s in spec.steps]
    exclude = [log.event_code(e) for e in spec.exclude]
    if spec.order == "any":
        position = _positions_any(log, codes, spec.window_ms)
    else:
        position = _positions_sequential(log, codes, exclude, spec.order == "strict", spec.window_ms)
    split, labels = None, []
    group_of_row = np.zeros(len(position), dtype=np.int64)
    if spec.breakdown:          # one funnel per property value (first touch), after the overall one
        split = properties.breakdown(log, spec.breakdown)
        group_of_row, labels = split.group[log.user[path_bounds(log)[0]]], split.labels
    rows = _step_rows(log, spec, position, group_of_row, labels)
    went = _went_next(log, spec, position, group_of_row, labels)
    table = pd.DataFrame(rows, columns=["group", "step", "event", "users", "conversion_from_start",
                                        "conversion_from_previous", "drop_off", "median_seconds_to_convert",
                                        "p90_seconds_to_convert"])
    return Result(spec=spec, table=table, went_next=went,
                  groups=split.to_json_dict()["groups"] if split else None)


def steps_reached(log: EventLog, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """Per path (user): its user code and how many of the steps it completed in order (sequential or
    strict funnels; the counts behind ``run``'s table without a breakdown)."""
    if spec.order not in ("sequential", "strict"):
        raise ChoiceError("order", spec.order, ("strict", "sequential"))
    codes = [log.event_code(s) for s in spec.steps]
    exclude = [log.event_code(e) for e in spec.exclude]
    position = _positions_sequential(log, codes, exclude, spec.order == "strict", spec.window_ms)
    return log.user[path_bounds(log)[0]], (position >= 0).sum(axis=1)


DEFAULT_WINDOW = "30d"       # conversion window the app and the funnel command start from


def default_steps(log: EventLog, goal: str | None) -> list[str]:
    """The funnel a view shows before anyone chooses steps: the most common first event, then the goal.

    >>> import pandas as pd
    >>> from journey_explorer.eventlog import EventLog
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "b", "b", "c"], "event": ["x", "buy", "x", "y", "y"],
    ...                                         "time": [0, 1, 0, 1, 0]}))
    >>> default_steps(log, "buy"), default_steps(log, None), default_steps(log, "x")
    (['x', 'buy'], ['x'], ['x'])
    """
    firsts = np.bincount(log.event[log.path_starts()], minlength=len(log.event_names))
    steps = [log.event_names[int(firsts.argmax())]]
    if goal and goal not in steps:
        steps.append(goal)
    return steps

