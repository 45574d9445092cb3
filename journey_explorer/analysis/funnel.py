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

import numpy as np
import pandas as pd

from journey_explorer.analysis import properties
from journey_explorer.analysis.arrays import path_bounds
from journey_explorer.analysis.common import add_breakdown_argument
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.analysis.interval import parse_duration
from journey_explorer.domain import JourneyError

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
                "funnel": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                           for row in self.table.to_dict("records")],
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
    path_of = np.repeat(np.arange(len(starts)), ends - starts)
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


def _step_rows(log: EventLog, spec: Spec, position: np.ndarray, group: str | None) -> list[tuple]:
    rows = []
    entered = int((position[:, 0] >= 0).sum()) if len(position) else 0
    previous_users = entered
    for k, name in enumerate(spec.steps):
        reached = position[:, k] >= 0
        users = int(reached.sum())
        seconds = np.zeros(0)
        if k > 0 and users:
            seconds = (log.ts[position[reached, k]] - log.ts[position[reached, k - 1]]) / 1000.0
            seconds = np.abs(seconds)
        median, p90 = (np.quantile(seconds, [0.5, 0.9]) if len(seconds) else (np.nan, np.nan))
        rows.append((group, k + 1, name, users, round(users / entered, 4) if entered else 0.0,
                     round(users / previous_users, 4) if previous_users else 0.0, previous_users - users if k else 0,
                     None if np.isnan(median) else round(float(median), 1),
                     None if np.isnan(p90) else round(float(p90), 1)))
        previous_users = users
    return rows


def _next_codes(log: EventLog, spec: Spec, position: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per step k >= 2: (mask of paths lost there, code of the event right after the last step they
    reached; ``len(event_names)`` when the path ended)."""
    out = []
    for k in range(1, len(spec.steps)):
        lost = (position[:, k - 1] >= 0) & (position[:, k] < 0)
        last = position[lost, k - 1]
        following = last + 1
        same = following < len(log)
        same[same] = log.user[following[same]] == log.user[last[same]]
        out.append((lost, np.where(same, log.event[np.minimum(following, len(log) - 1)], len(log.event_names))))
    return out


def _went_next(log: EventLog, spec: Spec, lost_next: list, mask: np.ndarray, group: str | None) -> list[dict]:
    """For the paths (of ``mask``) lost at each step: the event right after the last step they reached."""
    names = list(log.event_names) + [NO_MORE]
    out = []
    for k, (lost, code) in enumerate(lost_next, start=1):
        mine = code[mask[lost]]
        counts = np.bincount(mine, minlength=len(names))
        top = [int(c) for c in np.argsort(-counts, kind="stable")[:spec.next_events] if counts[c] > 0]
        out.append({"group": group, "lost_after_step": k, "users": len(mine),
                    "next": [{"event": names[c], "users": int(counts[c]), "share": round(counts[c] / max(len(mine), 1), 4)}
                             for c in top]})
    return out


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    if len(spec.steps) < 2:
        raise JourneyError("a funnel needs at least two --steps, e.g. --steps 'Sign Up,Subscription Paid'")
    if spec.order not in ("sequential", "strict", "any"):
        raise JourneyError("--order must be strict, sequential or any")
    codes = [log.event_code(s) for s in spec.steps]
    exclude = [log.event_code(e) for e in spec.exclude]
    if spec.order == "any":
        position = _positions_any(log, codes, spec.window_ms)
    else:
        position = _positions_sequential(log, codes, exclude, spec.order == "strict", spec.window_ms)
    path_users = log.user[path_bounds(log)[0]]
    groups = [(None, np.ones(len(position), dtype=bool))]
    split = None
    if spec.breakdown:          # one funnel per property value (first touch), after the overall one
        split = properties.breakdown(log, spec.breakdown)
        group_of_row = split.group[path_users]
        groups += [(label, group_of_row == index) for index, label in enumerate(split.labels)]
    rows, went = [], []
    lost_next = _next_codes(log, spec, position)
    for name, mask in groups:
        rows += _step_rows(log, spec, position[mask], name)
        went += _went_next(log, spec, lost_next, mask, name)
    table = pd.DataFrame(rows, columns=["group", "step", "event", "users", "conversion_from_start",
                                        "conversion_from_previous", "drop_off", "median_seconds_to_convert",
                                        "p90_seconds_to_convert"])
    return Result(spec=spec, table=table, went_next=went,
                  groups=split.to_json_dict()["groups"] if split else None)


DEFAULT_WINDOW = "30d"       # conversion window the app and the funnel command start from


def add_arguments(parser) -> None:
    parser.add_argument("--steps", required=True, help="comma-separated events, e.g. 'Sign Up,Checkout Started'")
    parser.add_argument("--window", default=DEFAULT_WINDOW,
                        help=f"time allowed from the first step, e.g. 7d, 12h, 30m (default {DEFAULT_WINDOW}; "
                             "'none' for no limit)")
    parser.add_argument("--order", choices=("strict", "sequential", "any"), default="sequential")
    parser.add_argument("--exclude", default="", help="comma-separated events that drop a path out")
    add_breakdown_argument(parser)


def spec_from_args(args, log: EventLog) -> Spec:
    return Spec(steps=tuple(s.strip() for s in args.steps.split(",") if s.strip()),
                window_ms=None if args.window in (None, "", "none") else parse_duration(args.window),
                order=args.order,
                exclude=tuple(e.strip() for e in args.exclude.split(",") if e.strip()),
                breakdown=args.breakdown)

