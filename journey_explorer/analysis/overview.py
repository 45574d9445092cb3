"""Overview: paths, events, sessions, time range, share reaching the goal, and weekly activity.

The numbers of the Overview tab. ``--breakdown PROPERTY`` adds the same headline numbers per group of
the property's first-touch value (its top 5 values, Other, "(none)").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis import lifecycle, northstar
from journey_explorer.analysis.units import path_words
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

NEEDS_USER_PROPERTIES = True     # a breakdown may use user properties
GROUP_COLUMNS = ["group", "paths", "events", "sessions", "reached", "conversion"]


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    breakdown: str | None = None


@dataclass
class Result:
    spec: Spec
    paths: int
    events: int
    sessions: int
    first_ms: int
    last_ms: int
    reached: int | None              # paths reaching the goal (None without a goal)
    weekly: pd.DataFrame             # lifecycle per week: period, new, returning, ..., active
    star: pd.DataFrame | None        # users doing the goal per week
    groups: pd.DataFrame | None = None   # with a breakdown: GROUP_COLUMNS

    @property
    def conversion(self) -> float | None:
        return None if self.reached is None else self.reached / max(self.paths, 1)

    def to_json_dict(self) -> dict:
        import pandas as pd
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"paths": self.paths, "events": self.events, "sessions": self.sessions,
                "first": pd.Timestamp(self.first_ms, unit="ms", tz="UTC").isoformat(),
                "last": pd.Timestamp(self.last_ms, unit="ms", tz="UTC").isoformat(),
                "goal": self.spec.goal, "reached": self.reached,
                "conversion": None if self.conversion is None else round(self.conversion, 4),
                "weekly": records(self.weekly),
                "breakdown_property": self.spec.breakdown,
                "groups": records(self.groups) if self.groups is not None else None}

    def to_frame(self) -> pd.DataFrame:
        """The weekly table; with a breakdown, the numbers per group."""
        if self.groups is not None:
            return self.groups.copy()
        table = self.weekly[["period", "active", "new", "returning", "resurrected", "dormant"]]
        return table.assign(doing_goal=self.star["metric"].to_numpy()) if self.star is not None else table.copy()


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if len(log) == 0:
        raise JourneyError("No events match the filters.")
    goal = spec.goal if spec.goal in log.event_names else None
    if spec.goal and goal is None:
        log.event_code(spec.goal)          # a clear error for an unknown goal
    reached_by = None
    if goal:
        reached_by = np.zeros(log.n_users, dtype=bool)
        reached_by[log.user[log.event == log.event_code(goal)]] = True
    weekly = lifecycle.run(log, lifecycle.Spec(period="week")).table
    star = northstar.run(log, northstar.Spec(event=goal, period="week")).table if goal else None
    return Result(spec=spec, paths=log.paths_count, events=len(log), sessions=_distinct(log.session),
                  first_ms=int(log.ts.min()), last_ms=int(log.ts.max()),
                  reached=None if reached_by is None else int(reached_by.sum()), weekly=weekly, star=star,
                  groups=_groups(log, spec.breakdown, reached_by) if spec.breakdown else None)


def summary(log: EventLog, goal: str | None) -> dict:
    """The Overview tab's numbers without pandas (it is the first view drawn on start-up): the same
    numbers as ``run``, the weekly lifecycle and the north star as ``Columns``."""
    from journey_explorer.analysis.columns import Columns
    if len(log) == 0:
        raise JourneyError("No events match the filters.")
    weekly = lifecycle.counts(log, "week")
    reached = star = None
    if goal:
        code = log.event_code(goal)
        reached_by = np.zeros(log.n_users, dtype=bool)
        reached_by[log.user[log.event == code]] = True
        reached = int(reached_by.sum())
        ordinals = lifecycle.period_ordinals(log.ts, "week")
        first = int(ordinals.min())
        size = int(ordinals.max()) - first + 1
        breadth = northstar.critical_counts(log, code, ordinals - first, size)[0]
        star = Columns({"period": weekly["period"], "metric": breadth})
    return {"users": log.paths_count, "events": len(log), "sessions": _distinct(log.session),
            "first": int(log.ts.min()), "last": int(log.ts.max()), "reached": reached, "goal": goal,
            "weekly": Columns(weekly), "star": star, "path_unit": path_words(log)}


def _distinct(sorted_values: np.ndarray) -> int:
    """Distinct values of a non-decreasing array (sessions are numbered in order)."""
    return int(len(sorted_values) and 1 + np.count_nonzero(sorted_values[1:] != sorted_values[:-1]))


def _groups(log: EventLog, key: str, reached_by: np.ndarray | None) -> pd.DataFrame:
    import pandas as pd

    from journey_explorer.analysis import properties
    split = properties.breakdown(log, key)
    size = len(split.labels)
    event_group = split.group[log.user]
    events = np.bincount(event_group, minlength=size)
    new_session = np.ones(len(log), dtype=bool)
    new_session[1:] = log.session[1:] != log.session[:-1]
    sessions = np.bincount(event_group[new_session], minlength=size)
    frame = pd.DataFrame({"group": split.labels, "paths": split.sizes, "events": events, "sessions": sessions})
    if reached_by is None:
        return frame.assign(reached=None, conversion=None)[GROUP_COLUMNS]
    reached = np.bincount(split.group[reached_by & (split.group >= 0)], minlength=size)
    return frame.assign(reached=reached, conversion=np.round(reached / np.maximum(split.sizes, 1), 4))[GROUP_COLUMNS]
