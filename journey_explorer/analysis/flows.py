"""Flows (Sankey): how paths continue step by step from an anchor.

- forward (default, or ``--from EVENT``): step 1 is each path's first event (or its first ``EVENT``);
  the following steps are the next events. A path that ends gives a "Drop-off" node at the next step
  and is not followed further.
- backward (``--to EVENT``): the last step is each path's first ``EVENT``; earlier steps count back.
  Where a path began later, the step shows "Path start".
- between (``--from A --to B``): paths that reach B after their first A, from that A up to that B;
  the B node ends those paths ("Reached B" is not a drop-off).

Each step keeps its top K events by users; the rest are merged into "Other". With ``--split goal``
every node and link is split into successful users (reach the goal anywhere in their path) and
failing users; with ``--breakdown PROPERTY`` into groups by the property's first-touch value (its
top 5 values, Other, and "(none)" for paths without it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from journey_explorer.analysis.arrays import path_bounds, users_with_event
from journey_explorer.analysis.transforms import collapse_repeats, exclude_events
from journey_explorer.domain import JourneyError, MissingGoal, StepCountError
from journey_explorer.eventlog import EventLog

MAX_STEPS = 20
OTHER, DROP_OFF, PATH_START = "Other", "Drop-off", "Path start"
NODE_COLUMNS = ["step", "event", "group", "users"]
LINK_COLUMNS = ["step", "source", "target", "group", "users", "share_of_start", "median_seconds"]
REACHED = "(reached the target)"      # cells after the --to event in between mode: no node, no link


@dataclass(frozen=True)
class Spec:
    from_event: str | None = None
    to_event: str | None = None
    steps: int = 5
    top: int = 6
    collapse_repeats: bool = False
    exclude: tuple[str, ...] = ()
    split: str | None = None          # None or "goal"
    goal: str | None = None
    breakdown: str | None = None      # a property: split nodes and links by its values

    @property
    def direction(self) -> str:
        if self.to_event and not self.from_event:
            return "backward"
        return "between" if self.to_event else "forward"


@dataclass
class Result:
    spec: Spec
    paths: int
    labels: list[str]                  # label code -> name
    matrix: np.ndarray                 # (paths, steps) label codes
    path_users: np.ndarray             # user code of each row of ``matrix``
    groups: np.ndarray | None          # per row: True = successful (only with split)
    node_rows: list[dict]              # step, event, group, users
    link_rows: list[dict]              # step, source, target, group, users, share_of_start, median_seconds
    user_keys: np.ndarray = field(repr=False, default=None)
    breakdown_groups: list[dict] | None = None   # with a breakdown: [{"group", "paths"}], largest first
    breakdown_of_row: np.ndarray | None = field(repr=False, default=None)   # per row: index in those groups

    @property
    def nodes(self):
        """Nodes as a DataFrame (pandas is imported only when a table is asked for)."""
        import pandas as pd
        return pd.DataFrame(self.node_rows, columns=NODE_COLUMNS)

    @property
    def links(self):
        import pandas as pd
        return pd.DataFrame(self.link_rows, columns=LINK_COLUMNS)

    def users_at(self, step: int, event: str, group: str | None = None) -> np.ndarray:
        """User codes of the paths in node (step, event) — for drill-down and saved segments."""
        if event not in self.labels:
            return np.zeros(0, dtype=np.int64)
        mask = self.matrix[:, step - 1] == self.labels.index(event)
        if group is not None and self.breakdown_of_row is not None:
            names = [g["group"] for g in self.breakdown_groups]
            mask &= self.breakdown_of_row == (names.index(group) if group in names else -2)
        elif group is not None and self.groups is not None:
            mask &= self.groups == (group == "successful")
        return np.unique(self.path_users[mask])

    def to_json_dict(self) -> dict:
        split = self.spec.split is not None or self.spec.breakdown is not None
        drop = [] if split else ["group"]
        return {"direction": self.spec.direction, "from": self.spec.from_event, "to": self.spec.to_event,
                "steps": self.spec.steps, "paths": self.paths, "split": self.spec.split,
                "goal": self.spec.goal if self.spec.split else None,
                "breakdown": self.spec.breakdown, "groups": self.breakdown_groups,
                "nodes": [{k: v for k, v in row.items() if k not in drop} for row in self.node_rows],
                "links": [{k: v for k, v in row.items() if k not in drop} for row in self.link_rows]}

    def to_frame(self):
        return self.links


# --- anchors -------------------------------------------------------------------------------------


def _first_index_in_path(log: EventLog, code: int, starts: np.ndarray, ends: np.ndarray,
                         after: np.ndarray | None = None) -> np.ndarray:
    """Per path, the index of its first ``code`` event (at or after ``after``); -1 when none."""
    hits = np.flatnonzero(log.event == code)
    path_of_hit = np.searchsorted(starts, hits, side="right") - 1
    if after is not None:
        keep = hits >= after[path_of_hit]
        hits, path_of_hit = hits[keep], path_of_hit[keep]
    first = np.full(len(starts), -1, dtype=np.int64)
    is_first = np.ones(len(hits), dtype=bool)
    is_first[1:] = path_of_hit[1:] != path_of_hit[:-1]
    first[path_of_hit[is_first]] = hits[is_first]
    return first


def _step_matrix(log: EventLog, spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(event index per step and path, or -1 for drop-off / -2 for path start), valid path mask,
    the time of each cell, and the path-end marker (between mode: reached the target)."""
    starts, ends = path_bounds(log)
    steps = spec.steps
    if spec.from_event:
        anchor = _first_index_in_path(log, log.event_code(spec.from_event), starts, ends)
    else:
        anchor = starts.copy()
    limit = ends.copy()
    if spec.to_event:
        after = anchor if spec.from_event else starts
        target = _first_index_in_path(log, log.event_code(spec.to_event), starts, ends, after=after)
        if spec.from_event:
            anchor = np.where(target >= 0, anchor, -1)
            limit = np.where(target >= 0, target + 1, limit)
        else:
            anchor = target
    valid = anchor >= 0
    # int32 cells: half the memory traffic of int64 on the (steps x paths) passes below.
    anchor, starts_v, limit = (a[valid].astype(np.int32) for a in (anchor, starts, limit))
    # Step-major (steps, paths): each step is one contiguous row, which the per-step passes prefer.
    if spec.direction == "backward":
        cells = anchor[None, :] - np.arange(steps - 1, -1, -1, dtype=np.int32)[:, None]
        cells[cells < starts_v[None, :]] = -2
    else:
        cells = anchor[None, :] + np.arange(steps, dtype=np.int32)[:, None]
        # Between mode: every kept path reaches the target, so what follows it is not a drop-off.
        cells[cells >= limit[None, :]] = -3 if spec.direction == "between" else -1
    return cells, valid, starts, ends


def _labels(log: EventLog, cells: np.ndarray, top: int) -> tuple[np.ndarray, list[str]]:
    """Label codes per step: its top events by users, else Other; cells -1 / -2 / -3 become
    Drop-off / Path start / reached-the-target."""
    names = list(log.event_names)
    other, drop, start, reached = len(names), len(names) + 1, len(names) + 2, len(names) + 3
    special = np.array([reached, start, drop], dtype=np.int32)     # indexed by cell + 3
    labels = np.empty(cells.shape, dtype=np.int32)
    for step in range(cells.shape[0]):
        row = cells[step]
        outside = row < 0
        column = log.event[np.maximum(row, 0)]
        counts = np.bincount(column[~outside], minlength=len(names))
        keep = np.argsort(-counts, kind="stable")[:top]
        label_of = np.full(len(names), other, dtype=np.int32)     # event code -> label code
        kept = keep[counts[keep] > 0]
        label_of[kept] = kept
        labels[step] = label_of[column]
        labels[step][outside] = special[row[outside] + 3]
    return labels, names + [OTHER, DROP_OFF, PATH_START, REACHED]


def _goal_groups(log: EventLog, spec: Spec, path_users: np.ndarray) -> np.ndarray | None:
    if spec.split != "goal":
        return None
    if not spec.goal:
        raise MissingGoal("splitting by the goal", need="needs")
    return users_with_event(log, log.event_code(spec.goal))[path_users]


def run(log: EventLog, spec: Spec = Spec(), progress=None) -> Result:
    if not 1 <= spec.steps <= MAX_STEPS:
        raise StepCountError(spec.steps, 1, MAX_STEPS)
    for name in (spec.from_event, spec.to_event, spec.goal if spec.split else None):
        if name:
            log.event_code(name)          # a clear error for unknown names
    if spec.exclude:
        log = exclude_events(log, spec.exclude)
    if spec.collapse_repeats:
        log = collapse_repeats(log)
    cells, valid, starts, _ = _step_matrix(log, spec)
    path_users = log.user[starts][valid] if len(starts) else np.zeros(0, dtype=np.int32)
    labels, names = _labels(log, cells, spec.top)       # (steps, paths)
    groups = _goal_groups(log, spec, path_users)
    row_group, group_names, split = _row_groups(log, spec, groups, path_users)
    # Consecutive steps are consecutive events, so a link's time is the gap after its source event.
    gap_after = np.diff(log.ts) if len(log) > 1 else np.zeros(0, dtype=np.int64)
    node_rows, link_rows = _tables(labels, names, row_group, group_names, cells, gap_after, spec)
    return Result(spec=spec, paths=int(valid.sum()), labels=names, matrix=labels.T, path_users=path_users,
                  groups=groups, node_rows=node_rows, link_rows=link_rows, user_keys=log.user_keys,
                  breakdown_groups=_flow_groups(split, row_group) if split else None,
                  breakdown_of_row=row_group if split else None)


def _row_groups(log: EventLog, spec: Spec, goal_groups: np.ndarray | None, path_users: np.ndarray):
    """(group index per flow row, group names, breakdown or None): goal split, property breakdown,
    or a single unnamed group."""
    if spec.split and spec.breakdown:
        raise JourneyError("Split the flow by the goal or by a property, not both")
    if spec.breakdown:
        from journey_explorer.analysis import properties
        split = properties.breakdown(log, spec.breakdown)
        return split.group[path_users], split.labels, split
    if goal_groups is not None:
        return goal_groups.astype(np.int64), ["failing", "successful"], None
    return np.zeros(len(path_users), dtype=np.int64), [None], None


def _flow_groups(split, row_group: np.ndarray) -> list[dict]:
    """The breakdown's groups with the paths each has in this flow (anchored paths only)."""
    counts = np.bincount(row_group, minlength=len(split.labels))
    return [{"group": label, "paths": int(n)} for label, n in zip(split.labels, counts)]


def _tables(labels: np.ndarray, names: list[str], group: np.ndarray, group_names: list, cells: np.ndarray,
            gap_after: np.ndarray, spec: Spec) -> tuple[list[dict], list[dict]]:
    """Node and link counts per step (and group), links with the median time between the two steps.
    ``labels`` and ``cells`` (event index per step) are step-major: (steps, paths); ``group`` is
    each path's index in ``group_names``."""
    n_labels, steps = len(names), labels.shape[0]
    n_groups = len(group_names)
    drop, reached = names.index(DROP_OFF), names.index(REACHED)
    node_rows, link_rows = [], []
    start_users = labels.shape[1]
    for step in range(steps):
        # A path shows one Drop-off node, at the step after its last event; nothing after that.
        shown = labels[step] != reached
        if step > 0:
            shown &= (labels[step - 1] != drop) & (labels[step - 1] != reached)
        node_counts = np.bincount((labels[step] * n_groups + group)[shown], minlength=n_labels * n_groups)
        for code in np.flatnonzero(node_counts):
            label, g = divmod(int(code), n_groups)
            node_rows.append((step + 1, names[label], group_names[g], int(node_counts[code])))
        if step + 1 == steps:
            break
        source, target = labels[step], labels[step + 1]
        moving = (source != drop) & (source != reached) & (target != reached)
        pair = (source.astype(np.int64) * n_labels + target) * n_groups + group
        has_time = moving & (cells[step] >= 0) & (cells[step + 1] >= 0)
        gap_ms = gap_after[cells[step][has_time]]
        counts = np.bincount(pair[moving], minlength=n_labels * n_labels * n_groups)
        medians = medians_by_key(pair[has_time], gap_ms, len(counts)) / 1000.0
        for code in np.flatnonzero(counts):
            rest, g = divmod(int(code), n_groups)
            a, b = divmod(rest, n_labels)
            median = medians[code]
            link_rows.append((step + 1, names[a], names[b], group_names[g],
                              int(counts[code]), round(counts[code] / max(start_users, 1), 4),
                              None if np.isnan(median) else round(float(median), 1)))
    nodes = sorted((dict(zip(NODE_COLUMNS, row)) for row in node_rows), key=lambda r: (r["step"], -r["users"]))
    links = sorted((dict(zip(LINK_COLUMNS, row)) for row in link_rows), key=lambda r: (r["step"], -r["users"]))
    return nodes, links


def medians_by_key(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Median of non-negative integer ``values`` per key in ``range(size)`` (NaN for empty keys), as
    numpy's linear interpolation; one sort of key and value packed into an int64, however many keys
    (a breakdown multiplies the links, so a call per key would not do).

    >>> medians_by_key(np.array([1, 1, 1, 0, 1]), np.array([5, 1, 3, 7, 2]), 3).tolist()
    [7.0, 2.5, nan]
    """
    out = np.full(size, np.nan)
    if len(keys) == 0:
        return out
    floor = int(values.min())           # shifted to start at 0 (gaps are never negative, but be safe)
    span = int(values.max()) - floor + 1
    if size * span < 1 << 62:
        packed = np.sort(keys.astype(np.int64) * span + (values - floor))
        ordered = packed % span + floor
    else:               # values too large to pack: sort by value, then (stably) by key
        by_value = np.argsort(values, kind="stable")
        ordered = values[by_value][np.argsort(keys[by_value], kind="stable")]
    counts = np.bincount(keys, minlength=size)
    present = np.flatnonzero(counts)
    start = np.concatenate([[0], np.cumsum(counts)])[present]
    middle = (counts[present] - 1) / 2
    low, high = ordered[start + np.floor(middle).astype(np.int64)], ordered[start + np.ceil(middle).astype(np.int64)]
    out[present] = low + (high - low) / 2
    return out
