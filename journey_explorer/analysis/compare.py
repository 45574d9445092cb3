"""Compare two groups of paths: successful vs failing, one segment vs another, or did vs did not.

Groups:
- ``--goal EVENT [--within DURATION]``: A = users who reach the goal (within the duration from their
  first event), B = the rest. Only what happened *before* reaching the goal is compared, so the goal
  and its aftermath do not explain themselves.
- ``--segment "prop=value" --vs "prop=value"``: two segments (any segment text; a property is read
  as the path's first value, "first touch", see ``properties``).
- ``--did EVENT``: A = users who did it at least once, B = the others.
- ``--period-a START..END --period-b START..END``: the paths active in each period, each with only
  its events in that period (END exclusive, like --until; an empty side is open). A path active in
  both periods is in both groups (see ``period_groups``).

For every event and every transition (A -> B directly): users having it in each group, shares, the
difference, the odds ratio (Haldane-Anscombe +0.5 when a cell is 0), a p-value (Fisher's exact test
when an expected count is below 5, else chi-square) and the Benjamini-Hochberg q-value; sorted with
the differences that pass (q < 0.05 and at least ``MIN_SUPPORT`` users) first, by absolute difference.

With goal groups, the *route to the goal* is reported apart (``route``) and left out of the event
ranking: steps that at least ``ROUTE_SHARE`` of successful paths take in the stretch just before the
goal (the step right before it, and the goal's own visit up to ``ROUTE_WINDOW`` steps back), given
at least ``MIN_ROUTE_USERS`` successful paths, and more often than failing paths take it at all.
"Successful users do payment_details" is the route, not a difference. Likewise an event failing
paths do "more" only because successful paths are cut at the goal (every ticket ends "Closed") does
not pass: failing users must also do it more than successful users do at any time. Nor is another
outcome a behaviour ("failing claims did Reject Claim" is how they failed): an event that almost never
comes with the goal and ends the path or takes the goal's place (``other_outcomes``) is listed apart
(``outcomes``).

Also a step matrix (share of group A's paths with event e at step k minus B's) and the 2- and
3-event sequences that distinguish the groups most.

Who: the same statistics for every property value (first touch per path), q-values across all
values of all properties (``Result.who``); ``--breakdown PROPERTY`` adds each value's group sizes
and the share of its paths in group A (``Result.breakdown``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from journey_explorer.analysis.arrays import (
    distinct,
    distinct_count,
    first_rows_of,
    first_time_of,
    group_order,
    step_index,
    users_with_event,
)
from journey_explorer.analysis.common import subset, users_matching
from journey_explorer.analysis.effects import MIN_SUPPORT, benjamini_hochberg  # noqa: F401  (compare's API)
from journey_explorer.analysis.effects import effect_table as _effect_table
from journey_explorer.analysis.effects import rank_effects as _rank  # noqa: F401
from journey_explorer.analysis.effects import two_by_two_tests as _test  # noqa: F401
from journey_explorer.analysis.goals import is_incident_name
from journey_explorer.analysis.pathprops import never_reaching
from journey_explorer.analysis.pvalues import fisher_greater
from journey_explorer.domain import GroupsNotChosen, JourneyError, OptionError
from journey_explorer.eventlog import EventLog
from journey_explorer.progress import report

if TYPE_CHECKING:
    import pandas as pd

NEEDS_USER_PROPERTIES = True     # breakdowns / segments / CSAT and revenue are user properties

SEGMENT_DEFINES_GROUPS = True
MATRIX_STEPS = 10
ROUTE_SHARE = 0.8        # share of successful paths that pass a step just before the goal
PREREQUISITE_SHARE = 0.97   # ...or take at any time before the goal (a prerequisite, not a behaviour)
ROUTE_WINDOW = 10        # steps back from the goal (within the goal's visit) that count as "just before"
MIN_ROUTE_USERS = 20     # successful paths needed before anything is called a route
MAX_ENTRANCES = 3        # at most this many steps right before the goal that between them make the route in...
MIN_ENTRANCE_SHARE = 0.15   # ...each right before the goal on at least this share of successful paths
STAGE_SHARE = 0.95       # an event this share of its paths do only after a route step is compared there
MIN_AFTER_GOAL_EXCESS = 0.05   # failing users must beat successful users' any-time share by this much


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    within_ms: int | None = None
    segment: str | None = None
    versus: str | None = None
    did: str | None = None
    top_sequences: int = 15
    period_a: str | None = None       # "START..END" (see period_groups)
    period_b: str | None = None
    breakdown: str | None = None
    match: str = "first"          # segment groups: a path's property value is its first, or any event's
    unwanted: bool = False        # the goal is an outcome to avoid: group A (its paths up to it) did what none should


@dataclass
class Result:
    spec: Spec
    labels: tuple[str, str]
    group_sizes: tuple[int, int]
    events: pd.DataFrame
    transitions: pd.DataFrame
    step_matrix: pd.DataFrame
    sequences: pd.DataFrame
    note: str
    who: pd.DataFrame | None = None          # property values: shares, difference, p and q values
    breakdown: pd.DataFrame | None = None    # group, paths, users_a, users_b, share_a, share_b, rate_a
    route: pd.DataFrame | None = None      # goal groups: steps just before the goal (not ranked)
    left_out: str = ""                     # goal groups: users who cannot reach it, in words (never_reaching)
    outcomes: pd.DataFrame | None = None   # goal groups: events marking another outcome (other_outcomes), not ranked

    def to_json_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"groups": {"a": self.labels[0], "b": self.labels[1]},
                "sizes": {"a": self.group_sizes[0], "b": self.group_sizes[1]}, "note": self.note,
                "left_out": self.left_out,
                "property_value": "first touch", "events": records(self.events),
                "transitions": records(self.transitions),
                "step_matrix": records(self.step_matrix), "sequences": records(self.sequences),
                "route": records(self.route) if self.route is not None else [],
                "other_outcomes": records(self.outcomes) if self.outcomes is not None else [],
                "who": records(self.who) if self.who is not None else [],
                "who_outcomes": self.who.attrs.get("outcomes", []) if self.who is not None else [],
                "breakdown_property": self.spec.breakdown,
                "breakdown": records(self.breakdown) if self.breakdown is not None else None}

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        parts = [self.events.assign(kind="event"), self.transitions.assign(kind="transition")]
        if self.route is not None and len(self.route):
            parts.insert(1, self.route.assign(kind="route"))
        if self.outcomes is not None and len(self.outcomes):
            parts.insert(1, self.outcomes.assign(kind="other outcome"))
        if self.who is not None and len(self.who):       # property values: "property" and "value" columns
            parts.append(self.who.assign(kind="who"))
        return pd.concat(parts, ignore_index=True)


def _groups(log: EventLog, spec: Spec) -> tuple[EventLog, np.ndarray, np.ndarray, tuple[str, str], str]:
    """(log to compare, mask of group A users, mask of group B users, labels, note)."""
    if spec.period_a or spec.period_b:
        return period_groups(log, spec.period_a, spec.period_b)
    if spec.segment and spec.versus:
        a, b = users_matching(log, [spec.segment], spec.match), users_matching(log, [spec.versus], spec.match)
        return log, a & ~b, b & ~a, (spec.segment, spec.versus), "Users in both segments are left out."
    if spec.did:
        did = users_with_event(log, log.event_code(spec.did))
        return log, did, ~did, (f"did {spec.did}", f"did not {spec.did}"), ""
    if not spec.goal:
        raise GroupsNotChosen()
    first_goal = first_time_of(log, log.event_code(spec.goal))
    reached = first_goal != np.iinfo(np.int64).max
    if spec.within_ms is not None:
        first_event = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
        starts = np.flatnonzero(log.path_starts())
        first_event[log.user[starts]] = log.ts[starts]
        reached &= first_goal - first_event <= spec.within_ms
    before_goal = log.ts < first_goal[log.user]
    note = f"Events at or after {spec.goal} are left out, so the goal does not explain itself."
    # An unwanted goal (a cancellation) keeps the same groups: the paths that do it, up to it, and the others.
    labels = (f"did {spec.goal}", f"never did {spec.goal}") if spec.unwanted else ("successful", "failing")
    return subset(log, before_goal), reached, ~reached, labels, note


def route_to_goal(log: EventLog, goal: int, successful: np.ndarray | None = None) -> pd.DataFrame:
    """Steps at least ``ROUTE_SHARE`` of successful paths take just before their first goal (in the
    goal's visit, at most ``ROUTE_WINDOW`` steps back): event, paths and share of successful paths.
    ``successful``: the compared group's mask over user codes (goal reached *within* a time, say);
    default every path that reaches the goal. Empty with fewer than ``MIN_ROUTE_USERS`` successful paths.

    Each event is judged over the paths that reached the goal while it was being logged: just before
    the goal, between its first and last time in the log; at any time before the goal, from its first
    time on. A step renamed in a release (add_to_basket, then basket_add) is the route under each name
    in its own months, not a habit of half the buyers."""
    import pandas as pd
    reached_goal = users_with_event(log, goal)
    successful = reached_goal if successful is None else successful & reached_goal
    hits = np.flatnonzero(log.event == goal)
    hits = hits[successful[log.user[hits]]]
    first = hits[np.append(True, log.user[hits][1:] != log.user[hits][:-1])]
    if len(first) < MIN_ROUTE_USERS:
        return pd.DataFrame(columns=["event", "successful_paths", "share", "failing_share", "share_before_goal"])
    back = np.arange(1, ROUTE_WINDOW + 1)
    positions = first[:, None] - back[None, :]
    valid = positions >= 0
    positions = np.where(valid, positions, 0)
    # The step right before the goal always counts (a return to hospital weeks after the release still
    # comes "right after" it); further back, only steps in the goal's own visit.
    same_visit = (log.session[positions] == log.session[first][:, None]) | (back == 1)[None, :]
    valid &= (log.user[positions] == log.user[first][:, None]) & same_visit
    # a gap in the stretch (another visit) ends it: keep only steps before the first break
    valid = np.cumprod(valid, axis=1).astype(bool)
    owners = np.repeat(np.arange(len(first)), ROUTE_WINDOW).reshape(len(first), ROUTE_WINDOW)
    codes, owner = log.event[positions[valid]], owners[valid]
    pairs = distinct(codes.astype(np.int64) * len(first) + owner)
    paths = np.bincount(pairs // len(first), minlength=len(log.event_names))
    # Judged over the goals whose stretch before them was logged while the event was (see the notes).
    logged_from, logged_until = logged_spans(log)
    window_start = np.where(valid.any(axis=1), log.ts[positions[np.arange(len(first)), valid.sum(axis=1) - 1]],
                            log.ts[first])
    judged_since = _at_least(log.ts[first], logged_from)
    judged = np.maximum(judged_since - _at_least(window_start, logged_until, strictly=True), 0)
    share = paths / np.maximum(judged, 1)
    # A step failing paths take at least as often (a browsing page) is not a route they missed.
    failing = ~successful
    failing_share = distinct_count(log.event[failing[log.user]], log.user[failing[log.user]],
                                   len(log.event_names)) / max(int(failing[_distinct_sorted(log.user)].sum()), 1)
    # Prerequisites count as route too: a step nearly every successful path takes at some point before
    # the goal (opening the app again) separates those who came back from those who did not, not habits.
    first_goal = first_time_of(log, goal)
    before_goal = (log.ts < first_goal[log.user]) & successful[log.user]
    before_goal &= first_goal[log.user] >= logged_from[log.event]
    prior = distinct_count(log.event[before_goal], log.user[before_goal], len(log.event_names))
    prior = prior / np.maximum(judged_since, 1)
    # a route needs enough goals reached while the event was logged
    in_visit = valid[:, 0] & (log.session[positions[:, 0]] == log.session[first])
    entrance = _entrances(log.event[positions[:, 0]][in_visit], len(first), len(log.event_names))
    route_step = (((share >= ROUTE_SHARE) & (judged >= MIN_ROUTE_USERS))
                  | ((prior >= PREREQUISITE_SHARE) & (judged_since >= MIN_ROUTE_USERS)) | entrance)
    keep = np.flatnonzero(route_step & (np.arange(len(share)) != goal) & (np.maximum(share, prior) > failing_share))
    frame = pd.DataFrame({"event": [log.event_names[c] for c in keep], "successful_paths": paths[keep],
                          "share": np.round(share[keep], 4), "failing_share": np.round(failing_share[keep], 4),
                          "share_before_goal": np.round(prior[keep], 4)})
    frame = frame.sort_values("share", ascending=False, ignore_index=True)
    # Steps most successful paths take just before the goal, failing paths taking them as often or
    # not (a pricing page seen at sign-up by all, and again on the way to pay): doing one again is
    # taking the route, which early-behaviour counts (drivers) leave out.
    just_before = (((share >= ROUTE_SHARE) & (judged >= MIN_ROUTE_USERS)) | entrance) & (np.arange(len(share)) != goal)
    frame.attrs["just_before"] = [log.event_names[c] for c in np.flatnonzero(just_before)]
    return frame


def _entrances(right_before: np.ndarray, goals: int, events: int) -> np.ndarray:
    """Mask over event codes: the few ways into the goal. When no single step comes right before the
    goal on ``ROUTE_SHARE`` of successful paths but two or three do between them (a purchase made from
    the shop or from an offer shown in a level), each is a route in: "buyers open the shop" is how
    they buy, not a habit that sets them apart. ``right_before``: the event right before each
    successful path's first goal in the goal's visit (paths whose goal opens a visit have none)."""
    mask = np.zeros(events, dtype=bool)
    if goals < MIN_ROUTE_USERS:
        return mask
    counts = np.bincount(right_before, minlength=events)
    order = np.argsort(-counts, kind="stable")[:MAX_ENTRANCES]
    shares = counts[order] / goals
    covered = np.cumsum(shares)
    enough = np.flatnonzero(covered >= ROUTE_SHARE)
    if len(enough) == 0:
        return mask
    taken = order[:enough[0] + 1]
    if (counts[taken] / goals >= MIN_ENTRANCE_SHARE).all():
        mask[taken] = True
    return mask


LOGGED_PART = 0.2      # an event logged for at least this part of the log's time (not all of it) is judged there


def logged_spans(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Per event code: the stretch of time it was logged in — its first and last time in the log when
    that covers at least ``LOGGED_PART`` of the log's time (a step renamed or added in a release),
    else the whole log (an event done in a burst, or rarely, was not switched on and off).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "b", "b"], "event": ["x", "y", "x", "z"],
    ...                                         "time": [0, 50, 40, 100]}))
    >>> [side.tolist() for side in logged_spans(log)]      # x: 0-40, y: one moment, z: one moment
    [[0, 0, 0], [40, 100, 100]]
    """
    size = len(log.event_names)
    since, until = np.full(size, np.iinfo(np.int64).max), np.full(size, np.iinfo(np.int64).min)
    np.minimum.at(since, log.event, log.ts)
    np.maximum.at(until, log.event, log.ts)
    start, end = (int(log.ts.min()), int(log.ts.max())) if len(log) else (0, 0)
    absent = since > until                               # no rows: the whole log (not a wrapped difference)
    whole = absent | ((np.where(absent, 0, until - since)) < LOGGED_PART * (end - start))
    return np.where(whole, start, since), np.where(whole, end, until)


def _at_least(times: np.ndarray, bounds: np.ndarray, strictly: bool = False) -> np.ndarray:
    """Per bound, how many of ``times`` are at or above it (above it, ``strictly``)."""
    ordered = np.sort(times)
    return len(ordered) - np.searchsorted(ordered, bounds, side="right" if strictly else "left")


def _has_counts(keys: np.ndarray, users: np.ndarray, size: int, group: np.ndarray) -> np.ndarray:
    mask = group[users]
    return distinct_count(keys[mask], users[mask], size)


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    compared, a, b, labels, note = _groups(log, spec)
    left_out = ""
    if _is_goal_groups(spec):
        # Users for whom the goal is not open (invited members, when only owners upgrade) are no failing users.
        cannot, left_out = never_reaching(log, spec.goal)
        b = b & ~cannot
        note += f" {left_out}." if left_out else ""
    periods = bool(spec.period_a or spec.period_b)
    present = _distinct_sorted((compared if periods else log).user)    # periods: two copies
    a_size, b_size = int(a[present].sum()), int(b[present].sum())
    if not a_size or not b_size:
        raise JourneyError(f"one of the groups is empty ({labels[0]}: {a_size}, {labels[1]}: {b_size} users)")
    size = len(compared.event_names)
    names = list(compared.event_names)
    events = _effect_table(names, _has_counts(compared.event, compared.user, size, a), a_size,
                           _has_counts(compared.event, compared.user, size, b), b_size, "event")
    report(progress, 0.3)
    same = compared.user[1:] == compared.user[:-1]
    pair = compared.event[:-1][same].astype(np.int64) * size + compared.event[1:][same]
    pair_users = compared.user[:-1][same]
    pair_names = [f"{names[i // size]} → {names[i % size]}" for i in range(size * size)]
    transitions = _effect_table(pair_names, _has_counts(pair, pair_users, size * size, a), a_size,
                                _has_counts(pair, pair_users, size * size, b), b_size, "transition")
    report(progress, 0.6)
    route = outcomes = None
    if _is_goal_groups(spec):
        route = route_to_goal(log, log.event_code(spec.goal), a)       # a: reached it (within the time, if any)
        # Route steps are not hypotheses: the false discovery rate is controlled over behaviours only.
        events = events[~events["event"].isin(route["event"])]
        # Nor are other outcomes ("failing claims did Reject Claim"): they are listed apart.
        ended = np.array(log.event_names, dtype=object)[other_outcomes(log, log.event_code(spec.goal))]
        outcomes = _rank(events[events["event"].isin(ended)])
        events = _rank(_within_stage(events[~events["event"].isin(ended)], compared, log, a, b, list(route["event"])))
        events = _not_after_the_goal(events, log, a, a_size, b_size)
        browsing = subset(compared, ~goal_visit_rows(compared, log.event_code(spec.goal), log))
        events = _not_only_more_visits(events, compared, a, b, browsing)
    report(progress, 0.8)
    return Result(spec=spec, labels=labels, group_sizes=(a_size, b_size), events=events, transitions=transitions,
                  step_matrix=_step_matrix(compared, a, b, a_size, b_size),
                  sequences=_sequences(compared, a, b, a_size, b_size, spec.top_sequences), note=note, route=route,
                  # Two periods: the groups hold copies of the same paths, so "who" has nothing to tell apart.
                  who=None if periods else _who(log, spec, a, b),
                  breakdown=None if periods else _breakdown(log, spec, a, b), left_out=left_out,
                  outcomes=outcomes)


def _who(log: EventLog, spec: Spec, a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """Property values of the two groups; a property that defines the groups is left out."""
    from journey_explorer.analysis import properties
    defining = set()
    for text in (spec.segment, spec.versus):
        try:
            defining.add(properties.parse_condition(text).key.removeprefix("case:") if text else None)
        except JourneyError:
            pass                      # a cohort or saved segment: no property defines it
    table = properties.who_differs(log, a, b)
    outcomes = table.attrs.get("outcomes", [])
    table = table[~table["property"].str.removeprefix("case:").isin(defining)].reset_index(drop=True)
    table.attrs["outcomes"] = outcomes
    return table


def _breakdown(log: EventLog, spec: Spec, a: np.ndarray, b: np.ndarray) -> pd.DataFrame | None:
    import pandas as pd
    if not spec.breakdown:
        return None
    from journey_explorer.analysis import properties
    split = properties.breakdown(log, spec.breakdown)
    size = len(split.labels)
    in_a = np.bincount(split.group[a & (split.group >= 0)], minlength=size)
    in_b = np.bincount(split.group[b & (split.group >= 0)], minlength=size)
    return pd.DataFrame({"group": split.labels, "paths": split.sizes, "users_a": in_a, "users_b": in_b,
                         "share_a": np.round(in_a / max(in_a.sum(), 1), 4),
                         "share_b": np.round(in_b / max(in_b.sum(), 1), 4),
                         "rate_a": np.round(in_a / np.maximum(in_a + in_b, 1), 4)})


def route_stages(log: EventLog, route: list[str], events: list[str]) -> dict[str, str]:
    """Per event name (of ``events``): the route step it only happens after, when there is one.

    When at least ``STAGE_SHARE`` of the paths doing an event did a route step first, that step is the
    event's stage (a coupon is only used in the cart); of several, the one reached by the fewest paths
    and, of those, the nearest to the event. Events with fewer than ``MIN_ROUTE_USERS`` paths have none."""
    route_codes = [log.event_names.index(name) for name in route if name in log.event_names]
    codes, users, positions = first_occurrences(log)
    bounds = np.searchsorted(codes, np.arange(len(log.event_names) + 1))
    first = {}
    for code in route_codes:
        first[code] = np.full(log.n_users, -1, dtype=np.int64)
        first[code][users[bounds[code]:bounds[code + 1]]] = positions[bounds[code]:bounds[code + 1]]
    reach = {code: int(bounds[code + 1] - bounds[code]) for code in route_codes}
    stages = {}
    for name in events:
        if name not in log.event_names or name in route:
            continue
        code = log.event_names.index(name)
        doers, own_first = users[bounds[code]:bounds[code + 1]], positions[bounds[code]:bounds[code + 1]]
        if len(doers) < MIN_ROUTE_USERS:
            continue
        before = [step for step in route_codes
                  if np.mean((first[step][doers] >= 0) & (first[step][doers] < own_first)) >= STAGE_SHARE]
        if before:
            stage = min(before, key=lambda step: (reach[step], -float(first[step][doers].mean())))
            stages[name] = log.event_names[stage]
    return stages


def first_occurrences(log: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's first event of each type: (event code, user code, position in the log), ordered by
    event code — one sort for all event types instead of a pass over the log per type.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["x", "y", "x", "y"],
    ...                                         "time": [0, 1, 2, 0]}))
    >>> [list(map(int, part)) for part in first_occurrences(log)]      # x: a at 0; y: a at 1, b at 3
    [[0, 1, 1], [0, 0, 1], [0, 1, 3]]
    """
    key = log.user.astype(np.int64) * len(log.event_names) + log.event
    order = np.argsort(key, kind="stable")          # equal keys keep log order: the first is the earliest
    ordered = key[order]
    first = order[np.r_[True, ordered[1:] != ordered[:-1]]] if len(order) else order
    by_event = np.argsort(log.event[first], kind="stable")
    first = first[by_event]
    return log.event[first], log.user[first], first


def _within_stage(events: pd.DataFrame, log: EventLog, whole: EventLog, a: np.ndarray, b: np.ndarray,
                  route: list[str]) -> pd.DataFrame:
    """Compare an event that can only happen at a stage of the route among the paths that reached it.

    A coupon can only be applied in the cart: successful paths all reach the cart, failing ones less
    often, so "successful users apply coupons more" would restate the route. An event with a stage
    (``route_stages``) is compared among the paths of each group that reached that step; ``reached``
    names it, ``reached_a``/``reached_b`` are the group sizes there and ``_reached_a_any_time`` how many
    of group A's there do the event at any time (``whole``: the log not cut at the goal; used by
    ``_not_after_the_goal``, then dropped)."""
    events = events.assign(reached=None, reached_a=np.nan, reached_b=np.nan, _reached_a_any_time=np.nan)
    if events.empty:
        return events
    stages = route_stages(log, route, list(events["event"]))
    for index, name in zip(events.index, events["event"]):
        if name not in stages:
            continue
        there = users_with_event(log, log.event_names.index(stages[name]))
        doers = users_with_event(log, log.event_names.index(name))
        a_n, b_n = int((a & there).sum()), int((b & there).sum())
        if not a_n or not b_n:
            continue
        a_has, b_has = int((a & there & doers).sum()), int((b & there & doers).sum())
        odds, p = _test(np.array([a_has]), a_n, np.array([b_has]), b_n)
        events.loc[index, ["users_a", "users_b"]] = [a_has, b_has]
        events.loc[index, ["share_a", "share_b", "difference"]] = [round(a_has / a_n, 4), round(b_has / b_n, 4),
                                                                  round(a_has / a_n - b_has / b_n, 4)]
        events.loc[index, ["odds_ratio", "p_value"]] = [round(float(odds[0]), 3), float(p[0])]
        any_time = int((a & there & users_with_event(whole, whole.event_names.index(name))).sum())
        events.loc[index, ["reached", "reached_a", "reached_b", "_reached_a_any_time"]] = [
            stages[name], a_n, b_n, any_time]
    return events


STAGED_MARK = "†"       # an event compared only among the paths that reached its step of the route


def event_labels(events: pd.DataFrame) -> list[str]:
    """Event names for charts; one compared only among the paths that reached a step of the route
    (``_within_stage``) is marked.

    >>> import pandas as pd
    >>> event_labels(pd.DataFrame({"event": ["a", "coupon"], "reached": [None, "cart"]}))
    ['a', 'coupon †']
    """
    reached = events["reached"] if "reached" in events else [None] * len(events)
    return [name if not isinstance(step, str) else f"{name} {STAGED_MARK}" for name, step in zip(events["event"], reached)]


# Another outcome is no behaviour: failing claims "did Reject Claim" is how they failed. An event is one when
# at most OUTCOME_WITH_GOAL of the paths doing it also reach the goal (at any time), and where it happens
# it ends the path: on OUTCOME_END_SHARE of them at most OUTCOME_TAIL_STEPS steps follow its last time,
# each a closing step (done after the goal, as a claim is closed after being paid), or it takes the goal's
# place (the step right before it is the one right before the goal: half or more of the two distributions
# overlap, the decision point) and no step towards the goal follows it. A behaviour is followed by steps
# towards the goal ("open, remind, open, close" while successful tickets go "open, escalate, close").
OUTCOME_WITH_GOAL = 0.1
OUTCOME_END_SHARE = 0.8
OUTCOME_TAIL_STEPS = 2
OUTCOME_DECISION_SHARE = 0.5


def other_outcomes(log: EventLog, goal: int) -> np.ndarray:
    """Mask over event codes: the events that mark another outcome than ``goal`` (see the notes above).

    >>> import pandas as pd
    >>> rows = [(f"p{i}", e, t) for i in range(4) for t, e in enumerate(["ask", "check", "pay", "close"])]
    >>> rows += [(f"f{i}", e, t) for i in range(4) for t, e in enumerate(["ask", "check", "reject", "close"])]
    >>> rows += [(f"h{i}", e, t) for i in range(4) for t, e in enumerate(["ask", "help", "check", "pay", "close"])]
    >>> log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))
    >>> [name for name, outcome in zip(log.event_names, other_outcomes(log, log.event_code("pay"))) if outcome]
    ['reject']
    """
    size = len(log.event_names)
    reached = users_with_event(log, goal)
    doers = distinct_count(log.event, log.user, size)
    with_goal = distinct_count(log.event[reached[log.user]], log.user[reached[log.user]], size)
    rare_with_goal = (doers > 0) & (with_goal <= OUTCOME_WITH_GOAL * doers)
    rare_with_goal[goal] = False
    if not rare_with_goal.any():
        return rare_with_goal
    closes, not_towards_goal = _ends_paths(log, goal, doers)
    in_goals_place = (_decision_overlap(log, goal, doers) >= OUTCOME_DECISION_SHARE) & \
        (not_towards_goal >= OUTCOME_END_SHARE * doers)
    # An error users leave after ends their paths too, yet it is what they met, the difference to lead with:
    # an incident is another outcome only where it takes the goal's place.
    incident = np.array([is_incident_name(name) for name in log.event_names], dtype=bool)
    return rare_with_goal & (((closes >= OUTCOME_END_SHARE * doers) & ~incident) | in_goals_place)


def _ends_paths(log: EventLog, goal: int, doers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per event code, how many paths end soon after its last time: followed by at most
    ``OUTCOME_TAIL_STEPS`` steps, each a closing step (``_closing_steps``); and followed by no step
    towards the goal (one successful paths take before it). In a short process every step is near
    the end; a behaviour is followed by steps that lead to the goal."""
    size = len(doers)
    path_end = np.append(np.flatnonzero(log.user[1:] != log.user[:-1]), len(log) - 1)   # each path's last row
    row_path_end = path_end[np.searchsorted(path_end, np.arange(len(log)))]
    key = log.user.astype(np.int64) * size + log.event
    order = np.argsort(key, kind="stable")          # equal keys keep log order: the last is the latest
    ordered = key[order]
    final = order[np.append(ordered[1:] != ordered[:-1], True)] if len(order) else order
    closing, towards_goal = _closing_steps(log, goal)

    def none_after(marked: np.ndarray) -> np.ndarray:
        running = np.append(0, np.cumsum(marked[log.event]))
        return running[row_path_end[final] + 1] == running[final + 1]

    near_end = (row_path_end[final] - final <= OUTCOME_TAIL_STEPS) & none_after(~closing)
    return (np.bincount(log.event[final][near_end], minlength=size),
            np.bincount(log.event[final][none_after(towards_goal)], minlength=size))


def _closing_steps(log: EventLog, goal: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks over event codes: closing steps, which at least half the successful paths doing them do
    after the goal; steps towards the goal, which more than half of them do before it.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": list("aaab"), "event": ["ask", "pay", "close", "close"],
    ...                                         "time": [0, 1, 2, 0]}))
    >>> [mask.tolist() for mask in _closing_steps(log, log.event_code("pay"))]      # ask, close, pay
    [[False, True, False], [True, False, False]]
    """
    size = len(log.event_names)
    first_goal = first_time_of(log, goal)
    successful = first_goal[log.user] != np.iinfo(np.int64).max
    after, before = successful & (log.ts > first_goal[log.user]), successful & (log.ts < first_goal[log.user])
    doing = distinct_count(log.event[successful], log.user[successful], size)
    done_after = distinct_count(log.event[after], log.user[after], size)
    done_before = distinct_count(log.event[before], log.user[before], size)
    closing = (doing > 0) & (2 * done_after >= doing)
    towards_goal = 2 * done_before > doing
    closing[goal] = towards_goal[goal] = False
    return closing, towards_goal


def _decision_overlap(log: EventLog, goal: int, doers: np.ndarray) -> np.ndarray:
    """Per event code: how far the steps right before its first time match those right before the goal's
    first time (the sum over steps of the smaller of the two shares, 0 to 1)."""
    size = len(doers)
    codes, users, positions = first_occurrences(log)
    has_before = (positions > 0) & (log.user[np.maximum(positions - 1, 0)] == users)
    before = np.where(has_before, log.event[np.maximum(positions - 1, 0)], -1)
    is_goal = codes == goal
    goal_before = np.bincount(before[is_goal & has_before], minlength=size) / max(int(is_goal.sum()), 1)
    pairs, counts = np.unique(codes[has_before].astype(np.int64) * size + before[has_before], return_counts=True)
    event, step = pairs // size, pairs % size
    shared = np.minimum(counts / np.maximum(doers[event], 1), goal_before[step])
    return np.bincount(event, weights=shared, minlength=size)


def _not_after_the_goal(events: pd.DataFrame, log: EventLog, a: np.ndarray, a_size: int,
                        b_size: int) -> pd.DataFrame:
    """Failing paths are compared whole, successful ones only before the goal; an event that ends every
    path (a ticket's "Closed") would read "failing users do it more". ``share_a_any_time`` is the share
    of successful users who do it at all; a "failing users do it more" row passes only when failing users
    also do it more than that (by ``MIN_AFTER_GOAL_EXCESS`` and a one-sided Fisher test)."""
    size = len(log.event_names)
    codes = [log.event_names.index(name) for name in events["event"]]
    a_any = _has_counts(log.event, log.user, size, a)[codes].astype(float)
    a_sizes, b_sizes = np.full(len(events), float(a_size)), np.full(len(events), float(b_size))
    if "reached" in events:            # compared at a stage of the route: the same paths there
        staged = events["reached"].notna().to_numpy()
        a_any[staged] = events["_reached_a_any_time"].to_numpy(float)[staged]
        a_sizes[staged] = events["reached_a"].to_numpy(float)[staged]
        b_sizes[staged] = events["reached_b"].to_numpy(float)[staged]
    events = events.assign(share_a_any_time=np.round(a_any / np.maximum(a_sizes, 1), 4))
    beyond = [(b - a_share >= MIN_AFTER_GOAL_EXCESS) and
              fisher_greater(int(ub), int(nb), int(ua), int(na)) < 0.05
              for b, a_share, ub, ua, na, nb in zip(events["share_b"], events["share_a_any_time"], events["users_b"],
                                                   a_any, a_sizes, b_sizes)]
    artefact = (events["difference"] < 0) & ~np.array(beyond, dtype=bool)
    events["passes"] = events["passes"] & ~artefact
    events = events.drop(columns="_reached_a_any_time", errors="ignore")
    return events.sort_values(["passes"], ascending=False, kind="stable").reset_index(drop=True)


def _not_only_more_visits(events: pd.DataFrame, compared: EventLog, a: np.ndarray, b: np.ndarray,
                          browsing: EventLog | None = None) -> pd.DataFrame:
    """Failing paths go on visiting while successful ones are cut at the goal, so a page people open
    now and then on any visit (the FAQ) reads "failing users do it more" only because they came more
    often. A "failing users do it more" row passes only when their *visits* include it more often too:
    ``visit_share_a``/``visit_share_b``, the share of each group's visits (before the goal for group A;
    at a stage, the visits of the paths that reached it) with the event, one-sided two-proportion test
    at ``VISIT_ALPHA`` and at least ``VISIT_MIN_RATIO`` times as often, also when B's visits are
    weighted by visit number like A's (``visit_share_b_matched``: an event of return visits).
    ``browsing``: the compared log without the visit that reaches the goal (``goal_visit_rows``), whose
    visits are counted when group A has any left: that visit went down the route by definition, so a
    page of browsing visits would look rarer among A's visits only because it is counted."""
    events = events.assign(visit_share_a=np.nan, visit_share_b=np.nan, visit_share_b_matched=np.nan)
    failing_more = np.flatnonzero(((events["difference"] < 0) & events["passes"]).to_numpy())
    if not len(failing_more):
        return events
    names = list(compared.event_names)
    has_browsing = browsing is not None and bool(a[browsing.user].any())    # per-visit paths have none
    visits_log = browsing if has_browsing else compared
    stage_users = {}
    for row in failing_more:
        name, step = events["event"].iloc[row], events["reached"].iloc[row] if "reached" in events else None
        there = None
        if isinstance(step, str):
            if step not in stage_users:
                stage_users[step] = users_with_event(compared, names.index(step))
            there = stage_users[step]
        code = names.index(name)
        by_order_a, by_order_b = (_visits_by_order(visits_log, code, group if there is None else group & there)
                                  for group in (a, b))
        matched_b = _share_at_their_visits(*by_order_b, by_order_a[1])
        (with_a, visits_a), (with_b, visits_b) = ((int(part.sum()) for part in pair) for pair in (by_order_a, by_order_b))
        share_a, share_b = with_a / max(visits_a, 1), with_b / max(visits_b, 1)
        events.iloc[row, events.columns.get_indexer(["visit_share_a", "visit_share_b", "visit_share_b_matched"])] = [
            round(share_a, 4), round(share_b, 4), round(matched_b, 4)]
        # 40% vs 38% of visits explains little; nor does an event of return visits, of which B has more
        material = _materially_more(min(share_b, matched_b), share_a)
        if not (visits_a and visits_b and material and _p_more(with_b, visits_b, with_a, visits_a) < VISIT_ALPHA):
            events.iloc[row, events.columns.get_loc("passes")] = False
    return events.sort_values(["passes"], ascending=False, kind="stable").reset_index(drop=True)


VISIT_ALPHA = 0.05


def goal_visit_rows(log: EventLog, goal: int, whole: EventLog | None = None) -> np.ndarray:
    """Rows of ``log`` in the visit (session) where their user first reached ``goal``. ``whole``: the log
    to find the goal in, when ``log`` is cut before it (compare's groups); the same sessions and users.

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["faq", "cart", "pay", "faq"],
    ...                                         "time": [0, 86_400_000, 86_400_001, 0]}))
    >>> goal_visit_rows(log, log.event_code("pay")).tolist()      # a's second visit; b never pays
    [False, True, True, False]
    """
    whole = log if whole is None else whole
    rows = first_rows_of(whole, goal)
    goal_session = np.full(whole.n_users, -1, dtype=np.int64)
    goal_session[whole.user[rows]] = whole.session[rows]
    return log.session == goal_session[log.user]


VISIT_MIN_RATIO = 1.25     # ...and their visits must include it this many times as often (as stuck's MIN_RATIO)
VISIT_ORDERS = 4           # visits told apart by their number in the path: first, second, third, fourth or later


def _materially_more(share_b: float, share_a: float) -> bool:
    """B's share of visits is ``VISIT_MIN_RATIO`` times A's (and above it: 0% vs 0% is no excess).

    >>> _materially_more(0.45, 0.4), _materially_more(0.5, 0.3), _materially_more(0.0, 0.0)
    (False, True, False)
    """
    return share_b > share_a and share_b >= VISIT_MIN_RATIO * share_a


def _visits_with(log: EventLog, code: int, group: np.ndarray) -> tuple[int, int]:
    """(visits of the group's paths that include event ``code``, all their visits)."""
    with_code, visits = _visits_by_order(log, code, group)
    return int(with_code.sum()), int(visits.sum())


def _visits_by_order(log: EventLog, code: int, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per visit number (first, second, ..., ``VISIT_ORDERS`` and later): the group's visits that include
    event ``code``, and all their visits. A visit's number counts from the path's first row in ``log``
    (sessions are numbered one after another within a path).

    >>> import pandas as pd
    >>> log = EventLog.from_frame(pd.DataFrame({"user": ["a", "a", "a", "b"], "event": ["x", "login", "x", "x"],
    ...                                         "time": [0, 86_400_000, 2 * 86_400_000, 0]}))
    >>> [part.tolist() for part in _visits_by_order(log, log.event_code("login"), np.array([True, True]))]
    [[0, 1, 0, 0], [2, 1, 1, 0]]
    """
    rows = group[log.user]
    sessions, users = log.session[rows], log.user[rows]
    if not len(sessions):
        return np.zeros(VISIT_ORDERS, dtype=np.int64), np.zeros(VISIT_ORDERS, dtype=np.int64)
    new_path = np.append(True, users[1:] != users[:-1])
    path_first_session = sessions[new_path][np.cumsum(new_path) - 1]
    order = np.minimum(sessions - path_first_session, VISIT_ORDERS - 1)
    new_visit = np.append(True, sessions[1:] != sessions[:-1])     # sessions never go down the log
    visits = np.bincount(order[new_visit], minlength=VISIT_ORDERS)
    hit = np.flatnonzero(log.event[rows] == code)
    first_hit = hit[np.append(True, sessions[hit][1:] != sessions[hit][:-1])] if len(hit) else hit
    return np.bincount(order[first_hit], minlength=VISIT_ORDERS), visits


def _share_at_their_visits(with_b: np.ndarray, visits_b: np.ndarray, visits_a: np.ndarray) -> float:
    """Group B's share of visits with an event, were its visits numbered like group A's: B's share at
    each visit number, weighted by A's visits there (B's overall share where B has none). Login only
    happens on a return visit: the failing users' many return visits must not make it "theirs".

    >>> _share_at_their_visits(np.array([0, 30]), np.array([100, 100]), np.array([90, 10]))   # 15% -> 3%
    0.03
    """
    overall = with_b.sum() / max(visits_b.sum(), 1)
    at_order = np.where(visits_b > 0, with_b / np.maximum(visits_b, 1), overall)
    return float((at_order * visits_a).sum() / max(visits_a.sum(), 1))


def _p_more(x: int, n: int, y: int, m: int) -> float:
    """One-sided p-value that x of n is a larger share than y of m (two-proportion z-test, pooled).

    >>> round(_p_more(30, 100, 20, 100), 3)
    0.051
    """
    import math
    pooled = (x + y) / (n + m)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m)) if 0 < pooled < 1 else 0.0
    if spread == 0:
        return 0.0 if x / n > y / m else 1.0
    return 0.5 * math.erfc((x / n - y / m) / spread / math.sqrt(2))


def _is_goal_groups(spec: Spec) -> bool:
    return (bool(spec.goal) and not (spec.segment and spec.versus) and not spec.did
            and not (spec.period_a or spec.period_b))


def _step_matrix(log: EventLog, a, b, a_size, b_size) -> pd.DataFrame:
    """Share of A's paths with event e at step k minus B's share, k = 1..10."""
    import pandas as pd
    step = step_index(log)
    early = step < MATRIX_STEPS
    size = len(log.event_names)
    key = step[early] * size + log.event[early]
    users = log.user[early]
    a_counts = np.bincount(key[a[users]], minlength=MATRIX_STEPS * size).reshape(MATRIX_STEPS, size) / a_size
    b_counts = np.bincount(key[b[users]], minlength=MATRIX_STEPS * size).reshape(MATRIX_STEPS, size) / b_size
    frame = pd.DataFrame((a_counts - b_counts).round(4), columns=list(log.event_names))
    frame.insert(0, "step", np.arange(1, MATRIX_STEPS + 1))
    used = [c for c in frame.columns[1:] if (a_counts[:, list(log.event_names).index(c)].any()
                                             or b_counts[:, list(log.event_names).index(c)].any())]
    return frame[["step"] + used]


def _sequences(log: EventLog, a, b, a_size, b_size, top: int) -> pd.DataFrame:
    """Contiguous 2- and 3-event sequences with the largest difference in share of users."""
    import pandas as pd
    size = len(log.event_names)
    rows = []
    for n in (2, 3):
        if len(log) < n:
            continue
        same = np.ones(len(log) - n + 1, dtype=bool)
        code = np.zeros(len(log) - n + 1, dtype=np.int64)
        for k in range(n):
            same &= log.user[k:len(log) - n + 1 + k] == log.user[:len(log) - n + 1]
            code = code * size + log.event[k:len(log) - n + 1 + k]
        uniq, a_has, b_has = _users_per_sequence(code[same], log.user[:len(log) - n + 1][same], a, b, size ** n)
        difference = a_has / a_size - b_has / b_size
        for i in np.argsort(-np.abs(difference))[:top]:
            parts, value = [], int(uniq[i])
            for _ in range(n):
                value, code_k = divmod(value, size)
                parts.append(log.event_names[code_k])
            rows.append({"length": n, "sequence": " → ".join(reversed(parts)),
                         "share_a": round(a_has[i] / a_size, 4), "share_b": round(b_has[i] / b_size, 4),
                         "difference": round(float(difference[i]), 4)})
    frame = pd.DataFrame(rows, columns=["length", "sequence", "share_a", "share_b", "difference"])
    return frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).head(top * 2) \
        .reset_index(drop=True)


def _distinct_sorted(users: np.ndarray) -> np.ndarray:
    """``np.unique`` of a log's user codes, by neighbour comparison when they are sorted (always, in a log)."""
    if len(users) < 2 or not (users[1:] >= users[:-1]).all():
        return np.unique(users)
    return users[np.append(True, users[1:] != users[:-1])]


DENSE_SEQUENCE_CODES = 1 << 22   # sequence codes counted in place (bins); more: renumbered first


def _users_per_sequence(code: np.ndarray, users: np.ndarray, a: np.ndarray, b: np.ndarray,
                        space: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sequence codes present (ascending) and how many distinct users of A and of B have each.

    ``users`` is non-decreasing (a sorted log), so a stable grouping by code keeps each code's users
    sorted and a (code, user) pair is new where either differs from its neighbour: no sort of
    (code, user) keys. Codes from a huge alphabet are renumbered first (``np.unique``).
    """
    if space > DENSE_SEQUENCE_CODES:
        present, code = np.unique(code, return_inverse=True)
        space = len(present)
    else:
        present = None
    order = group_order(code, space)
    code, users = code[order], users[order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = (code[1:] != code[:-1]) | (users[1:] != users[:-1])
    code, users = code[first], users[first]
    a_has = np.bincount(code[a[users]], minlength=space)
    b_has = np.bincount(code[b[users]], minlength=space)
    used = np.flatnonzero(a_has + b_has) if present is None else np.arange(space)
    return (used if present is None else present), a_has[used], b_has[used]


# --- two periods as the groups ---------------------------------------------------------------------


def parse_period(text: str) -> tuple[int | None, int | None]:
    """"2026-04-13..2026-05-04" as UTC milliseconds [start, end); an empty side is open.

    >>> parse_period("2024-01-01..2024-01-08")
    (1704067200000, 1704672000000)
    >>> parse_period("..2024-01-08")
    (None, 1704672000000)
    """
    from journey_explorer.analysis.common import to_ms
    if not text or ".." not in text:
        raise JourneyError(f"A period must look like START..END (e.g. 2026-04-13..2026-05-04), not '{text}'")
    start, end = (part.strip() for part in text.split("..", 1))
    bounds = (to_ms(start) if start else None, to_ms(end) if end else None)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
        raise JourneyError(f"The period '{text}' ends before it starts")
    return bounds


def _in_period(log: EventLog, bounds: tuple[int | None, int | None]) -> np.ndarray:
    keep = np.ones(len(log), dtype=bool)
    if bounds[0] is not None:
        keep &= log.ts >= bounds[0]
    if bounds[1] is not None:
        keep &= log.ts < bounds[1]
    return keep


def period_groups(log: EventLog, period_a: str | None, period_b: str | None):
    """Groups for two periods: A = the paths active in period A with their events in it, B likewise.

    A path active in both periods appears in both groups, so the compared log holds two copies of
    the user codes: A's keep their codes, B's are shifted by ``log.n_users`` ("user (period B)").
    """
    import pandas as pd
    if not (period_a and period_b):
        missing = "b" if period_a else "a"
        raise OptionError(f"period_{missing}", "compare by periods needs both periods: {option} is missing",
                          default_name=f"period {missing.upper()}")
    in_a, in_b = _in_period(log, parse_period(period_a)), _in_period(log, parse_period(period_b))
    part_a, part_b = subset(log, in_a), subset(log, in_b)
    offset = log.n_users
    properties = log.properties()
    both = replace(
        log, user=np.concatenate([part_a.user, part_b.user + offset]).astype(np.int32),
        event=np.concatenate([part_a.event, part_b.event]), ts=np.concatenate([part_a.ts, part_b.ts]),
        session=np.concatenate([part_a.session, part_b.session + (int(log.session.max()) + 1 if len(log) else 0)]),
        user_keys=np.concatenate([log.user_keys, np.array([f"{k} (period B)" for k in log.user_keys], dtype=object)]),
        user_properties=pd.concat([properties, properties], ignore_index=True),
        event_properties={})
    codes = np.arange(2 * offset)
    return both, codes < offset, codes >= offset, (f"period {period_a}", f"period {period_b}"), \
        "Each group holds the paths active in its period, with their events in that period only."
