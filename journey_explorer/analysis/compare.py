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
when an expected count is below 5, else chi-square) and the Benjamini-Hochberg q-value; sorted by
absolute difference. Also a step matrix (share of group A's paths with event e at step k minus B's)
and the 2- and 3-event sequences that distinguish the groups most.

Who: the same statistics for every property value (first touch per path), q-values across all
values of all properties (``Result.who``); ``--breakdown PROPERTY`` adds each value's group sizes
and the share of its paths in group A (``Result.breakdown``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from journey_explorer.analysis.arrays import distinct_count, first_time_of, step_index, users_with_event
from journey_explorer.analysis.common import add_breakdown_argument, subset, users_matching
from journey_explorer.analysis.eventlog import EventLog
from journey_explorer.analysis.interval import parse_duration
from journey_explorer.domain import JourneyError

NEEDS_USER_PROPERTIES = True     # breakdowns / segments / CSAT and revenue are user properties

SEGMENT_DEFINES_GROUPS = True
MATRIX_STEPS = 10


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

    def to_json_dict(self) -> dict:
        def records(frame):
            return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                    for r in frame.to_dict("records")]
        return {"groups": {"a": self.labels[0], "b": self.labels[1]},
                "sizes": {"a": self.group_sizes[0], "b": self.group_sizes[1]}, "note": self.note,
                "property_value": "first touch", "events": records(self.events),
                "transitions": records(self.transitions),
                "step_matrix": records(self.step_matrix), "sequences": records(self.sequences),
                "who": records(self.who) if self.who is not None else [],
                "who_outcomes": self.who.attrs.get("outcomes", []) if self.who is not None else [],
                "breakdown_property": self.spec.breakdown,
                "breakdown": records(self.breakdown) if self.breakdown is not None else None}

    def to_frame(self) -> pd.DataFrame:
        parts = [self.events.assign(kind="event"), self.transitions.assign(kind="transition")]
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


def _effect_table(names: list[str], a_has, a_size, b_has, b_size, label: str) -> pd.DataFrame:
    keep = (a_has + b_has) > 0
    a_has, b_has = a_has[keep], b_has[keep]
    odds, p = _test(a_has, a_size, b_has, b_size)
    a_share, b_share = a_has / max(a_size, 1), b_has / max(b_size, 1)
    frame = pd.DataFrame({label: np.array(names, dtype=object)[keep], "users_a": a_has, "users_b": b_has,
                          "share_a": np.round(a_share, 4), "share_b": np.round(b_share, 4),
                          "difference": np.round(a_share - b_share, 4), "odds_ratio": np.round(odds, 3),
                          "p_value": p, "q_value": benjamini_hochberg(p)})
    frame = frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return frame


def _has_counts(keys: np.ndarray, users: np.ndarray, size: int, group: np.ndarray) -> np.ndarray:
    mask = group[users]
    return distinct_count(keys[mask], users[mask], size)


def run(log: EventLog, spec: Spec, progress=None) -> Result:
    compared, a, b, labels, note = _groups(log, spec)
    periods = bool(spec.period_a or spec.period_b)
    present = np.unique((compared if periods else log).user)    # periods: two copies
    a_size, b_size = int(a[present].sum()), int(b[present].sum())
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
    return Result(spec=spec, labels=labels, group_sizes=(a_size, b_size), events=events, transitions=transitions,
                  step_matrix=_step_matrix(compared, a, b, a_size, b_size),
                  sequences=_sequences(compared, a, b, a_size, b_size, spec.top_sequences), note=note,
                  # Two periods: the groups hold copies of the same paths, so "who" has nothing to tell apart.
                  who=None if periods else _who(log, spec, a, b),
                  breakdown=None if periods else _breakdown(log, spec, a, b))


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
    parser.add_argument("--period-a", help="compare two periods: paths active in START..END (END exclusive)")
    parser.add_argument("--period-b", help="...with paths active in START..END, e.g. 2026-04-13..2026-05-04")
    add_breakdown_argument(parser)


def spec_from_args(args, log: EventLog) -> Spec:
    segment = args.segment[0] if args.segment and args.vs else None
    periods = getattr(args, "period_a", None) or getattr(args, "period_b", None)
    goal = args.goal or (None if (segment or args.did or periods) else log.default_goal)
    return Spec(goal=goal, within_ms=parse_duration(args.within) if args.within else None,
                segment=segment, versus=args.vs, did=args.did, breakdown=getattr(args, "breakdown", None),
                match=getattr(args, "match", "first"),
                period_a=getattr(args, "period_a", None), period_b=getattr(args, "period_b", None))


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
    if not (period_a and period_b):
        raise JourneyError("compare by periods needs both --period-a and --period-b")
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
