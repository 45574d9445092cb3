"""Compare two groups of paths: successful vs failing, one segment vs another, or did vs did not.

Groups:
- ``--goal EVENT [--within DURATION]``: A = users who reach the goal (within the duration from their
  first event), B = the rest. Only what happened *before* reaching the goal is compared, so the goal
  and its aftermath do not explain themselves.
- ``--segment "prop=value" --vs "prop=value"``: user properties (the project keeps the last value
  imported for each user, so properties are compared as "last value").
- ``--did EVENT``: A = users who did it at least once, B = the others.

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
not pass: failing users must also do it more than successful users do at any time.

Also a step matrix (share of group A's paths with event e at step k minus B's) and the 2- and
3-event sequences that distinguish the groups most.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from journey_explorer.analysis.arrays import distinct_count, first_time_of, step_index, users_with_event
from journey_explorer.analysis.common import subset, users_matching
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.analysis.interval import parse_duration
from journey_explorer.domain import JourneyError

NEEDS_USER_PROPERTIES = True     # breakdowns / segments / CSAT and revenue are user properties

SEGMENT_DEFINES_GROUPS = True
MATRIX_STEPS = 10
ROUTE_SHARE = 0.8        # share of successful paths that pass a step just before the goal
ROUTE_WINDOW = 10        # steps back from the goal (within the goal's visit) that count as "just before"
MIN_ROUTE_USERS = 20     # successful paths needed before anything is called a route
MIN_SUPPORT = 20         # users (both groups) an event needs before its difference is reported
MIN_AFTER_GOAL_EXCESS = 0.05   # failing users must beat successful users' any-time share by this much


@dataclass(frozen=True)
class Spec:
    goal: str | None = None
    within_ms: int | None = None
    segment: str | None = None
    versus: str | None = None
    did: str | None = None
    top_sequences: int = 15


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
    route: pd.DataFrame | None = None      # goal groups: steps just before the goal (not ranked)

    def to_json_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"groups": {"a": self.labels[0], "b": self.labels[1]},
                "sizes": {"a": self.group_sizes[0], "b": self.group_sizes[1]}, "note": self.note,
                "property_value": "last", "events": records(self.events), "transitions": records(self.transitions),
                "step_matrix": records(self.step_matrix), "sequences": records(self.sequences),
                "route": records(self.route) if self.route is not None else []}

    def to_frame(self) -> pd.DataFrame:
        parts = [self.events.assign(kind="event"), self.transitions.assign(kind="transition")]
        if self.route is not None and len(self.route):
            parts.insert(1, self.route.assign(kind="route"))
        return pd.concat(parts, ignore_index=True)


def _groups(log: EventLog, spec: Spec) -> tuple[EventLog, np.ndarray, np.ndarray, tuple[str, str], str]:
    """(log to compare, mask of group A users, mask of group B users, labels, note)."""
    if spec.segment and spec.versus:
        a, b = users_matching(log, [spec.segment]), users_matching(log, [spec.versus])
        return log, a & ~b, b & ~a, (spec.segment, spec.versus), "Users in both segments are left out."
    if spec.did:
        did = users_with_event(log, log.event_code(spec.did))
        return log, did, ~did, (f"did {spec.did}", f"did not {spec.did}"), ""
    if not spec.goal:
        raise JourneyError("compare needs --goal EVENT, --segment A --vs B, or --did EVENT")
    first_goal = first_time_of(log, log.event_code(spec.goal))
    reached = first_goal != np.iinfo(np.int64).max
    if spec.within_ms is not None:
        first_event = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
        starts = np.flatnonzero(log.path_starts())
        first_event[log.user[starts]] = log.ts[starts]
        reached &= first_goal - first_event <= spec.within_ms
    before_goal = log.ts < first_goal[log.user]
    note = f"Events at or after {spec.goal} are left out, so the goal does not explain itself."
    return subset(log, before_goal), reached, ~reached, ("successful", "failing"), note


def _test(a_has: np.ndarray, a_size: int, b_has: np.ndarray, b_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Odds ratios and p-values for 2x2 tables [has, has not] x [A, B]."""
    odds, pvalues = np.empty(len(a_has)), np.empty(len(a_has))
    for i, (x, y) in enumerate(zip(a_has, b_has)):
        table = np.array([[x, a_size - x], [y, b_size - y]], dtype=float)
        cells = table + 0.5 if (table == 0).any() else table
        odds[i] = (cells[0, 0] * cells[1, 1]) / (cells[0, 1] * cells[1, 0])
        expected = table.sum(1)[:, None] * table.sum(0)[None, :] / max(table.sum(), 1)
        if (table.sum(0) == 0).any() or (table.sum(1) == 0).any():
            pvalues[i] = 1.0
        elif (expected < 5).any():
            pvalues[i] = stats.fisher_exact(table)[1]
        else:
            pvalues[i] = stats.chi2_contingency(table, correction=True)[1]
    return odds, np.clip(pvalues, 0, 1)


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """q-values (monotone, capped at 1).

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if not len(pvalues):
        return pvalues
    order = np.argsort(pvalues)
    ranked = pvalues[order] * len(pvalues) / np.arange(1, len(pvalues) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def route_to_goal(log: EventLog, goal: int) -> pd.DataFrame:
    """Steps at least ``ROUTE_SHARE`` of successful paths take just before their first goal (in the
    goal's visit, at most ``ROUTE_WINDOW`` steps back): event, paths and share of successful paths.
    Empty with fewer than ``MIN_ROUTE_USERS`` successful paths."""
    hits = np.flatnonzero(log.event == goal)
    first = hits[np.append(True, log.user[hits][1:] != log.user[hits][:-1])]
    if len(first) < MIN_ROUTE_USERS:
        return pd.DataFrame(columns=["event", "successful_paths", "share", "failing_share"])
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
    pairs = np.unique(codes.astype(np.int64) * len(first) + owner)
    paths = np.bincount(pairs // len(first), minlength=len(log.event_names))
    share = paths / len(first)
    # A step failing paths take at least as often (a browsing page) is not a route they missed.
    failing = ~users_with_event(log, goal)
    failing_share = distinct_count(log.event[failing[log.user]], log.user[failing[log.user]],
                                   len(log.event_names)) / max(int(failing[np.unique(log.user)].sum()), 1)
    keep = np.flatnonzero((share >= ROUTE_SHARE) & (np.arange(len(share)) != goal) & (share > failing_share))
    frame = pd.DataFrame({"event": [log.event_names[c] for c in keep], "successful_paths": paths[keep],
                          "share": np.round(share[keep], 4), "failing_share": np.round(failing_share[keep], 4)})
    return frame.sort_values("share", ascending=False, ignore_index=True)


def _effect_table(names: list[str], a_has, a_size, b_has, b_size, label: str) -> pd.DataFrame:
    keep = (a_has + b_has) > 0
    a_has, b_has = a_has[keep], b_has[keep]
    odds, p = _test(a_has, a_size, b_has, b_size)
    a_share, b_share = a_has / max(a_size, 1), b_has / max(b_size, 1)
    frame = pd.DataFrame({label: np.array(names, dtype=object)[keep], "users_a": a_has, "users_b": b_has,
                          "share_a": np.round(a_share, 4), "share_b": np.round(b_share, 4),
                          "difference": np.round(a_share - b_share, 4), "odds_ratio": np.round(odds, 3),
                          "p_value": p})
    return _rank(frame)


def _rank(frame: pd.DataFrame) -> pd.DataFrame:
    """q-values over the rows given, ``passes`` (q < 0.05 and ``MIN_SUPPORT`` users), passing rows first,
    then by absolute difference."""
    frame = frame.assign(q_value=benjamini_hochberg(frame["p_value"].to_numpy(float)))
    frame["passes"] = (frame["q_value"] < 0.05) & (frame["users_a"] + frame["users_b"] >= MIN_SUPPORT)
    frame["_size"] = frame["difference"].abs()
    frame = frame.sort_values(["passes", "_size"], ascending=False).drop(columns="_size")
    return frame.reset_index(drop=True)


def _has_counts(keys: np.ndarray, users: np.ndarray, size: int, group: np.ndarray) -> np.ndarray:
    mask = group[users]
    return distinct_count(keys[mask], users[mask], size)


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    compared, a, b, labels, note = _groups(log, spec)
    a_size, b_size = int(a[np.unique(log.user)].sum()), int(b[np.unique(log.user)].sum())
    if not a_size or not b_size:
        raise JourneyError(f"one of the groups is empty ({labels[0]}: {a_size}, {labels[1]}: {b_size} users)")
    size = len(compared.event_names)
    names = list(compared.event_names)
    events = _effect_table(names, _has_counts(compared.event, compared.user, size, a), a_size,
                           _has_counts(compared.event, compared.user, size, b), b_size, "event")
    same = compared.user[1:] == compared.user[:-1]
    pair = compared.event[:-1][same].astype(np.int64) * size + compared.event[1:][same]
    pair_users = compared.user[:-1][same]
    pair_names = [f"{names[i // size]} → {names[i % size]}" for i in range(size * size)]
    transitions = _effect_table(pair_names, _has_counts(pair, pair_users, size * size, a), a_size,
                                _has_counts(pair, pair_users, size * size, b), b_size, "transition")
    route = None
    if _is_goal_groups(spec):
        route = route_to_goal(log, log.event_code(spec.goal))
        # Route steps are not hypotheses: the false discovery rate is controlled over behaviours only.
        events = _rank(events[~events["event"].isin(route["event"])])
        events = _not_after_the_goal(events, log, a, a_size, b_size)
    return Result(spec=spec, labels=labels, group_sizes=(a_size, b_size), events=events, transitions=transitions,
                  step_matrix=_step_matrix(compared, a, b, a_size, b_size),
                  sequences=_sequences(compared, a, b, a_size, b_size, spec.top_sequences), note=note, route=route)


def _not_after_the_goal(events: pd.DataFrame, log: EventLog, a: np.ndarray, a_size: int,
                        b_size: int) -> pd.DataFrame:
    """Failing paths are compared whole, successful ones only before the goal; an event that ends every
    path (a ticket's "Closed") would read "failing users do it more". ``share_a_any_time`` is the share
    of successful users who do it at all; a "failing users do it more" row passes only when failing users
    also do it more than that (by ``MIN_AFTER_GOAL_EXCESS`` and a one-sided Fisher test)."""
    size = len(log.event_names)
    any_time = _has_counts(log.event, log.user, size, a) / max(a_size, 1)
    codes = [log.event_names.index(name) for name in events["event"]]
    events = events.assign(share_a_any_time=np.round(any_time[codes], 4) if codes else [])
    a_any = np.round(any_time[codes] * a_size).astype(int) if codes else np.zeros(0, dtype=int)
    beyond = [(b - a_share >= MIN_AFTER_GOAL_EXCESS) and
              stats.fisher_exact([[ub, b_size - ub], [ua, a_size - ua]], alternative="greater")[1] < 0.05
              for b, a_share, ub, ua in zip(events["share_b"], events["share_a_any_time"], events["users_b"], a_any)]
    artefact = (events["difference"] < 0) & ~np.array(beyond, dtype=bool)
    events["passes"] = events["passes"] & ~artefact
    return events.sort_values(["passes"], ascending=False, kind="stable").reset_index(drop=True)


def _is_goal_groups(spec: Spec) -> bool:
    return bool(spec.goal) and not (spec.segment and spec.versus) and not spec.did


def _step_matrix(log: EventLog, a, b, a_size, b_size) -> pd.DataFrame:
    """Share of A's paths with event e at step k minus B's share, k = 1..10."""
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
        code, users = code[same], log.user[:len(log) - n + 1][same]
        pairs = np.unique(code * (log.n_users + 1) + users)
        seq, owner = pairs // (log.n_users + 1), pairs % (log.n_users + 1)
        uniq, inverse = np.unique(seq, return_inverse=True)
        a_has = np.bincount(inverse[a[owner]], minlength=len(uniq))
        b_has = np.bincount(inverse[b[owner]], minlength=len(uniq))
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


def add_arguments(parser) -> None:
    parser.add_argument("--goal", help="compare users who reach this event with the rest")
    parser.add_argument("--within", help="...reaching it within this time of their first event, e.g. 14d")
    parser.add_argument("--vs", help='with --segment "prop=value": the other group, e.g. "plan=Free"')
    parser.add_argument("--did", help="compare users who did this event with those who did not")


def spec_from_args(args, log: EventLog) -> Spec:
    segment = args.segment[0] if args.segment and args.vs else None
    goal = args.goal or (None if (segment or args.did) else log.default_goal)
    return Spec(goal=goal, within_ms=parse_duration(args.within) if args.within else None,
                segment=segment, versus=args.vs, did=args.did)
