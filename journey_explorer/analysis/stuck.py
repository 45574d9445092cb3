"""Stuck points: where paths end without the goal, loop, or stall — and how successful users got past.

Per event type:
- ``users``: paths that reached it; ``ended_without_goal``: failing paths whose last event it is;
- ``exit_rate`` = ended_without_goal / users;
- ``loop_rate``: share of its users who repeat it (A -> A) or bounce back to it (A -> B -> A);
- ``dwell``: median seconds to the next event, for all users and for successful users.

Rank score (higher = more stuck), chosen so that volume alone does not decide:

    score = sqrt(users) * (max(0, exit_rate - baseline) + 0.5 * excess_loop + 0.25 * stall)

where ``baseline`` = sum(ended_without_goal) / sum(users) over event types reached by at least 1 % of
paths (the average chance that a step is a failing path's last), ``excess_loop`` = max(0, loop rate
of failing users - loop rate of successful users) (loops that successful users do too are just
normal use), and ``stall`` = max(0, log2(dwell_all / dwell_successful)), capped at 3. The square
root damps volume: a step with 4x the users needs only half the excess to rank the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journey_explorer.analysis.arrays import distinct_count, group_quantiles, path_bounds, users_with_event
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.domain import JourneyError

RANK_EXPLANATION = ("score = sqrt(users) * (max(0, exit_rate - baseline_exit_rate) + 0.5 * excess_loop "
                    "+ 0.25 * stall); excess_loop = max(0, loop rate of failing - of successful users); "
                    "stall = max(0, log2(dwell / dwell of successful users)) capped at 3; baseline = "
                    "sum(ended_without_goal) / sum(users) over event types reached by >= 1% of paths")


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    top: int = 5              # stuck points that get an "unstuck" comparison
    next_events: int = 5


@dataclass
class Result:
    spec: Spec
    paths: int
    successful: int
    baseline_exit_rate: float
    table: pd.DataFrame
    unstuck: list[dict]

    def to_json_dict(self) -> dict:
        return {"goal": self.spec.goal, "paths": self.paths, "successful": self.successful,
                "baseline_exit_rate": round(self.baseline_exit_rate, 4), "rank_explanation": RANK_EXPLANATION,
                "events": _records(self.table), "unstuck": self.unstuck}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _loop_users(log: EventLog, size: int, among: np.ndarray) -> np.ndarray:
    """Per event type, users (of those with ``among[user]``) with a repeat (A A) or a bounce (A B A)."""
    same1 = log.user[1:] == log.user[:-1]
    repeat = same1 & (log.event[1:] == log.event[:-1])
    codes, users = [log.event[:-1][repeat]], [log.user[:-1][repeat]]
    if len(log) > 2:
        same2 = same1[1:] & same1[:-1]
        bounce = same2 & (log.event[2:] == log.event[:-2]) & (log.event[1:-1] != log.event[:-2])
        codes.append(log.event[:-2][bounce])
        users.append(log.user[:-2][bounce])
    codes, users = np.concatenate(codes), np.concatenate(users)
    keep = among[users]
    return distinct_count(codes[keep], users[keep], size)


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if not spec.goal:
        raise JourneyError("stuck points need a goal: give --goal EVENT or set the project's default goal")
    goal = log.event_code(spec.goal)
    size = len(log.event_names)
    successful_user = users_with_event(log, goal)
    starts, ends = path_bounds(log)
    paths = len(starts)
    reached = distinct_count(log.event, log.user, size)
    last_event, last_user = log.event[ends - 1], log.user[ends - 1]
    failing_end = ~successful_user[last_user]
    ended = np.bincount(last_event[failing_end], minlength=size)
    loops = {group: _loop_users(log, size, successful_user == group) for group in (True, False)}
    reached_by = {group: distinct_count(log.event[successful_user[log.user] == group],
                                        log.user[successful_user[log.user] == group], size)
                  for group in (True, False)}
    same = np.append(log.user[1:] == log.user[:-1], False)
    gap = np.append(np.diff(log.ts) / 1000.0, np.nan)
    has_next = same & ~np.isnan(gap)
    dwell = group_quantiles(log.event[has_next], gap[has_next], size, (0.5,))[0]
    ok = has_next & successful_user[log.user]
    dwell_successful = group_quantiles(log.event[ok], gap[ok], size, (0.5,))[0]
    table = _table(log, reached, ended, loops, reached_by, dwell, dwell_successful, paths, goal)
    baseline = float(table.attrs["baseline"])
    unstuck = _unstuck(log, table.head(spec.top)["event"].tolist(), successful_user, spec.next_events)
    return Result(spec=spec, paths=paths, successful=int(successful_user[np.unique(log.user)].sum()) if paths else 0,
                  baseline_exit_rate=baseline, table=table, unstuck=unstuck)


def _table(log, reached, ended, loops, reached_by, dwell, dwell_successful, paths, goal) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        exit_rate = np.where(reached > 0, ended / np.maximum(reached, 1), np.nan)
        loop_rate = (loops[True] + loops[False]) / np.maximum(reached, 1)
        loop_successful = loops[True] / np.maximum(reached_by[True], 1)
        loop_failing = loops[False] / np.maximum(reached_by[False], 1)
        stall = np.clip(np.nan_to_num(np.log2(dwell / dwell_successful), nan=0.0, posinf=3.0), 0, 3)
    common = (reached >= 0.01 * paths) & (np.arange(len(reached)) != goal) & (reached > 0)
    baseline = float(ended[common].sum() / reached[common].sum()) if common.any() else 0.0
    excess_loop = np.maximum(0, loop_failing - loop_successful)
    score = np.sqrt(reached) * (np.maximum(0, exit_rate - baseline) + 0.5 * excess_loop + 0.25 * stall)
    table = pd.DataFrame({
        "event": list(log.event_names), "users": reached, "ended_without_goal": ended,
        "exit_rate": np.round(exit_rate, 4), "loop_rate": np.round(loop_rate, 4),
        "loop_rate_successful": np.round(loop_successful, 4), "loop_rate_failing": np.round(loop_failing, 4),
        "dwell_median_seconds": np.round(dwell, 1), "dwell_median_seconds_successful": np.round(dwell_successful, 1),
        "score": np.round(score, 3)})
    table = table[(table["users"] > 0) & (table.index != goal)]
    table = table.sort_values("score", ascending=False, ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table.attrs["baseline"] = baseline
    return table


def _unstuck(log: EventLog, events: list[str], successful_user: np.ndarray, top: int) -> list[dict]:
    """For each stuck point: what successful vs failing users did right after it (share of users)."""
    same = log.user[1:] == log.user[:-1]
    source, target, user = log.event[:-1][same], log.event[1:][same], log.user[:-1][same]
    size = len(log.event_names)
    out = []
    for name in events:
        code = log.event_code(name)
        at = source == code
        group_users = {g: np.unique(log.user[log.event == code][successful_user[log.user[log.event == code]] == g])
                       for g in (True, False)}
        shares = {}
        for g in (True, False):
            mask = at & (successful_user[user] == g)
            counts = distinct_count(target[mask], user[mask], size)
            shares[g] = counts / max(len(group_users[g]), 1)
        order = np.argsort(-(shares[True] + shares[False] * 1e-6))[:top]
        out.append({"event": name, "successful_users": int(len(group_users[True])),
                    "failing_users": int(len(group_users[False])),
                    "next": [{"event": log.event_names[c], "successful_share": round(float(shares[True][c]), 4),
                              "failing_share": round(float(shares[False][c]), 4)}
                             for c in order if shares[True][c] > 0 or shares[False][c] > 0]})
    return out


def add_arguments(parser) -> None:
    parser.add_argument("--goal", help="the goal event (default: the project's)")


def spec_from_args(args, log: EventLog) -> Spec:
    return Spec(goal=args.goal or log.default_goal)
