"""Variants: the most common whole paths, as in process mining.

A path's variant is its sequence of event types with immediate repeats merged (``A A B`` reads
``A → B``: a refresh is not a new way through). For each of the most common variants: how many
paths follow it, their share of all paths, the median duration (first to last event) and whether
the variant contains the goal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import path_bounds
from journey_explorer.eventlog import EventLog

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["variant", "steps", "paths", "share", "median_seconds", "reached_goal"]
ARROW = " → "


def variants(log: EventLog, goal: str | None = None, top: int = 10) -> pd.DataFrame:
    """The ``top`` most common variants of ``log``'s paths (see module doc), most common first."""
    import pandas as pd
    return pd.DataFrame(variant_rows(log, goal, top), columns=COLUMNS)


def variant_rows(log: EventLog, goal: str | None = None, top: int = 10) -> list[dict]:
    """``variants`` as rows of plain Python values, without pandas (the command line's JSON)."""
    if len(log) == 0:
        return []
    starts, ends = path_bounds(log)
    path_of = np.repeat(np.arange(len(starts)), ends - starts)
    first = np.ones(len(log), dtype=bool)
    first[1:] = (log.event[1:] != log.event[:-1]) | (path_of[1:] != path_of[:-1])
    # One character per event type: a path's variant is a short string. The strings are cut from one
    # joined string at the path bounds (a per-path join in pandas took ~10 s at 200k paths); every
    # path has a first event, so each path gets its key, in order.
    letters = np.array([chr(0x100 + code) for code in range(len(log.event_names))], dtype=object)
    text = "".join(letters[log.event[first]])
    merged_path = path_of[first]
    bounds = np.append(np.flatnonzero(np.r_[True, merged_path[1:] != merged_path[:-1]]), len(merged_path)).tolist()
    group_of: dict[str, int] = {}
    group = np.array([group_of.setdefault(text[a:b], len(group_of)) for a, b in zip(bounds[:-1], bounds[1:])])
    keys = sorted(group_of)                     # as pandas' groupby lists them
    sizes = np.bincount(group, minlength=len(keys))[[group_of[key] for key in keys]]
    durations = (log.ts[ends - 1] - log.ts[starts]) / 1000.0
    goal_letter = chr(0x100 + log.event_names.index(goal)) if goal in log.event_names else None
    rows = []
    for rank in most_common(sizes)[:top]:
        key, size = keys[rank], int(sizes[rank])
        median = float(np.median(durations[group == group_of[key]]))
        rows.append({"variant": ARROW.join(log.event_names[ord(c) - 0x100] for c in key), "steps": len(key),
                     "paths": size, "share": size / len(starts), "median_seconds": round(median, 3),
                     "reached_goal": None if goal_letter is None else goal_letter in key})
    return rows


def most_common(sizes: np.ndarray) -> np.ndarray:
    """Positions of ``sizes`` largest first; equal sizes in the order pandas' ``sort_values(ascending=
    False)`` gives them (its default quicksort is not stable: the same sort on the same reversed
    array, so the variants listed at a tie do not change).

    >>> most_common(np.array([1, 5, 3])).tolist()
    [1, 2, 0]
    """
    positions = np.arange(len(sizes))[::-1]
    return positions[sizes[::-1].argsort(kind="quicksort")][::-1]
